// The console's one WebSocket: connect, reconnect with backoff and jitter, and
// resume from the last event seen so that nothing is lost or applied twice.
//
// Frames from the server reach `onFrame(frame, info)`. The first frame of each
// connection is a `hello`. After a drop the socket asks the server to `resume`
// from the cursor of the last event it delivered; the server replays what was
// missed and says `resumed`, or answers `reload` (a fresh hello) when the gap
// is too large. Until then the durable cursor stays where it was, so a second
// drop during the catch-up resumes from the same place.
//
// Sends that must arrive (message.send, keyed by client_id) are kept until the
// server acknowledges or refuses them, and sent again after a reconnect; the
// server stores a client_id once, so a repeat never texts the lead twice.

// Event types that advance the cursor (see docs/protocol.md).
const EVENT_TYPES = new Set([
  "message.created",
  "message.status",
  "message.updated",
  "lead.created",
  "lead.updated",
  "consent.changed",
  "note.created",
]);

// Close codes after which reconnecting cannot help.
const CLOSE_UNAUTHENTICATED = 4401;
const CLOSE_NOT_AN_AGENT = 4403;
// The server restarts (1012) or is busy (1013): come back, but not all at once.
const CLOSE_RESTART = 1012;
const CLOSE_TRY_AGAIN = 1013;

export const BACKOFF = { base: 500, cap: 30000 };
// After a restart or a "try again", the first wait is spread over this window
// (ms), so that the consoles of a whole process do not all meet the next one
// at the same instant; then the usual backoff.
export const SPREAD = { min: 500, max: 5000 };

/**
 * The wait before reconnect attempt `attempt` (0-based): exponential, capped,
 * with "full jitter" so that a server restart is not met by every console at
 * the same instant.
 */
export function backoffDelay(attempt, random = Math.random) {
  const ceiling = Math.min(BACKOFF.cap, BACKOFF.base * 2 ** attempt);
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * The wait before reconnecting after the server said it restarts or is busy:
 * at random in SPREAD on the first attempt, never less than the backoff.
 */
export function spreadDelay(attempt, random = Math.random) {
  const spread = Math.round(SPREAD.min + random() * (SPREAD.max - SPREAD.min));
  return Math.max(spread, backoffDelay(attempt, random));
}

export class ConsoleSocket {
  /**
   * @param {object} options
   * @param {string} options.url  the socket URL
   * @param {(frame: object, info: object) => void} options.onFrame
   * @param {(state: object) => void} options.onStatus  connection changes
   */
  constructor({ url, onFrame, onStatus }) {
    this.url = url;
    this.onFrame = onFrame;
    this.onStatus = onStatus;
    this.ws = null;
    this.cursor = 0; // the last event delivered while live (durable)
    this.connected = false; // a hello was received on this connection
    this.live = false; // caught up: events arrive as they happen
    this.attempt = 0;
    this.timer = null;
    this.retryAt = 0;
    this.stopped = false;
    this.inflight = new Map(); // client_id -> frame, until ack/error
    this.queued = new Map(); // key -> frame, sent once live (latest wins)
    window.addEventListener("online", () => this.reconnectNow());
    window.addEventListener("offline", () => this.ws && this.ws.close());
  }

  start() {
    this.stopped = false;
    this.open();
  }

  status(state, extra = {}) {
    this.onStatus({ state, attempt: this.attempt, retryAt: this.retryAt, ...extra });
  }

  open() {
    window.clearTimeout(this.timer);
    this.timer = null;
    this.connected = false;
    this.live = false;
    this.status(this.cursor ? "reconnecting" : "connecting");
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.addEventListener("message", (event) => {
      if (ws !== this.ws) return;
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch {
        return; // not ours to understand; the server only sends JSON
      }
      this.receive(frame);
    });
    ws.addEventListener("close", (event) => {
      if (ws !== this.ws) return;
      this.ws = null;
      this.connected = false;
      this.live = false;
      if (event.code === CLOSE_UNAUTHENTICATED) {
        this.status("signed-out");
        window.location.assign(`/accounts/login/?next=${encodeURIComponent(location.pathname)}`);
        return;
      }
      if (event.code === CLOSE_NOT_AN_AGENT) {
        this.status("forbidden");
        return;
      }
      const spread = event.code === CLOSE_RESTART || event.code === CLOSE_TRY_AGAIN;
      if (!this.stopped) this.scheduleReconnect(spread);
    });
  }

  scheduleReconnect(spread = false) {
    const delay = spread ? spreadDelay(this.attempt) : backoffDelay(this.attempt);
    this.attempt += 1;
    this.retryAt = Date.now() + delay;
    this.status(navigator.onLine === false ? "offline" : "waiting");
    this.timer = window.setTimeout(() => this.open(), delay);
  }

  /** Skip the wait (the "Retry now" button, or the network coming back). */
  reconnectNow() {
    if (this.stopped || this.ws) return;
    this.attempt = Math.max(0, this.attempt - 1);
    this.open();
  }

  receive(frame) {
    const type = frame.type;
    if (type === "hello" && !this.connected) {
      this.connected = true;
      if (!this.cursor) {
        this.cursor = frame.cursor || 0;
        this.onFrame(frame, { first: true });
        this.goLive();
      } else {
        // Back after a drop: the hello refreshes summaries; the events we
        // missed come from the resume below.
        this.onFrame(frame, { first: false });
        this.status("resuming");
        this.rawSend({ type: "resume", cursor: this.cursor });
      }
      return;
    }
    if (type === "reload") {
      this.cursor = frame.cursor || this.cursor;
      this.onFrame(frame, { reload: true });
      this.goLive();
      return;
    }
    if (type === "resumed") {
      this.cursor = Math.max(this.cursor, frame.cursor || 0);
      this.onFrame(frame, {});
      this.goLive();
      return;
    }
    if (type === "ack" || type === "error") {
      if (frame.client_id) this.inflight.delete(frame.client_id);
    }
    if (EVENT_TYPES.has(type) && this.live && typeof frame.cursor === "number") {
      this.cursor = Math.max(this.cursor, frame.cursor);
    }
    this.onFrame(frame, {});
  }

  goLive() {
    this.live = true;
    this.attempt = 0;
    this.retryAt = 0;
    this.status("live");
    for (const frame of this.inflight.values()) this.rawSend(frame);
    for (const frame of this.queued.values()) this.rawSend(frame);
    this.queued.clear();
  }

  rawSend(frame) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  /**
   * Send a frame that must arrive and will be answered by ack/error with its
   * client_id; it is sent again after any reconnect until answered.
   */
  request(frame) {
    this.inflight.set(frame.client_id, frame);
    if (this.live) this.rawSend(frame);
  }

  /** Send now when live, else once live; a later frame with the same key wins. */
  send(frame, key = null) {
    if (this.live && this.rawSend(frame)) return;
    this.queued.set(key || `${frame.type}:${this.queued.size}`, frame);
  }

  /** Whether a request with this client_id still awaits its answer. */
  pending(clientId) {
    return this.inflight.has(clientId);
  }
}

/** The console socket's URL on this page's origin. */
export function consoleUrl() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}/ws/console/`;
}
