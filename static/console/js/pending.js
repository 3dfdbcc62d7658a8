// A chatbox's requests in flight: texts, notes and commands sent with a
// `client_id` the server's `ack` or `error` names again (the dock hands those
// back to the chatbox that sent them, and the socket re-sends unanswered
// ones after a reconnect).
//
// A text shows at once as a pending bubble; the ack turns it into the message,
// an error takes it back and returns the text to the composer with the reason
// (at quiet hours, with "Schedule it for ..."). A text with images goes over
// HTTP instead (mms.js), its bubble showing the local previews meanwhile.

import { clock } from "./format.js";
import { sendMms } from "./mms.js";

function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export class PendingSends {
  /**
   * @param {object} options
   * @param {number} options.conversationId
   * @param {import("./state.js").Store} options.store
   * @param {import("./socket.js").ConsoleSocket} options.socket
   * @param {import("./history.js").History} options.history  where pending bubbles go
   * @param {import("./thread.js").Thread} options.thread  redrawn as sends move
   * @param {import("./composer.js").Composer} options.composer  gets refused texts back
   * @param {import("./mms.js").ImagePicker} options.picker  gets refused images back
   * @param {() => number} options.leadId  the lead notes are added to
   * @param {(clientId: string) => void} options.own  routes the answer to this chatbox
   */
  constructor({ conversationId, store, socket, history, thread, composer, picker, leadId, own }) {
    this.id = conversationId;
    this.store = store;
    this.socket = socket;
    this.history = history;
    this.thread = thread;
    this.composer = composer;
    this.picker = picker;
    this.leadId = leadId;
    this.own = own;
    this.requests = new Map(); // client_id -> {text, extra, kind}
    this.resending = new Map(); // failed message id -> client_id of its resend
  }

  /** The composer's send: a text, a text with images, or a note. */
  send(text, extra) {
    const clientId = newClientId();
    if (extra.note) {
      this.requests.set(clientId, { text, kind: "note" });
      this.own(clientId);
      this.socket.request({ type: "note.add", lead: this.leadId(), body: text, client_id: clientId });
      return;
    }
    if (extra.images) {
      this.sendWithImages(text, extra, clientId);
      return;
    }
    const agent = this.store.agent || {};
    this.history.addPending({
      id: 0,
      client_id: clientId,
      conversation: this.id,
      direction: "out",
      kind: "text",
      body: text,
      status: "pending",
      author: agent.id,
      author_name: agent.name,
      created_at: new Date().toISOString(),
    });
    this.requests.set(clientId, { text, extra, kind: "text" });
    this.own(clientId);
    const frame = { type: "message.send", conversation: this.id, body: text, client_id: clientId };
    if (extra.category) frame.category = extra.category;
    if (extra.schedule) frame.schedule = true;
    if (extra.later) {
      frame.send_at = extra.later.sendAt;
      frame.cancel_on_reply = extra.later.cancelOnReply;
    }
    this.socket.request(frame);
    this.thread.followNewest(); // jump to the new message
    this.thread.render();
  }

  /** A text with images goes over HTTP (multipart), not the socket: the
   * pending bubble shows the local previews until the server has it. */
  async sendWithImages(text, extra, clientId) {
    const agent = this.store.agent || {};
    const entries = extra.images;
    this.history.addPending({
      id: 0,
      client_id: clientId,
      conversation: this.id,
      direction: "out",
      kind: "text",
      body: text,
      status: "pending",
      author: agent.id,
      author_name: agent.name,
      created_at: new Date().toISOString(),
      encoding: "MMS",
      attachments: entries.map((e, i) => ({ id: -i - 1, status: "accepted", url: e.url })),
    });
    this.thread.followNewest();
    this.thread.render();
    try {
      const message = await sendMms(this.id, {
        text, entries, clientId, category: extra.category, schedule: extra.schedule,
      });
      this.history.dropPending(clientId);
      this.history.upsert(message);
      this.picker.release(entries);
    } catch (error) {
      // Nothing is lost: the text and the images go back in the composer.
      this.history.dropPending(clientId);
      this.composer.restore(text);
      this.picker.restore(entries);
      this.composer.showError(error.reason || error.message);
    }
    this.thread.render();
  }

  /** Send a failed text again (a new message, linked to it); the thread
   * shows "Resending…" on it until the server answers. */
  resend(message) {
    const clientId = newClientId();
    this.requests.set(clientId, { kind: "resend", message: message.id });
    this.resending.set(message.id, clientId);
    this.own(clientId);
    this.socket.request({ type: "message.resend", message: message.id, client_id: clientId });
    this.thread.followNewest(); // the new copy shows at the bottom
  }

  isResending(messageId) {
    return this.resending.has(messageId);
  }

  /** A change to the lead (assign, reopen...): its refusal, if any, is
   * shown here; its effect arrives as events. */
  command(frame) {
    const clientId = newClientId();
    this.own(clientId);
    this.socket.request({ ...frame, client_id: clientId });
  }

  requestConsent() {
    const clientId = newClientId();
    this.requests.set(clientId, { kind: "consent" });
    this.own(clientId);
    this.socket.request({ type: "consent.request", conversation: this.id, client_id: clientId });
  }

  confirmOptout(message) {
    const clientId = newClientId();
    this.requests.set(clientId, { kind: "optout" });
    this.own(clientId);
    this.socket.request({ type: "consent.confirm_optout", message: message.id, client_id: clientId });
  }

  dismissOptout(message) {
    const clientId = newClientId();
    this.requests.set(clientId, { kind: "optout" });
    this.own(clientId);
    this.socket.request({ type: "consent.dismiss_optout", message: message.id, client_id: clientId });
  }

  /** The server accepted a send: the pending bubble becomes the message. */
  onAck(frame) {
    const request = this.requests.get(frame.client_id);
    this.requests.delete(frame.client_id);
    if (request && request.kind === "resend") {
      this.resending.delete(request.message);
      this.thread.render(true);
      return;
    }
    if (!request || request.kind !== "text") return;
    const pending = this.history.pending.get(frame.client_id);
    if (pending && frame.message) {
      this.history.dropPending(frame.client_id);
      if (!this.history.messages.has(frame.message)) {
        this.history.upsert({
          ...pending,
          id: frame.message,
          status: frame.status || "queued",
          scheduled_for: frame.scheduled_for || null,
          cancel_on_reply: Boolean(frame.cancel_on_reply),
        });
      }
    }
    this.thread.render();
  }

  /** The server refused a send: say why, and give the text back. */
  onError(frame) {
    const request = this.requests.get(frame.client_id);
    this.requests.delete(frame.client_id);
    if (!request) {
      this.composer.showError(frame.reason);
      return;
    }
    if (request.kind === "note") {
      // The note comes back, in the note tab, to be sent again.
      this.composer.restore(request.text, "note");
      this.composer.setMode("note");
    }
    if (request.kind === "resend") {
      this.resending.delete(request.message);
      this.thread.render(true);
    }
    if (request.kind === "text") {
      this.history.dropPending(frame.client_id);
      this.thread.render();
      this.composer.restore(request.text);
      const later = request.extra && request.extra.later;
      // Quiet hours, or a state's law holding a governed text: either says
      // when the text may go, and the composer offers to schedule it then.
      const holds = frame.code === "quiet_hours" || frame.code === "governor_hold";
      if (later && holds && frame.details && frame.details.next_allowed) {
        // The time picked is held: offer the first time allowed after it.
        const when = clock(frame.details.next_allowed);
        this.composer.showError(frame.reason, {
          label: `Schedule it for ${when} instead`,
          run: () => {
            this.composer.clearError();
            this.composer.send({ ...later, sendAt: frame.details.next_allowed });
          },
        });
        return;
      }
      if (holds && frame.details && frame.details.next_allowed_local) {
        const when = clock(frame.details.next_allowed_local.slice(0, 19));
        // The notice above the composer says why; the error only that the
        // text did not go, and the way out.
        this.composer.setSchedule(frame.reason, when);
        this.composer.showError("Not sent.", {
          label: `Schedule it for ${when}`,
          // Scheduled even if a refresh of the chatbox cleared the notice
          // meanwhile: this button says so.
          run: () => {
            this.composer.clearError();
            this.composer.send(null, true);
          },
        });
        return;
      }
    }
    this.composer.showError(frame.reason);
  }
}
