// A chatbox's contacts panel: the lead's people, each with their role, email
// and numbers (each number with its consent dot and unread count). Any number
// texts: one with a conversation opens it, one without starts it. Agents who
// may change the lead name or edit a contact ("Unnamed contact" for one that
// texted in), add a number to one, and add another person to the lead.
//
// Forms answer over HTTP (docs/protocol.md: /api/leads/<id>/contacts...); the
// change reaches every console as `lead.updated`, which re-reads the details
// this panel is drawn from. An open form survives those redraws.

import * as api from "./api.js";
import { h, icon, replaceChildren } from "./dom.js";
import { InlineForm } from "./forms.js";
import { CONSENT, named, prettyNumber, ROLES } from "./format.js";

const ROLE_OPTIONS = Object.entries(ROLES);

export class ContactsPanel {
  /**
   * @param {object} options
   * @param {number} options.conversationId
   * @param {import("./state.js").Store} options.store
   * @param {(conversationId: number) => void} options.openConversation
   * @param {() => Promise} options.changed  a form was saved: re-read the details
   */
  constructor({ conversationId, store, openConversation, changed }) {
    this.id = conversationId;
    this.store = store;
    this.openConversation = openConversation;
    this.changed = changed;
    this.form = null; // {key, form}: the one open form, kept across redraws
    this.list = h("ul", { className: "contact-list" });
    this.addButton = h("button", {
      type: "button",
      className: "link-button add-contact",
      hidden: true,
      dataset: { testid: "add-contact" },
      onclick: () => this.openForm("add", null),
    }, icon("plus"), "Add contact");
    this.addSlot = h("div", { className: "add-slot" });
    this.el = h("aside", {
      className: "panel contacts-panel",
      attrs: { "aria-label": "Contacts of this lead" },
    }, h("h3", { className: "panel-title" }, "Contacts"), this.list, this.addSlot, this.addButton);
  }

  /** Draw the contacts from the conversation's details. */
  render(details) {
    if (!details) return;
    this.details = details;
    const focused = this.focusedControl();
    const contacts = details.contacts || [];
    const editable = this.mayChange();
    replaceChildren(
      this.list,
      contacts.length ? contacts.map((contact) => this.contactItem(contact, editable))
        : h("li", { className: "panel-empty" }, "No contacts."),
    );
    const adding = this.form && this.form.key === "add" ? this.form.form.el : null;
    replaceChildren(this.addSlot, adding);
    this.addButton.hidden = !editable || Boolean(adding);
    this.refocus(focused);
  }

  /** What has the focus in the panel, said so it can be found again after a
   * redraw (which makes new elements): its contact and its name. */
  focusedControl() {
    const active = document.activeElement;
    if (!active || !this.el.contains(active)) return null;
    const contact = active.closest("[data-contact]");
    return {
      element: active,
      contact: contact ? contact.dataset.contact : null,
      name: active.getAttribute("aria-label") || active.dataset.testid || active.name || null,
    };
  }

  refocus(focused) {
    if (!focused || document.activeElement === focused.element) return;
    if (focused.element.isConnected) {
      focused.element.focus();
      return;
    }
    const scope = focused.contact ? this.list.querySelector(`[data-contact="${focused.contact}"]`) : this.el;
    const same = scope && [...scope.querySelectorAll("button, input, select, a")].find((el) =>
      (el.getAttribute("aria-label") || el.dataset.testid || el.name || null) === focused.name);
    if (same) same.focus();
  }

  mayChange() {
    const agent = this.store.agent || {};
    return Boolean(this.details && this.details.may_assign && !agent.external);
  }

  contactItem(contact, editable) {
    const name = named(contact.name);
    const formOf = (kind) => (this.form && this.form.key === `${kind}:${contact.id}` ? this.form.form.el : null);
    const editing = formOf("edit");
    const button = (kind, label, text, testid) => h("button", {
      type: "button",
      className: "link-button",
      dataset: { testid },
      attrs: { "aria-label": label },
      onclick: () => this.openForm(kind, contact),
    }, text);
    return h("li", { className: "contact", dataset: { testid: "contact", contact: String(contact.id) } },
      editing || [
        h("div", { className: "contact-head" },
          h("div", { className: `contact-name${name ? "" : " unnamed"}` }, name || "Unnamed contact"),
          editable ? button("edit", name ? `Edit ${name}` : "Add name for this contact",
            name ? "Edit" : "Add name", "edit-contact") : null),
        h("div", { className: "contact-role" }, ROLES[contact.role] || contact.role_label || contact.role || ""),
        contact.email ? h("a", { className: "contact-email", href: `mailto:${contact.email}` }, contact.email) : null,
      ],
      h("ul", { className: "numbers" }, (contact.numbers || []).map((n) => this.numberItem(n))),
      formOf("number") || (editable ? button("number", `Add number for ${name || "this contact"}`,
        "Add number", "add-number") : null));
  }

