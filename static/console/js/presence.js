// Who else is on a conversation: "Bob is typing…", "Bob is viewing", so two
// agents do not answer one lead twice (docs/protocol.md, "Presence").
//
// `Presence` keeps what other agents' sockets reported, each report for as
// long as its `ttl` says (a report not repeated fades out, so an agent whose
// tab or server died disappears too). `Reporter` tells the server what this
// chatbox's agent does: viewing while the chatbox is read, typing while keys
// are pressed, gone when it closes or hides. Nothing here is stored anywhere.

// How often a report is repeated while it holds (the server's ttl is longer).
const VIEWING_EVERY_MS = 20_000;
const TYPING_EVERY_MS = 3_000;
// Typing stops counting this long after the last key.
const TYPING_IDLE_MS = 4_000;
// The server drops a report that repeats the last one sooner than this.
const REPEAT_AFTER_MS = 2_100;

export class Presence {
  constructor() {
    this.byConversation = new Map(); // id -> Map(socket -> {agent, name, state, until})
    this.listeners = new Map(); // id -> Set(fn)
    this.timers = new Map(); // id -> timeout that drops expired reports
    this.me = null; // this console's agent id (its other tabs are not shown)
    this.onAsk = () => {}; // someone asked who is on a conversation
  }

  /** A `presence` frame from the server. */
  apply(frame) {
    const id = frame.conversation;
    if (!this.byConversation.has(id)) this.byConversation.set(id, new Map());
    const reports = this.byConversation.get(id);
    if (frame.state === "gone" || !frame.ttl) {
      // "gone" names the agent, not the tab: their other tabs report again.
      for (const [socket, report] of reports) {
        if (socket === frame.socket || report.agent === frame.agent) reports.delete(socket);
      }
    } else {
      reports.set(frame.socket, {
        agent: frame.agent,
        name: frame.name,
        state: frame.state,
        until: Date.now() + frame.ttl * 1000,
      });
    }
    if (frame.ask) this.onAsk(id);
    this.changed(id);
  }

  /** Who is on a conversation now (others only), typing first, one entry per agent. */
  others(conversationId) {
    const now = Date.now();
    const byAgent = new Map();
    for (const report of (this.byConversation.get(conversationId) || new Map()).values()) {
      if (report.until <= now || report.agent === this.me) continue;
      const known = byAgent.get(report.agent);
      if (!known || (report.state === "typing" && known.state !== "typing")) {
        byAgent.set(report.agent, report);
      }
    }
    return [...byAgent.values()].sort(
      (a, b) => (a.state === "typing" ? 0 : 1) - (b.state === "typing" ? 0 : 1)
        || a.name.localeCompare(b.name),
    );
  }

  /** Listen to one conversation's changes; returns the way to stop. */
  on(conversationId, fn) {
    if (!this.listeners.has(conversationId)) this.listeners.set(conversationId, new Set());
    this.listeners.get(conversationId).add(fn);
    return () => this.listeners.get(conversationId).delete(fn);
  }

  changed(conversationId) {
    for (const fn of this.listeners.get(conversationId) || []) fn(this.others(conversationId));
    // Redraw when the next report runs out.
    window.clearTimeout(this.timers.get(conversationId));
    const reports = [...(this.byConversation.get(conversationId) || new Map()).values()];
    const now = Date.now();
    const next = Math.min(...reports.map((r) => r.until).filter((t) => t > now));
    if (Number.isFinite(next)) {
      this.timers.set(conversationId, window.setTimeout(() => this.changed(conversationId), next - now + 50));
    }
  }

  stopTyping() {
    if (this.state !== "typing") return;
    window.clearTimeout(this.idle);
    this.set("viewing");
  }

  /** After a reconnect: what was reported before may be stale. */
  clear() {
    const ids = [...this.byConversation.keys()];
    this.byConversation.clear();
    for (const id of ids) this.changed(id);
  }
}

/** "Bob is typing…", "Bob and Carol are viewing", or "" for nobody. */
export function presenceText(others) {
  const typing = others.filter((o) => o.state === "typing").map((o) => o.name);
  const viewing = others.filter((o) => o.state !== "typing").map((o) => o.name);
  const parts = [];
  if (typing.length) parts.push(`${names(typing)} ${typing.length === 1 ? "is" : "are"} typing…`);
  if (viewing.length) parts.push(`${names(viewing)} ${viewing.length === 1 ? "is" : "are"} viewing`);
  return parts.join(" · ");
}

function names(list) {
  if (list.length <= 2) return list.join(" and ");
  return `${list.slice(0, 2).join(", ")} and ${list.length - 2} more`;
}

/** What one chatbox's agent is doing, told to the server. */
export class Reporter {
  /**
   * @param {object} options
   * @param {number} options.conversationId
   * @param {(frame: object) => void} options.send  sends a frame when live
   */
  constructor({ conversationId, send }) {
    this.id = conversationId;
    this.send = send;
    this.state = "gone";
    this.sentAt = 0;
    this.asked = false;
    this.heartbeat = null;
    this.idle = null;
  }

  /** The chatbox is read (or not): viewing, or gone. */
  viewing(reading) {
    if (!reading) {
      this.set("gone");
      return;
    }
    if (this.state !== "typing") this.set("viewing");
  }

  /** A key pressed in the composer (texting the lead). */
  typing() {
    window.clearTimeout(this.idle);
    this.idle = window.setTimeout(() => this.set("viewing"), TYPING_IDLE_MS);
    this.set("typing");
  }

  stopTyping() {
    if (this.state !== "typing") return;
    window.clearTimeout(this.idle);
    this.set("viewing");
  }

  /** After a reconnect (a new socket, whose server knows nothing of this
   * one's reports): say it again, and ask who else is here. */
  restart() {
    const state = this.state;
    this.state = "gone";
    this.sentAt = 0;
    if (state !== "gone") this.set(state);
  }

  /** Someone asked who is here: say it again (not sooner than the server
   * takes a repeat). */
  repeat() {
    if (this.state === "gone") return;
    window.clearTimeout(this.answer);
    const wait = Math.max(0, REPEAT_AFTER_MS - (Date.now() - this.sentAt));
    this.answer = window.setTimeout(() => this.state !== "gone" && this.report(), wait);
  }

  set(state) {
    const every = state === "typing" ? TYPING_EVERY_MS : VIEWING_EVERY_MS;
    if (state === this.state && (state === "gone" || Date.now() - this.sentAt < every)) return;
    const wasGone = this.state === "gone";
    this.state = state;
    window.clearInterval(this.heartbeat);
    this.heartbeat = null;
    if (state === "gone") window.clearTimeout(this.idle);
    // The first report of a visit asks who else is here: they answer.
    this.report(wasGone && state !== "gone");
    if (state !== "gone") {
      this.heartbeat = window.setInterval(() => this.report(), every);
    }
  }

  report(ask = false) {
    this.sentAt = Date.now();
    // The client_id only names a refusal (a lead that left the agent's
    // view), which the console then ignores.
    const key = `presence:${this.id}`;
    const frame = { type: "presence", conversation: this.id, state: this.state, client_id: key };
    if (ask) frame.ask = true;
    this.send(frame, key);
  }

  stop() {
    this.set("gone");
    window.clearInterval(this.heartbeat);
    window.clearTimeout(this.idle);
    window.clearTimeout(this.answer);
  }
}
