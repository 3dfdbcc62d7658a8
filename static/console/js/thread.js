// A chatbox's thread: the messages of its conversation and the lead's
// internal notes, by day, consecutive messages of one side grouped.
//
// History comes in pages: the newest when the chatbox opens (or reloads after
// a reconnect), older ones as the agent scrolls back, keeping their place.
// A thread at the bottom stays there whatever grows (new messages, images
// that load after them, a composer that grows). While the agent is looking at
// it (the chatbox says when), the thread marks the conversation read up to its
// newest message. A text that failed offers to be sent again.

import * as api from "./api.js";
import { h, icon, setText } from "./dom.js";
import { clock, dayHeading, dayKey, fullTime, STATUS } from "./format.js";
import { attachmentsView } from "./mms.js";

// Scrolled this close to the top, the next page of history loads.
const LOAD_MORE_AT_PX = 120;
// Consecutive messages of one side this close together share one group.
const GROUP_GAP_MS = 5 * 60 * 1000;
// Pages of history loaded, at most, to reach a message a search found.
const REVEAL_PAGES = 40;
// How long a message a search found stays marked.
const FOUND_MS = 8000;

const KIND_LABEL = {
  authorization_request: "Consent request",
  auto_reply: "Automatic reply",
};
// What sent an automatic reply (the message's `automation`).
const AUTOMATION_LABEL = {
  keyword: "Automatic reply · keyword",
  after_hours: "Automatic reply · after hours",
  optout_confirmation: "Automatic reply · opt-out confirmation",
};

export class Thread {
  /**
   * @param {object} options
   * @param {number} options.conversationId
   * @param {import("./state.js").Store} options.store
   * @param {import("./socket.js").ConsoleSocket} options.socket
   * @param {import("./history.js").History} options.history  the conversation's
   * @param {() => number} options.leadId  the lead, whose notes show here too
   * @param {() => boolean} options.isReading  whether the agent looks at it now
   * @param {(reason: string) => void} options.showError
   * @param {{confirm: (message: object) => void, dismiss: (message: object) => void}} options.optout
   *   what the buttons under a possible opt-out do
   * @param {{send: (message: object) => void, busy: (id: number) => boolean}} options.resend
   *   sends a failed text again; whether that is under way
   * @param {import("./scheduled.js").ScheduledTexts} [options.scheduled]  a
   *   scheduled text's time, Edit and Cancel
   */
  constructor({ conversationId, store, socket, history, leadId, isReading, showError, optout, resend,
    scheduled = null }) {
    this.id = conversationId;
    this.store = store;
    this.socket = socket;
    this.history = history;
    this.leadId = leadId;
    this.isReading = isReading;
    this.showError = showError;
    this.optout = optout;
    this.resend = resend;
    this.scheduled = scheduled;
    this.confirming = new Set(); // ids of unsure texts whose resend awaits a yes
    this.pinned = true; // at the bottom: stays there as the content grows
    this.lastTop = 0; // where the thread was last scrolled to
    this.renderedVersion = -1;
    this.scrolledOnce = false; // scrolled to the bottom once the first page was in
    this.loadingOlder = false;
    this.readSentUpTo = 0;
    this.refetching = false;

    this.olderButton = h("button", {
      type: "button",
      className: "older-button",
      hidden: true,
      onclick: () => this.loadOlder(),
    }, "Load earlier messages");
    this.historyStart = h("p", { className: "history-start", hidden: true }, "Start of the conversation");
    this.list = h("ol", { className: "messages", attrs: { "aria-label": "Messages" } });
    this.el = h("div", {
      className: "thread-scroll",
      tabIndex: 0,
      attrs: { role: "region", "aria-label": "Conversation history" },
      onscroll: () => this.onScroll(),
    }, this.olderButton, this.historyStart, this.list);
    // Whatever changes the height (an image that loads after the message, a
    // resized box, the phone's keyboard) keeps a thread at the bottom there.
    if (window.ResizeObserver) {
      this.resizes = new ResizeObserver(() => {
        if (this.pinned) this.scrollToBottom();
      });
      this.resizes.observe(this.list);
      this.resizes.observe(this.el);
    }
  }

