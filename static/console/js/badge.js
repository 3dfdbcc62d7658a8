// The notification badge: the unread total, a shake when a message arrives
// for a conversation that is not open, and a dropdown of the conversations,
// most recent first.

import { avatar, h, icon, keyedList, replaceChildren, setText } from "./dom.js";
import { named, numberLabel, plural, prettyNumber, rowTime } from "./format.js";
import { previewOf } from "./queue.js";

const DROPDOWN_ROWS = 30;

export class Badge {
  /**
   * @param {import("./state.js").Store} store
   * @param {(conversationId: number) => void} openConversation
   */
  constructor(store, openConversation) {
    this.store = store;
    this.openConversation = openConversation;
    this.shakes = 0;
    this.count = h("span", {
      className: "badge-count",
      dataset: { testid: "badge-count" },
      attrs: { "aria-hidden": "true" },
    }, "0");
    this.button = h(
      "button",
      {
        type: "button",
        className: "badge",
        dataset: { testid: "badge", shakes: "0" },
        attrs: {
          "aria-haspopup": "true",
          "aria-expanded": "false",
          "aria-controls": "badge-dropdown",
          "aria-label": "Notifications: no unread messages",
        },
        onclick: () => this.toggle(),
        onanimationend: () => this.button.classList.remove("shake"),
      },
      icon("bell"),
      this.count,
    );
    // The live region screen readers hear when the total changes.
    this.live = h("span", {
      className: "sr-only",
      dataset: { testid: "badge-live" },
      attrs: { role: "status", "aria-live": "polite", "aria-atomic": "true" },
    });
    this.list = h("ul", { className: "dropdown-list", attrs: { role: "list" } });
    this.rows = new Map(); // conversation id -> li, kept so focus survives updates
    this.dropdown = h(
      "div",
      {
        id: "badge-dropdown",
        className: "dropdown",
        hidden: true,
        dataset: { testid: "badge-dropdown" },
        attrs: { role: "dialog", "aria-label": "Conversations" },
        onkeydown: (event) => this.onKeydown(event),
      },
      h("div", { className: "dropdown-head" },
        h("span", { className: "dropdown-title" }, "Conversations"),
        this.summary = h("span", { className: "dropdown-summary" })),
      this.list,
    );
    this.el = h("div", { className: "badge-wrap" }, this.button, this.live, this.dropdown);
    document.addEventListener("pointerdown", (event) => {
      if (!this.dropdown.hidden && !this.el.contains(event.target)) this.close();
    });
    store.on("unread", () => this.render());
    store.on("conversations", () => this.renderListSoon());
  }

  render() {
    const total = this.store.unread.total;
    setText(this.count, total > 99 ? "99+" : String(total));
    this.count.dataset.count = String(total);
    this.button.classList.toggle("has-unread", total > 0);
    const words = total ? plural(total, "unread message") : "no unread messages";
    this.button.setAttribute("aria-label", `Notifications: ${words}`);
    setText(this.live, total ? plural(total, "unread message") : "No unread messages");
    setText(this.summary, total ? `${total} unread` : "All caught up");
    this.renderList();
  }

  renderListSoon() {
    if (this.pendingRender) return;
    this.pendingRender = requestAnimationFrame(() => {
      this.pendingRender = null;
      this.renderList();
    });
  }

  renderList() {
    if (this.dropdown.hidden) return; // drawn when opened
    const rows = this.store
      .sortedConversations()
      .filter((c) => this.store.visible(this.store.leads.get(c.lead)))
      .slice(0, DROPDOWN_ROWS);
    keyedList(this.list, rows, {
      key: (c) => c.id,
      cache: this.rows,
      make: (c) => h("li", {}, h("button", {
        type: "button",
        className: "dropdown-row",
        dataset: { conversation: c.id, testid: "badge-row" },
        onclick: () => {
          this.close(false);
          this.openConversation(c.id);
        },
      })),
      fill: (li, c) => this.fillRow(li.firstChild, c),
    });
    if (!rows.length) this.list.append(h("li", { className: "empty" }, "No conversations yet."));
  }

  fillRow(button, conversation) {
    const unread = this.store.unreadOf(conversation.id);
    const lead = this.store.leads.get(conversation.lead) || {};
    const name = lead.name || conversation.lead_name || prettyNumber(conversation.contact_number);
    const me = this.store.agent && this.store.agent.id;
    const contact = named(conversation.contact_name);
    // Which person and which of their numbers: a lead may have several.
    const number = prettyNumber(conversation.contact_number) === name ? ""
      : numberLabel(conversation.contact_number, conversation.contact_number_kind);
    const who = [contact !== name ? contact : "", number].filter(Boolean).join(" · ");
    const key = JSON.stringify([name, who, unread, conversation.last_message, conversation.last_message_at]);
    if (button.dataset.drawn === key) return;
    button.dataset.drawn = key;
    button.classList.toggle("unread", unread > 0);
    replaceChildren(
      button,
      avatar(contact, "avatar small"),
      h("span", { className: "row-main" },
        h("span", { className: "row-top" },
          h("span", { className: "row-name" }, name),
          h("span", { className: "row-time" }, rowTime(conversation.last_message_at))),
        who ? h("span", { className: "row-who" }, who) : null,
        h("span", { className: "row-bottom" },
          h("span", { className: "row-preview" }, previewOf(conversation.last_message, me)),
          unread
            ? h("span", {
              className: "count-pill",
              dataset: { testid: "row-unread" },
              attrs: { "aria-label": plural(unread, "unread message") },
            }, String(unread))
            : null)),
    );
  }

  /** Shake (and count it, for tests and the curious) when a message arrives
   * for a conversation whose chatbox is not open. */
  shake() {
    this.shakes += 1;
    this.button.dataset.shakes = String(this.shakes);
    this.button.classList.remove("shake");
    void this.button.offsetWidth; // restart the animation
    this.button.classList.add("shake");
  }

  toggle() {
    if (this.dropdown.hidden) this.open();
    else this.close();
  }

  open() {
    this.dropdown.hidden = false;
    this.button.setAttribute("aria-expanded", "true");
    this.renderList();
    const first = this.list.querySelector("button");
    if (first) first.focus();
  }

  close(returnFocus = true) {
    if (this.dropdown.hidden) return;
    this.dropdown.hidden = true;
    this.button.setAttribute("aria-expanded", "false");
    if (returnFocus) this.button.focus();
  }

  onKeydown(event) {
    const rows = [...this.list.querySelectorAll("button")];
    const index = rows.indexOf(document.activeElement);
    if (event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      this.close();
    } else if (event.key === "ArrowDown" && rows.length) {
      event.preventDefault();
      rows[(index + 1) % rows.length].focus();
    } else if (event.key === "ArrowUp" && rows.length) {
      event.preventDefault();
      rows[(index - 1 + rows.length) % rows.length].focus();
    }
  }
}
