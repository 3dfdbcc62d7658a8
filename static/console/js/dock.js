// The dock: open chatboxes stacked along the bottom of the workspace, fitted
// to its width. The first opened sits at the right; new ones open to its left.
// When they do not all fit, the ones used least recently wait behind a "+N"
// button (its menu closes with Escape or a click elsewhere). At phone width
// one chatbox at a time fills the screen and the queue is a view of its own.
// The open chatboxes, their order and states are kept in this browser
// (storage.js) and come back after a refresh.

import { Chatbox } from "./chatbox.js";
import { h, replaceChildren, setText } from "./dom.js";

const GAP = 12;
const MIN_WIDTH = 300; // an expanded chatbox never gets narrower
const MAX_WIDTH = 720; // wide enough for contacts | thread | team
const MINIMIZED_WIDTH = 240;
const OVERFLOW_WIDTH = 64;

export class Dock {
  constructor({ store, socket, phone, presence }) {
    this.store = store;
    this.socket = socket;
    this.phone = phone; // a MediaQueryList for phone width
    this.presence = presence;
    this.storage = null; // the agent's (storage.js), once the hello names them
    this.boxes = new Map(); // conversation id -> Chatbox, in opening order
    this.recency = []; // conversation ids, most recently used first
    this.owners = new Map(); // client_id -> Chatbox awaiting ack/error
    this.hidden = new Set(); // ids waiting behind the overflow button
    this.overflowMenu = h("ul", {
      id: "overflow-menu",
      className: "overflow-menu",
      hidden: true,
      dataset: { testid: "overflow-menu" },
      attrs: { "aria-label": "More open conversations" },
    });
    this.overflowButton = h("button", {
      type: "button",
      className: "overflow-button",
      hidden: true,
      dataset: { testid: "overflow-button" },
      attrs: { "aria-expanded": "false", "aria-controls": "overflow-menu" },
      onclick: () => this.toggleOverflow(),
    });
    this.overflow = h("div", {
      className: "overflow",
      onkeydown: (event) => this.onOverflowKey(event),
    }, this.overflowButton, this.overflowMenu);
    document.addEventListener("pointerdown", (event) => {
      if (!this.overflowMenu.hidden && !this.overflow.contains(event.target)) this.toggleOverflow(false);
    });
    this.el = h("div", { className: "dock", dataset: { testid: "dock" } }, this.overflow);
    window.addEventListener("resize", () => this.layoutSoon());
    phone.addEventListener("change", () => this.layout());
    this.onChange = () => {};
  }

  /** Open (or bring forward) the chatbox of a conversation. */
  open(conversationId, { focus = true, maximize = false, restored = false } = {}) {
    const id = Number(conversationId);
    let box = this.boxes.get(id);
    if (!box) {
      box = new Chatbox({
        conversationId: id,
        store: this.store,
        socket: this.socket,
        dock: this,
        presence: this.presence,
        storage: this.storage,
        restored,
      });
      this.boxes.set(id, box);
      this.el.append(box.el);
    }
    this.touch(id);
    if (maximize) box.setState("maximized");
    else if (box.state === "minimized") box.setState("expanded");
    this.layout();
    if (focus) box.focus();
    return box;
  }

  /** Close a chatbox (its draft stays); `quiet`: without moving the focus. */
  close(box, { quiet = false } = {}) {
    box.destroy();
    this.boxes.delete(box.id);
    this.recency = this.recency.filter((id) => id !== box.id);
    this.layout();
    if (quiet) return;
    const next = this.recency.map((id) => this.boxes.get(id)).find((b) => b && b.state !== "minimized");
    if (next && !this.phone.matches) next.composer.focus();
    else document.querySelector(`[data-testid=queue-row][data-conversation="${box.id}"]`)?.focus();
  }

  touch(id) {
    this.recency = [id, ...this.recency.filter((x) => x !== id)];
  }

  focused(box) {
    if (this.recency[0] !== box.id) {
      this.touch(box.id);
      if (this.hidden.has(box.id)) this.layout();
    }
  }

  minimized(box) {
    this.layout();
    if (this.phone.matches) {
      document.querySelector(`[data-testid=queue-row][data-conversation="${box.id}"]`)?.focus();
    }
  }

  own(clientId, box) {
    this.owners.set(clientId, box);
  }

  /** Hand an ack or error to the chatbox whose request it answers. */
  route(frame) {
    const box = frame.client_id ? this.owners.get(frame.client_id) : null;
    if (frame.client_id) this.owners.delete(frame.client_id);
    if (!box || !this.boxes.has(box.id)) return false;
    if (frame.type === "ack") box.onAck(frame);
    else box.onError(frame);
    return true;
  }

  /** Whether the conversation is open and in view (its messages get read). */
  isReading(conversationId) {
    const box = this.boxes.get(Number(conversationId));
    return Boolean(box && box.isReading());
  }

  isShown(box) {
    if (this.hidden.has(box.id)) return false;
    if (this.phone.matches) return this.active() === box;
    return true;
  }

  /** At phone width: the chatbox on screen, if any. */
  active() {
    for (const id of this.recency) {
      const box = this.boxes.get(id);
      if (box && box.state !== "minimized") return box;
    }
    return null;
  }