  numberItem(number) {
    const consent = CONSENT[number.consent] || CONSENT.not_authorized;
    const selected = number.conversation === this.id;
    const unread = number.conversation && !selected ? this.store.unreadOf(number.conversation) : 0;
    const pretty = prettyNumber(number.number);
    const content = [
      h("span", {
        className: `consent-dot ${consent.tone}`,
        title: consent.label,
        attrs: { role: "img", "aria-label": consent.label },
      }),
      h("span", { className: "number" }, pretty),
      number.kind && number.kind !== "primary" ? h("span", { className: "number-kind" }, number.kind) : null,
      unread ? h("span", { className: "count-pill", attrs: { "aria-label": `${unread} unread` } }, String(unread)) : null,
    ];
    if (selected) {
      return h("li", {
        className: "number-item selected",
        attrs: { "aria-current": "true" },
        title: "This conversation",
      }, content);
    }
    const agent = this.store.agent || {};
    if (!number.conversation && agent.external) {
      return h("li", { className: "number-item", title: "No conversation with this number yet" }, content);
    }
    const label = number.conversation ? `Open the conversation with ${pretty}` : `Text ${pretty}`;
    return h("li", {}, h("button", {
      type: "button",
      className: "number-item",
      title: label,
      dataset: { testid: "number", number: number.number },
      attrs: { "aria-label": `${label}${number.kind === "secondary" ? " (secondary)" : ""}` },
      onclick: () => this.openNumber(number),
    }, content, number.conversation ? null : h("span", { className: "text-number" }, "Text")));
  }

  /** A number's conversation; one never texted is started (made) first. */
  async openNumber(number) {
    if (number.conversation) {
      this.openConversation(number.conversation);
      return;
    }
    try {
      const answer = await api.openNumber(this.details.lead.id, number.number);
      this.store.applyDetails({ conversation: answer.conversation });
      this.openConversation(answer.conversation.id);
    } catch (error) {
      this.showProblem(error.reason || String(error));
    }
  }

  showProblem(reason) {
    replaceChildren(this.addSlot, h("p", { className: "form-error", attrs: { role: "alert" } }, reason));
  }

  /** Open one form (closing any other): "edit" or "number" for a contact,
   * "add" for a new person. */
  openForm(kind, contact) {
    const lead = this.details.lead.id;
    const base = `/api/leads/${lead}/contacts`;
    const close = () => {
      const key = this.form && this.form.key;
      this.form = null;
      this.render(this.details);
      this.focusAfter(key);
    };
    const save = (url) => async (values) => {
      await api.postJSON(url, values);
      const key = this.form && this.form.key;
      this.form = null;
      await this.changed(); // redraws the panel with what was saved
      this.render(this.details);
      this.focusAfter(key);
    };
    const specs = {
      edit: () => ({
        label: `Edit ${named(contact.name) || "contact"}`,
        submitLabel: "Save",
        fields: [
          { name: "first_name", label: "First name", value: contact.first_name || "", required: true },
          { name: "last_name", label: "Last name", value: contact.last_name || "" },
          { name: "role", label: "Role", type: "select", value: contact.role, options: ROLE_OPTIONS },
          { name: "email", label: "Email", type: "email", value: contact.email || "" },
        ],
        submit: save(`${base}/${contact.id}`),
      }),
      number: () => ({
        label: `Add a number for ${named(contact.name) || "this contact"}`,
        submitLabel: "Add number",
        fields: [
          { name: "number", label: "Mobile number", type: "tel", required: true },
          {
            name: "kind",
            label: "Use it as",
            type: "select",
            value: "secondary",
            options: [["secondary", "Another number"], ["primary", "Their main number"]],
          },
        ],
        submit: save(`${base}/${contact.id}/numbers`),
      }),
      add: () => ({
        label: "Add a contact to this lead",
        submitLabel: "Add contact",
        fields: [
          { name: "first_name", label: "First name", required: true },
          { name: "last_name", label: "Last name" },
          { name: "role", label: "Role", type: "select", value: "spouse", options: ROLE_OPTIONS },
          { name: "number", label: "Mobile number", type: "tel" },
          { name: "email", label: "Email", type: "email" },
        ],
        submit: save(base),
      }),
    };
    const form = new InlineForm({ ...specs[kind](), cancel: close, className: `contact-form ${kind}-form` });
    this.form = { key: contact ? `${kind}:${contact.id}` : kind, form };
    this.render(this.details);
    form.focus();
  }

  /** After a form closes, the focus goes back to the button that opened it. */
  focusAfter(key) {
    if (!key) return;
    const [kind, contact] = key.split(":");
    const testid = { edit: "edit-contact", number: "add-number", add: "add-contact" }[kind];
    const scope = contact ? this.list.querySelector(`[data-contact="${contact}"]`) : this.el;
    scope?.querySelector(`[data-testid=${testid}]`)?.focus();
  }
}
