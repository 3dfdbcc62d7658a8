// One conversation's loaded messages: kept by id, statuses only forward, and
// the sends still in flight (by client id) until the server answers them.

import { STATUS_RANK } from "./format.js";

export function forward(from, to) {
  return (STATUS_RANK[to] ?? 0) > (STATUS_RANK[from] ?? -1);
}

/** Two copies of one message (say, live and replayed): the newer fields, but
 * the furthest status of the two, with its error. */
export function mergeMessage(old, message) {
  const keep = forward(old.status, message.status) ? message : old;
  return {
    ...old,
    ...message,
    status: keep.status,
    error_code: keep.error_code,
    error_reason: keep.error_reason,
  };
}

/** The loaded messages of one conversation, by id, plus sends in flight. */
export class History {
  constructor(conversationId) {
    this.conversation = conversationId;
    this.messages = new Map(); // id -> message
    this.pending = new Map(); // client_id -> message being sent
    this.oldestLoaded = null; // the id history pages continue before
    this.more = true; // older pages exist on the server
    this.loaded = false; // the first page arrived
    this.version = 0; // bumped on every change, so views redraw only when needed
  }

  /** Add or update a message; whether it was new. A sent message replaces
   * its pending copy (same client_id). */
  upsert(message) {
    this.version += 1;
    if (message.client_id && this.pending.has(message.client_id)) {
      this.pending.delete(message.client_id);
    }
    const old = this.messages.get(message.id);
    if (old) {
      this.messages.set(message.id, mergeMessage(old, message));
      return false;
    }
    this.messages.set(message.id, message);
    return true;
  }

  /** Apply a status event; whether it moved the message forward. */
  moveStatus(messageId, update) {
    const message = this.messages.get(messageId);
    if (!message || !forward(message.status, update.status)) return false;
    Object.assign(message, update);
    this.version += 1;
    return true;
  }

  /** Add a page of messages (newest first, as the API sends them). `older`:
   * the page continues back from the oldest loaded one, so its `more` counts. */
  addPage(page, { older = false } = {}) {
    this.version += 1;
    for (const message of page.messages) this.upsert(message);
    const ids = page.messages.map((m) => m.id);
    if (ids.length) {
      const oldest = Math.min(...ids);
      this.oldestLoaded = this.oldestLoaded ? Math.min(this.oldestLoaded, oldest) : oldest;
    }
    if (!this.loaded || older) this.more = Boolean(page.more);
    this.loaded = true;
  }

  /** Forget the loaded messages (a reload may leave a gap in them); sends
   * still in flight are kept. */
  reset() {
    this.messages.clear();
    this.oldestLoaded = null;
    this.more = true;
    this.loaded = false;
    this.version += 1;
  }

  addPending(message) {
    this.pending.set(message.client_id, message);
    this.version += 1;
  }

  dropPending(clientId) {
    const message = this.pending.get(clientId);
    this.pending.delete(clientId);
    this.version += 1;
    return message;
  }

  /** Messages and pending sends, oldest first. */
  ordered() {
    const stored = [...this.messages.values()].sort((a, b) => a.id - b.id);
    return stored.concat([...this.pending.values()]);
  }

  lastId() {
    let last = 0;
    for (const id of this.messages.keys()) last = Math.max(last, id);
    return last;
  }
}
