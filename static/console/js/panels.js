// A chatbox's side panels, drawn from the conversation's details
// (`GET /api/conversations/<id>`): on the left the lead's contacts
// (contacts.js: any number texts, contacts are named, edited and added); on
// the right the agents assigned and, for agents who may, a select that
// assigns the lead, and where the lead came from.

import { ContactsPanel } from "./contacts.js";
import { avatar, h, replaceChildren } from "./dom.js";
import { FollowUpPanel } from "./followup-panel.js";
import { sourceLabel } from "./format.js";

export class Panels {
  /**
   * @param {object} options
   * @param {number} options.conversationId
   * @param {import("./state.js").Store} options.store
   * @param {(conversationId: number) => void} options.openConversation
   * @param {(frame: object) => void} options.command  sends a lead command (assign)
   * @param {() => Promise} options.changed  a contact form was saved
   */
  constructor({ conversationId, store, openConversation, command, changed }) {
    this.id = conversationId;
    this.store = store;
    this.command = command;
    this.people = new ContactsPanel({ conversationId, store, openConversation, changed });
    this.contacts = this.people.el;
    this.teamList = h("ul", { className: "team-list" });
    this.assign = h("div", { className: "assign" });
    this.source = h("p", { className: "lead-source", hidden: true });
    // The lead's follow-ups and workflows (followup-panel.js).
    this.followups = new FollowUpPanel(conversationId, changed);
    this.team = h("aside", {
      className: "panel team-panel",
      attrs: { "aria-label": "Agents assigned" },
    }, h("h3", { className: "panel-title" }, "Assigned"), this.teamList, this.assign, this.source,
    this.followups.el);
  }

  /** Draw both panels from the details. */
  render(details) {
    if (!details) return;
    this.people.render(details);
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
    const source = sourceLabel(lead.source);
    this.source.hidden = !source;
    this.source.textContent = source ? `Source: ${source}` : "";
    this.followups.render(details);
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
