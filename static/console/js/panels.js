// A chatbox's side panels, drawn from the conversation's details
// (`GET /api/conversations/<id>`): on the left the lead's contacts, each
// number with its consent dot (a number with a conversation of its own opens
// it); on the right the agents assigned and, for agents who may, a select that
// assigns the lead.

import { avatar, h, replaceChildren } from "./dom.js";
import { CONSENT, named, prettyNumber, ROLES } from "./format.js";

export class Panels {
  /**
   * @param {object} options
   * @param {number} options.conversationId
   * @param {import("./state.js").Store} options.store
   * @param {(conversationId: number) => void} options.openConversation
   * @param {(frame: object) => void} options.command  sends a lead command (assign)
   */
  constructor({ conversationId, store, openConversation, command }) {
    this.id = conversationId;
    this.store = store;
    this.openConversation = openConversation;
    this.command = command;
    this.contactsList = h("ul", { className: "contact-list" });
    this.contacts = h("aside", {
      className: "panel contacts-panel",
      attrs: { "aria-label": "Contacts of this lead" },
    }, h("h3", { className: "panel-title" }, "Contacts"), this.contactsList);
    this.teamList = h("ul", { className: "team-list" });
    this.assign = h("div", { className: "assign" });
    this.team = h("aside", {
      className: "panel team-panel",
      attrs: { "aria-label": "Agents assigned" },
    }, h("h3", { className: "panel-title" }, "Assigned"), this.teamList, this.assign);
  }

  /** Draw both panels from the details and the conversation's summary. */
  render(details, summary) {
    if (!details) return;
    const contacts = details.contacts || [];
    replaceChildren(
      this.contactsList,
      contacts.length ? contacts.map((contact) => h("li", { className: "contact" },
        h("div", { className: `contact-name${named(contact.name) ? "" : " unnamed"}` },
          named(contact.name) || "Unnamed contact"),
        h("div", { className: "contact-role" }, ROLES[contact.role] || contact.role_label || contact.role || ""),
        h("ul", { className: "numbers" }, (contact.numbers || []).map((n) => this.numberItem(n, summary)))))
        : h("li", { className: "panel-empty" }, "No contacts."),
    );
    const lead = details.lead || {};
    const people = [];
    if (lead.assignee) {
      people.push(h("li", { className: "agent" },
        avatar(lead.assignee_name || "?", "avatar tiny"),
        h("span", { className: "agent-name" }, lead.assignee_name || "Agent"),
        h("span", { className: "agent-role" },
          this.store.agent && lead.assignee === this.store.agent.id ? "You" : "Assignee")));
    }
    for (const shared of details.shared_with || []) {
      people.push(h("li", { className: "agent" },
        avatar(shared.name, "avatar tiny"),
        h("span", { className: "agent-name" }, shared.name),
        h("span", { className: "agent-role" }, "Read-only")));
    }
    replaceChildren(
      this.teamList,
      people.length ? people : h("li", { className: "panel-empty" }, "Nobody yet: a reply claims it."),
    );
    this.renderAssign(details);
  }

  numberItem(number, summary) {
    const consent = CONSENT[number.consent] || CONSENT.not_authorized;
    const selected = number.conversation === this.id;
    const content = [
      h("span", {
        className: `consent-dot ${consent.tone}`,
        title: consent.label,
        attrs: { role: "img", "aria-label": consent.label },
      }),
      h("span", { className: "number" }, prettyNumber(number.number)),
      number.kind && number.kind !== "primary" ? h("span", { className: "number-kind" }, number.kind) : null,
    ];
    if (number.conversation && !selected) {
      return h("li", {}, h("button", {
        type: "button",
        className: "number-item",
        title: `Open the conversation with ${prettyNumber(number.number)}`,
        onclick: () => this.openConversation(number.conversation),
      }, content));
    }
    return h("li", {
      className: `number-item${selected ? " selected" : ""}`,
      attrs: selected ? { "aria-current": "true" } : {},
      title: selected ? "This conversation" : "No conversation with this number yet",
    }, content);
  }

  renderAssign(details) {
    const agents = (details && details.agents) || [];
    const lead = (details && details.lead) || {};
    if (!details || !details.may_assign || !agents.length) {
      this.assign.replaceChildren();
      return;
    }
    const select = h("select", {
      className: "assign-select",
      attrs: { "aria-label": "Assign this lead" },
      onchange: () => {
        const value = select.value === "" ? null : Number(select.value);
        this.command({ type: "lead.assign", lead: lead.id, agent: value });
      },
    },
    h("option", { value: "", selected: !lead.assignee }, "Unassigned"),
    agents.map((a) => h("option", { value: String(a.id), selected: a.id === lead.assignee }, a.name)));
    replaceChildren(this.assign, h("label", { className: "assign-label" }, "Assign to", select));
  }
}