  destroy() {
    if (this.resizes) this.resizes.disconnect();
  }

  // -- rendering ----------------------------------------------------------

  render(force = false) {
    if (!force && this.renderedVersion === this.history.version) return;
    this.renderedVersion = this.history.version;
    const atBottom = this.pinned || this.distanceFromBottom() < 60;
    const items = [];
    const resent = new Set(this.history.ordered().map((m) => m.resend_of).filter(Boolean));
    const notes = this.store.notes.get(this.leadId());
    const entries = this.history.ordered().map((m) => ({ at: m.created_at, message: m }));
    if (notes) {
      const oldest = this.history.more && this.history.oldestLoaded
        ? (this.history.messages.get(this.history.oldestLoaded) || {}).created_at : null;
      for (const note of notes.values()) {
        if (!oldest || note.created_at >= oldest) entries.push({ at: note.created_at, note });
      }
      entries.sort((a, b) => (a.at || "").localeCompare(b.at || ""));
    }
    let lastDay = null;
    let previous = null;
    for (const entry of entries) {
      const day = entry.at ? dayKey(entry.at) : lastDay;
      if (day !== lastDay) {
        items.push(h("li", { className: "day" }, h("span", {}, dayHeading(entry.at))));
        lastDay = day;
        previous = null;
      }
      if (entry.note) {
        items.push(this.noteItem(entry.note));
        previous = null;
        continue;
      }
      const message = entry.message;
      const grouped = previous && previous.direction === message.direction &&
        previous.author === message.author &&
        new Date(message.created_at) - new Date(previous.created_at) < GROUP_GAP_MS;
      items.push(this.messageItem(message, grouped, resent.has(message.id)));
      previous = message;
    }
    if (!items.length && this.history.loaded) {
      items.push(h("li", { className: "thread-empty" }, "No messages yet. Say hello!"));
    }
    this.list.replaceChildren(...items);
    this.olderButton.hidden = !this.history.more || !this.history.loaded || !this.history.oldestLoaded;
    this.historyStart.hidden = this.history.more || !this.history.loaded || !entries.length;
    if (atBottom || !this.scrolledOnce) {
      this.scrollToBottom();
      if (this.history.loaded) this.scrolledOnce = true;
    }
  }

  distanceFromBottom() {
    return this.el.scrollHeight - this.el.scrollTop - this.el.clientHeight;
  }

  /** The next render scrolls to the bottom (a message the agent just sent,
   * a reload), wherever the agent had scrolled to. */
  followNewest() {
    this.scrolledOnce = false;
    this.pinned = true;
  }

  scrollToBottom() {
    this.el.scrollTop = this.el.scrollHeight;
    this.lastTop = this.el.scrollTop;
    this.pinned = true;
  }

