// A chatbox's header: the contact's avatar and the lead's name (a link to the
// lead, which a plain click opens in place: the chatbox maximized), the
// contact and number with the number's consent dot, the unread count, and the
// buttons (back at phone width, close or reopen the lead, contacts and team,
// minimize/expand, maximize/restore, close). Clicking the header itself
// minimizes or expands the box.

import { h, icon, paintAvatar, replaceChildren, setText } from "./dom.js";
import { CONSENT, named, numberLabel, prettyNumber } from "./format.js";

export class ChatboxHeader {
  /**
   * @param {object} actions  what the header's parts do
   * @param {() => void} actions.openLead  a plain click on the lead's name
   * @param {() => void} actions.toggle  a click on the header: minimize or expand
   * @param {() => void} actions.minimize  the minimize and back buttons
   * @param {() => void} actions.toggleMaximize
   * @param {() => void} actions.togglePeople  the contacts and team panels
   * @param {() => void} actions.toggleLead  close the lead, or reopen it
   * @param {() => void} actions.close
   */
  constructor({ openLead, toggle, minimize, toggleMaximize, togglePeople, toggleLead, close }) {
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
    // Closing the lead (an engagement closed) or reopening it: a labelled
    // button, as it is the day's main step with a lead.
    this.leadButton = h("button", {
      type: "button",
      className: "lead-status-button",
      hidden: true,
      dataset: { testid: "lead-status-button" },
      onclick: (event) => {
        event.stopPropagation();
        toggleLead();
      },
    });
    this.closedChip = h("span", { className: "closed-chip", hidden: true, dataset: { testid: "closed-chip" } }, "Closed");
    this.el = h(
      "header",
      { className: "chatbox-head", onclick: toggle },
      button("back", "Back to the inbox", minimize, "back-button"),
      this.avatar,
      h("div", { className: "chatbox-title" },
        h("div", { className: "chatbox-name" }, this.title,
          h("span", { className: "channel-chip", attrs: { title: "SMS conversation" } }, "SMS"),
          this.closedChip),
        this.subtitle),
      this.unread,
      h("div", { className: "chatbox-actions" },
        this.leadButton, this.peopleButton, this.minButton, this.maxButton,
        button("close", "Close", close)),
    );
  }

  /**
   * @param {object} what
   * @param {string} what.name  the lead's, as the chatbox shows it
   * @param {number} [what.leadId]  where the name links to
   * @param {object} what.summary  the conversation's (contact, number, consent)
   * @param {number} what.unread
   * @param {string} [what.status]  the lead's: open or closed
   * @param {boolean} [what.mayChange]  whether the agent may close or reopen it
   */
  render({ name, leadId, summary, unread, status, mayChange }) {
    setText(this.title, name);
    this.title.href = `/?lead=${encodeURIComponent(leadId ?? "")}`;
    this.title.title = `Open ${name}`;
    const consent = CONSENT[summary.consent] || null;
    const contact = named(summary.contact_name);
    const number = numberLabel(summary.contact_number, summary.contact_number_kind);
    let sub = [contact && contact !== name ? contact : null,
      prettyNumber(summary.contact_number) !== name ? number : null]
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
    // The person's initials, not the lead's title's ("Dana · roof repair").
    paintAvatar(this.avatar, contact);
    this.unread.hidden = !unread;
    setText(this.unread, String(unread));
    const closed = status === "closed";
    this.closedChip.hidden = !closed;
    this.leadButton.hidden = !mayChange;
    const label = closed ? "Reopen lead" : "Close lead";
    this.leadButton.replaceChildren(icon(closed ? "reopen" : "archive"), h("span", {}, label));
    this.leadButton.dataset.action = closed ? "reopen" : "close";
    this.leadButton.title = closed ? "Reopen this lead" : "Close this lead (an engagement closed)";
    this.leadButton.setAttribute("aria-label", `${label}: ${name}`);
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
