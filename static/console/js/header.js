// A chatbox's header: the lead's avatar and name (a link to the lead, which
// a plain click opens in place: the chatbox maximized), the contact and
// number with the number's consent dot, the unread count, and the buttons
// (back at phone width, contacts and team, minimize/expand, maximize/restore,
// close). Clicking the header itself minimizes or expands the box.

import { h, icon, paintAvatar, replaceChildren, setText } from "./dom.js";
import { CONSENT, named, prettyNumber } from "./format.js";

export class ChatboxHeader {
  /**
   * @param {object} actions  what the header's parts do
   * @param {() => void} actions.openLead  a plain click on the lead's name
   * @param {() => void} actions.toggle  a click on the header: minimize or expand
   * @param {() => void} actions.minimize  the minimize and back buttons
   * @param {() => void} actions.toggleMaximize
   * @param {() => void} actions.togglePeople  the contacts and team panels
   * @param {() => void} actions.close
   */
  constructor({ openLead, toggle, minimize, toggleMaximize, togglePeople, close }) {
    this.title = h("a", {
      className: "lead-link",
      href: "#",
      dataset: { testid: "lead-link" },
      onclick: (event) => {
        event.stopPropagation();
        if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
        event.preventDefault();
        openLead();
      },
    });
    this.subtitle = h("span", { className: "chatbox-sub" });
    this.unread = h("span", { className: "count-pill", hidden: true });
    this.avatar = h("span", { className: "avatar sms small", attrs: { "aria-hidden": "true" } });
    const button = (name, label, run, extra = "") =>
      h("button", {
        type: "button",
        className: `icon-button ${extra}`,
        title: label,
        attrs: { "aria-label": label },
        dataset: { action: name },
        onclick: (event) => {
          event.stopPropagation();
          run();
        },
      }, icon(name));
    this.maxButton = button("maximize", "Maximize", toggleMaximize);
    this.minButton = button("minimize", "Minimize", minimize);
    this.peopleButton = button("people", "Contacts and team", togglePeople, "people-toggle");
    this.el = h(
      "header",
      { className: "chatbox-head", onclick: toggle },
      button("back", "Back to the inbox", minimize, "back-button"),
      this.avatar,
      h("div", { className: "chatbox-title" },
        h("div", { className: "chatbox-name" }, this.title,
          h("span", { className: "channel-chip", attrs: { title: "SMS conversation" } }, "SMS")),
        this.subtitle),
      this.unread,
      h("div", { className: "chatbox-actions" },
        this.peopleButton, this.minButton, this.maxButton,
        button("close", "Close", close)),
    );
  }

  /**
   * @param {object} what
   * @param {string} what.name  the lead's, as the chatbox shows it
   * @param {number} [what.leadId]  where the name links to
   * @param {object} what.summary  the conversation's (contact, number, consent)
   * @param {number} what.unread
   */
  render({ name, leadId, summary, unread }) {
    setText(this.title, name);
    this.title.href = `/?lead=${encodeURIComponent(leadId ?? "")}`;
    this.title.title = `Open ${name}`;
    const consent = CONSENT[summary.consent] || null;
    const contact = named(summary.contact_name);
    const number = prettyNumber(summary.contact_number);
    let sub = [contact && contact !== name ? contact : null, number !== name ? number : null]
      .filter(Boolean).join(" · ");
    if (!sub && consent) sub = consent.label;
    replaceChildren(
      this.subtitle,
      consent ? h("span", {
        className: `consent-dot ${consent.tone}`,
        title: consent.label,
        attrs: { role: "img", "aria-label": consent.label },
      }) : null,
      sub,
    );
    paintAvatar(this.avatar, name);
    this.unread.hidden = !unread;
    setText(this.unread, String(unread));
  }

  /** The name as shown (the dock's "+N" menu lists it). */
  name() {
    return this.title.textContent;
  }

  /** The buttons say what they would do in this window state. */
  setState(state) {
    const maximized = state === "maximized";
    this.maxButton.replaceChildren(icon(maximized ? "restore" : "maximize"));
    this.maxButton.setAttribute("aria-label", maximized ? "Restore" : "Maximize");
    this.maxButton.title = maximized ? "Restore" : "Maximize";
    this.minButton.setAttribute("aria-label", state === "minimized" ? "Expand" : "Minimize");
    this.minButton.title = state === "minimized" ? "Expand" : "Minimize";
  }

  setPeopleOpen(open) {
    this.peopleButton.setAttribute("aria-expanded", String(open));
  }
}