  messageItem(message, grouped, resent = false) {
    const out = message.direction === "out";
    const me = this.store.agent && message.author === this.store.agent.id;
    const status = out ? STATUS[message.status] || { label: message.status, icon: "clock", tone: "muted" } : null;
    const meta = [h("time", { dateTime: message.created_at || "", title: fullTime(message.created_at) },
      clock(message.created_at))];
    if (out && message.author_name && !me) meta.unshift(h("span", { className: "author" }, message.author_name));
    if (out && !message.author) {
      const label = AUTOMATION_LABEL[message.automation] || KIND_LABEL[message.kind] || "Automatic";
      meta.unshift(h("span", { className: "author", dataset: { testid: "automatic" } }, label));
    }
    // An MMS is billed as one MMS message, not by segments: say which it was.
    if (message.encoding === "MMS") {
      meta.push(h("span", { className: "mms-chip", title: "An MMS: billed as one message, whatever its length" }, "MMS"));
    }
    const category = message.category && (this.store.categories || []).find((c) => c.id === message.category);
    if (category) {
      meta.push(h("span", {
        className: "category-chip",
        dataset: { testid: "category" },
        title: `Category: ${category.name}`,
      }, category.name));
    }
    if (out) {
      let label = status.label;
      if (message.status === "scheduled" && message.scheduled_for) {
        label = `Scheduled for ${clock(message.scheduled_for)}`;
      }
      meta.push(h("span", {
        className: `status ${status.tone}`,
        dataset: { testid: "status" },
        attrs: { "aria-label": `Status: ${label}` },
      }, icon(status.icon, "icon status-icon"), label));
    }
    const failed = out && ["failed", "undelivered", "check"].includes(message.status);
    const failure = failed && (message.error_reason || this.resendable(message))
      ? h("div", { className: "failure", attrs: { role: "note" } },
        message.error_reason ? h("span", {}, message.error_reason) : null,
        this.resendControls(message, resent)) : null;
    if (message.resend_of) meta.push(h("span", { className: "resent-chip" }, "Resent"));
    const optout = !out && message.possible_optout ? h("div", { className: "optout-flag" },
      "This may be a request to stop texting.",
      h("button", {
        type: "button",
        className: "link-button",
        onclick: () => this.optout.confirm(message),
      }, "Confirm opt-out"),
      h("button", {
        type: "button",
        className: "link-button",
        onclick: () => this.optout.dismiss(message),
      }, "Not an opt-out")) : null;
    const kind = KIND_LABEL[message.kind] && message.author ? h("div", { className: "kind" }, KIND_LABEL[message.kind]) : null;
    return h(
      "li",
      {
        className: `msg ${out ? "out" : "in"}${grouped ? " grouped" : ""}${message.status === "pending" ? " pending" : ""}${message.status === "cancelled" ? " cancelled" : ""}${message.id && message.id === this.found ? " found" : ""}`,
        dataset: {
          testid: "message",
          messageId: message.id ? String(message.id) : "",
          status: message.status,
          direction: message.direction,
        },
      },
      kind,
      attachmentsView(message),
      message.body || !(message.attachments || []).length ? h("div", { className: "bubble" }, message.body) : null,
      failure,
      this.scheduled ? this.scheduled.view(message) : null,
      optout,
      h("div", { className: "msg-meta" }, meta),
    );
  }

  /** Whether the agent may be offered to send a failed text again. */
  resendable(message) {
    return message.kind === "text" && Boolean(message.author) && Boolean(message.id);
  }

  /** "Resend" under a failed text; for an unsure one (status check, it may
   * have reached the lead) a second step asks first; "Resent" once it was. */
  resendControls(message, resent) {
    if (!this.resendable(message)) return null;
    if (resent) return h("span", { className: "resend-done" }, "Resent below");
    if (this.resend.busy(message.id)) return h("span", { className: "resend-done" }, "Resending…");
    const send = () => {
      this.confirming.delete(message.id);
      this.resend.send(message);
      this.render(true);
    };
    if (this.confirming.has(message.id)) {
      return h("span", { className: "resend-confirm" },
        "It may have reached the lead. Send it again anyway?",
        h("button", { type: "button", className: "link-button", dataset: { testid: "resend-confirm" }, onclick: send },
          "Send again"),
        h("button", {
          type: "button",
          className: "link-button",
          onclick: () => {
            this.confirming.delete(message.id);
            this.render(true);
          },
        }, "Cancel"));
    }
    return h("button", {
      type: "button",
      className: "link-button resend-button",
      dataset: { testid: "resend" },
      attrs: { "aria-label": `Resend: ${message.body.slice(0, 60)}` },
      onclick: () => {
        if (message.status !== "check") {
          send();
          return;
        }
        this.confirming.add(message.id);
        this.render(true);
        this.el.querySelector("[data-testid=resend-confirm]")?.focus();
      },
    }, "Resend");
  }

  noteItem(note) {
    return h("li", { className: "note", dataset: { testid: "note" } },
      h("div", { className: "note-head" }, icon("note"), "Internal note",
        note.author_name ? ` · ${note.author_name}` : "",
        h("time", { dateTime: note.created_at || "", title: fullTime(note.created_at) },
          ` · ${clock(note.created_at)}`)),
      h("div", { className: "note-body" }, note.body || ""));
  }