  layoutSoon() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = null;
      this.layout();
    });
  }

  layout() {
    const boxes = [...this.boxes.values()];
    if (this.phone.matches) this.layoutPhone(boxes);
    else this.layoutDesktop(boxes);
    for (const box of boxes) box.reportPresence();
    this.remember();
    this.onChange();
  }

  // -- kept across a refresh ----------------------------------------------

  /** The agent is known (the first hello): reopen what was open. */
  restore(storage) {
    this.storage = storage;
    const kept = storage.dock();
    for (const id of kept.open) {
      const box = this.open(id, { focus: false, restored: true });
      const state = kept.states[id];
      if (state === "minimized" || state === "maximized") box.setState(state);
    }
    const open = new Set(this.boxes.keys());
    this.recency = [...kept.recency.filter((id) => open.has(id)),
      ...this.recency.filter((id) => !kept.recency.includes(id))];
    this.layout();
  }

  remember() {
    if (!this.storage) return;
    const states = {};
    for (const [id, box] of this.boxes) states[id] = box.state;
    this.storage.saveDock({ open: [...this.boxes.keys()], recency: this.recency, states });
  }

  layoutPhone(boxes) {
    const active = this.active();
    this.hidden = new Set(boxes.filter((b) => b !== active).map((b) => b.id));
    for (const box of boxes) {
      box.el.hidden = box !== active;
      box.el.style.width = "";
    }
    document.body.dataset.view = active ? "chat" : "queue";
    this.overflowButton.hidden = true;
  }

  layoutDesktop(boxes) {
    document.body.dataset.view = "desk";
    const available = Math.max(0, this.el.clientWidth - GAP);
    // Keep the most recently used boxes; the others wait behind "+N".
    const shown = [];
    let used = 0;
    for (const id of this.recency) {
      const box = this.boxes.get(id);
      if (!box) continue;
      const need = (box.state === "minimized" ? MINIMIZED_WIDTH : MIN_WIDTH) + GAP;
      const reserve = shown.length + 1 < boxes.length ? OVERFLOW_WIDTH : 0;
      if (shown.length === 0 || used + need + reserve <= available) {
        shown.push(box);
        used += need;
      }
    }
    const shownIds = new Set(shown.map((b) => b.id));
    this.hidden = new Set(boxes.filter((b) => !shownIds.has(b.id)).map((b) => b.id));
    const expanded = shown.filter((b) => b.state !== "minimized");
    const minimizedWidth = shown.filter((b) => b.state === "minimized").length * (MINIMIZED_WIDTH + GAP);
    const reserve = this.hidden.size ? OVERFLOW_WIDTH : 0;
    const each = expanded.length
      ? Math.floor((available - minimizedWidth - reserve) / expanded.length) - GAP
      : 0;
    const width = Math.max(MIN_WIDTH, Math.min(MAX_WIDTH, each));
    for (const box of boxes) {
      box.el.hidden = this.hidden.has(box.id);
      if (box.state === "maximized") box.el.style.width = "";
      else box.el.style.width = `${box.state === "minimized" ? MINIMIZED_WIDTH : Math.min(width, available)}px`;
    }
    // Opening order along the dock (row-reverse: first opened at the right).
    let order = 0;
    for (const box of this.boxes.values()) box.el.style.order = String(order++);
    this.overflow.style.order = String(order);
    this.renderOverflow();
  }

  renderOverflow() {
    const hidden = [...this.hidden].map((id) => this.boxes.get(id)).filter(Boolean);
    this.overflowButton.hidden = !hidden.length;
    if (!hidden.length) {
      this.overflowMenu.hidden = true;
      return;
    }
    setText(this.overflowButton, `+${hidden.length}`);
    this.overflowButton.setAttribute("aria-label", `${hidden.length} more open conversations`);
    replaceChildren(this.overflowMenu, hidden.map((box) => h("li", {}, h("button", {
      type: "button",
      title: box.header.name(),
      onclick: () => {
        this.toggleOverflow(false);
        this.open(box.id);
      },
    }, box.header.name()))));
  }

  toggleOverflow(open = this.overflowMenu.hidden) {
    this.overflowMenu.hidden = !open;
    this.overflowButton.setAttribute("aria-expanded", String(open));
    if (open) this.overflowMenu.querySelector("button")?.focus();
  }

  /** Escape closes the "+N" menu (focus back on its button); arrows move. */
  onOverflowKey(event) {
    if (this.overflowMenu.hidden) return;
    const items = [...this.overflowMenu.querySelectorAll("button")];
    const index = items.indexOf(document.activeElement);
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      this.toggleOverflow(false);
      this.overflowButton.focus();
    } else if ((event.key === "ArrowDown" || event.key === "ArrowUp") && items.length) {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : items.length - 1;
      items[(index + step) % items.length].focus();
    }
  }

  /** After a reconnect that could not replay: reload what every box shows
   * (from its newest page: what was loaded before may now have a gap). */
  reloadAll() {
    for (const box of this.boxes.values()) box.reload();
  }

  refreshAll() {
    for (const box of this.boxes.values()) box.refreshSoon();
  }
}
