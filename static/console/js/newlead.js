// "New lead": a person's name and mobile number, typed any common way ((503)
// 555-0112, 503.555.0112, +1 503 555 0112: the server reads it in the
// organisation's region and says what is wrong with one it cannot), an
// optional email and source. A number already on a lead offers that lead
// instead, or a new lead anyway. Once created, the lead's chatbox opens ready
// to text (a number that has not agreed to texts yet gets the authorization
// request the composer offers). POST /api/leads (docs/protocol.md).

import * as api from "./api.js";
import { h, icon } from "./dom.js";
import { InlineForm } from "./forms.js";
import { prettyNumber, SOURCES } from "./format.js";

export class NewLeadDialog {
  /**
   * @param {object} options
   * @param {import("./state.js").Store} options.store
   * @param {(conversationId: number) => void} options.openConversation
   */
  constructor({ store, openConversation }) {
    this.store = store;
    this.openConversation = openConversation;
    this.title = h("h2", { id: "new-lead-title" }, "New lead");
    this.el = h("dialog", {
      className: "new-lead-dialog",
      dataset: { testid: "new-lead-dialog" },
      attrs: { "aria-labelledby": "new-lead-title" },
      onclose: () => this.returnFocus && this.returnFocus.focus(),
    });
    document.body.append(this.el);
  }

  /** Show an empty form (a fresh client id: submitting twice makes one lead). */
  open() {
    this.returnFocus = document.activeElement;
    this.clientId = api.clientId();
    this.form = new InlineForm({
      label: "New lead",
      submitLabel: "Create and open chat",
      className: "new-lead-form",
      fields: [
        { name: "first_name", label: "First name", required: true, autocomplete: "off" },
        { name: "last_name", label: "Last name" },
        {
          name: "number",
          label: "Mobile number",
          type: "tel",
          required: true,
          hint: "Any way it is written: (503) 555-0112, 503.555.0112, +1 503 555 0112",
        },
        { name: "email", label: "Email", type: "email" },
        { name: "source", label: "Source", list: SOURCES, hint: "Where the lead came from" },
      ],
      submit: (values) => this.create(values),
      cancel: () => this.el.close(),
    });
    this.el.replaceChildren(
      h("div", { className: "dialog-head" },
        this.title,
        h("button", {
          type: "button",
          className: "icon-button",
          title: "Close",
          attrs: { "aria-label": "Close" },
          onclick: () => this.el.close(),
        }, icon("close"))),
      this.form.el,
    );
    this.el.showModal();
    this.form.focus();
  }

  async create(values, allowDuplicate = false) {
    this.form.setExtra();
    const body = { ...values, client_id: this.clientId };
    if (allowDuplicate) body.allow_duplicate = true;
    let answer;
    try {
      answer = await api.postJSON("/api/leads", body);
    } catch (error) {
      if (error.code === "duplicate") {
        this.offer(values, error);
        return;
      }
      throw error;
    }
    this.store.applyLeadItems([answer.lead]);
    this.store.applyDetails({ conversation: answer.conversation });
    this.returnFocus = null; // the chatbox takes the focus
    this.el.close();
    this.openConversation(answer.conversation.id);
  }

  /** The number is on a lead already: offer it (or a new lead anyway). */
  offer(values, error) {
    const leads = (error.details && error.details.leads) || [];
    this.form.showError(error.reason);
    this.form.setExtra(
      leads.length ? h("ul", { className: "duplicate-list", dataset: { testid: "duplicate-leads" } },
        leads.map((lead) => h("li", {}, h("button", {
          type: "button",
          className: "secondary-button",
          onclick: () => this.openExisting(lead),
        }, `Open ${lead.name}`),
        h("span", { className: "duplicate-meta" },
          [prettyNumber(lead.number), lead.status === "closed" ? "closed" : lead.assignee_name || "unassigned"]
            .filter(Boolean).join(" · "))))) : null,
      leads.length ? h("button", {
        type: "button",
        className: "link-button",
        onclick: () => this.form.send({ allow_duplicate: true }),
      }, "Create a new lead anyway") : null,
    );
    this.form.submitAction = (again) => {
      const { allow_duplicate: anyway, ...fields } = again;
      return this.create(fields, Boolean(anyway));
    };
  }

  async openExisting(lead) {
    try {
      const answer = await api.openNumber(lead.id, lead.number);
      this.store.applyDetails({ conversation: answer.conversation });
      this.returnFocus = null;
      this.el.close();
      this.openConversation(answer.conversation.id);
    } catch (error) {
      this.form.showError(error.reason || String(error));
    }
  }
}