  // -- history pages ------------------------------------------------------

  /** Load (or reload, after a reconnect) the newest page of history. */
  loadLatest() {
    this.latest = this.fetchLatest();
    return this.latest;
  }

  async fetchLatest() {
    try {
      const page = await api.history(this.id);
      this.history.addPage(page);
      this.render();
      this.maybeMarkRead();
    } catch (error) {
      this.showHistoryError(error);
    }
  }

  /** After a reconnect that could not replay: forget what was loaded (it may
   * have a gap now) and start again from the newest page. */
  reload() {
    this.history.reset();
    this.followNewest();
    this.loadLatest();
  }

  async loadOlder() {
    if (this.loadingOlder || !this.history.more || !this.history.oldestLoaded) return;
    this.loadingOlder = true;
    this.olderButton.disabled = true;
    setText(this.olderButton, "Loading…");
    const before = this.el.scrollHeight - this.el.scrollTop;
    try {
      const page = await api.history(this.id, this.history.oldestLoaded);
      this.history.addPage(page, { older: true });
      this.render();
      // Keep the messages the agent was reading where they were.
      this.el.scrollTop = this.el.scrollHeight - before;
    } catch (error) {
      this.showHistoryError(error);
    } finally {
      this.loadingOlder = false;
      this.olderButton.disabled = false;
      setText(this.olderButton, "Load earlier messages");
    }
  }

  /** Show a message a search found: load history back to it, scroll it
   * into view and mark it for a few seconds. */
  async reveal(messageId) {
    this.found = messageId;
    if (!this.history.loaded) await this.latest;
    this.loadingOlder = true; // the pages come from here, not from scrolling
    try {
      for (let page = 0; !this.history.messages.has(messageId) && page < REVEAL_PAGES; page += 1) {
        if (!this.history.more || !this.history.oldestLoaded) break;
        this.history.addPage(await api.history(this.id, this.history.oldestLoaded), { older: true });
      }
    } catch (error) {
      this.showHistoryError(error);
      return;
    } finally {
      this.loadingOlder = false;
    }
    this.scrolledOnce = true; // stay at the message, not at the newest
    this.render(true);
    const item = this.list.querySelector(`[data-message-id="${messageId}"]`);
    if (item) {
      item.scrollIntoView({ block: "center" });
      // Stay at the message: growth below (images) must not pull it away.
      this.pinned = false;
      this.lastTop = this.el.scrollTop;
    }
    window.clearTimeout(this.foundTimer);
    this.foundTimer = window.setTimeout(() => {
      this.found = null;
      this.render(true);
    }, FOUND_MS);
  }

  showHistoryError(error) {
    this.showError(`Could not load the history: ${error.reason || error.message}`);
  }

  onScroll() {
    // Only the agent scrolling up unpins the thread: content that grew under
    // a pinned thread (an image loading) opens a gap without moving it up,
    // and the resize observer closes that gap.
    const top = this.el.scrollTop;
    if (top < this.lastTop - 1 || this.distanceFromBottom() < 4) {
      this.pinned = this.distanceFromBottom() < 4;
    }
    this.lastTop = top;
    if (this.el.scrollTop < LOAD_MORE_AT_PX) this.loadOlder();
  }

  // -- read marks ---------------------------------------------------------

  maybeMarkRead() {
    if (!this.history.loaded || !this.isReading()) return;
    const last = this.history.lastId();
    if (!last || this.store.unreadOf(this.id) === 0) return;
    if (last <= this.readSentUpTo) {
      // Still unread although we read up to our newest: a message reached
      // the server but not us (the doorbell can drop one). Fetch it.
      if (!this.refetching) {
        this.refetching = true;
        window.setTimeout(() => {
          this.refetching = false;
          if (this.store.unreadOf(this.id) > 0) this.loadLatest();
        }, 1500);
      }
      return;
    }
    this.readSentUpTo = last;
    this.socket.send({ type: "conversation.read", conversation: this.id, message: last }, `read:${this.id}`);
  }
}
