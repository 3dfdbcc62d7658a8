// In a chatbox's team panel: the lead's follow-ups and workflows. An agent
// sets a follow-up ("In 2 days", "Tomorrow 9:00", "Next Monday 10:00" or a
// time of their own, in their time zone, with a note), starts one of the
// team's workflows for the lead, or stops a running one. Drawn from the
// conversation's details; the chatbox reads them again when an event says
// the lead's follow-ups or workflows changed. Changes go through the JSON API.

import * as api from "./api.js";
import { announce, h, replaceChildren } from "./dom.js";
import { dueLabel, inDays, nextWeekdayAt, tomorrowAt } from "./followups-state.js";

const WHEN = [
  ["2days", "In 2 days", (now) => inDays(now, 2)],
  ["tomorrow", "Tomorrow 9:00", (now) => tomorrowAt(now, 9)],
  ["monday", "Next Monday 10:00", (now) => nextWeekdayAt(now, 1, 10)],
  ["custom", "At a time I pick", null],
];

export class FollowUpPanel {
  /**
   * @param {number} conversationId
   * @param {() => void} changed  the details are to be read again
   */
  constructor(conversationId, changed) {
    this.id = conversationId;
    this.changed = changed;
    this.details = null;
    const key = `c${conversationId}`;
    this.when = h("select", {
      id: `followup-when-${key}`,
      className: "followup-input",
      onchange: () => { this.custom.hidden = this.when.value !== "custom"; },
    }, WHEN.map(([value, words]) => h("option", { value }, words)));
    this.custom = h("input", {
      type: "datetime-local",
      className: "followup-input",
      hidden: true,
      attrs: { "aria-label": "Follow-up time" },
    });
    this.note = h("input", {
      id: `followup-note-${key}`,
      className: "followup-input",
      maxLength: 500,
      placeholder: "Call about the quote",
    });
    this.error = h("p", { className: "form-error", hidden: true, attrs: { role: "alert" } });
    this.list = h("ul", { className: "followup-list", dataset: { testid: "lead-followups" } });
    this.form = h("form", {
      className: "followup-form",
      dataset: { testid: "followup-form" },
      onsubmit: (event) => {
        event.preventDefault();
        this.setFollowUp();
      },
    },
    h("label", { className: "followup-label", htmlFor: this.when.id }, "Follow up", this.when),
    this.custom,
    h("label", { className: "followup-label", htmlFor: this.note.id }, "Note", this.note),
    h("button", { type: "submit", className: "secondary-button" }, "Set follow-up"));
    this.workflowSelect = h("select", { id: `workflow-${key}`, className: "followup-input" });
    this.workflows = h("ul", { className: "followup-list", dataset: { testid: "lead-workflows" } });
    this.workflowForm = h("form", {
      className: "followup-form",
      dataset: { testid: "workflow-form" },
      onsubmit: (event) => {
        event.preventDefault();
        this.startWorkflow();
      },
    },
    h("label", { className: "followup-label", htmlFor: this.workflowSelect.id }, "Workflow", this.workflowSelect),
    h("button", { type: "submit", className: "secondary-button" }, "Start workflow"));
    this.el = h("section", { className: "followup-panel", attrs: { "aria-label": "Follow-ups" } },
      h("h3", { className: "panel-title" }, "Follow-ups"),
      this.list, this.form, this.workflows, this.workflowForm, this.error);
  }

  render(details) {
    this.details = details;
    const mayChange = Boolean(details && details.may_assign);
    this.form.hidden = !mayChange;
    const pending = (details && details.followups) || [];
    replaceChildren(this.list, pending.map((f) => h("li", { className: "followup-item" },
      h("span", {}, dueLabel(f.due)), f.note ? h("span", { className: "followup-note" }, f.note) : null)));
    const workflows = (details && details.workflows) || [];
    this.workflowForm.hidden = !mayChange || !workflows.length || Boolean(details.text_block);
    const chosen = this.workflowSelect.value;
    replaceChildren(this.workflowSelect, workflows.map((w) => h("option", { value: String(w.id) }, w.name)));
    if (workflows.some((w) => String(w.id) === chosen)) this.workflowSelect.value = chosen;
    const enrollments = (details && details.enrollments) || [];
    replaceChildren(this.workflows, enrollments.map((e) => h("li", {
      className: "followup-item",
      dataset: { testid: "enrollment", running: e.stopped_at ? "no" : "yes" },
    },
    h("span", {}, e.workflow_name),
    e.stopped_at
      ? h("span", { className: "followup-note" }, `Stopped: ${e.stop_reason}`)
      : mayChange ? h("button", {
        type: "button",
        className: "link-button",
        attrs: { "aria-label": `Stop ${e.workflow_name}` },
        onclick: () => this.call(() => api.postJSON(`/api/enrollments/${e.id}/stop`, {}),
          `Workflow ${e.workflow_name} stopped.`),
      }, "Stop") : h("span", { className: "followup-note" }, "Running"))));
  }

  dueAt() {
    const choice = WHEN.find(([value]) => value === this.when.value);
    if (choice && choice[2]) return choice[2](new Date());
    if (!this.custom.value) return null;
    return new Date(this.custom.value); // the agent's own time zone
  }

  async setFollowUp() {
    const due = this.dueAt();
    if (!due || Number.isNaN(due.getTime())) {
      this.showError("Pick the follow-up's time.");
      return;
    }
    const lead = this.details && this.details.lead;
    if (!lead) return;
    const ok = await this.call(() => api.postJSON(`/api/leads/${lead.id}/followups`, {
      due_at: due.toISOString(),
      note: this.note.value,
      client_id: api.clientId(),
    }), `Follow-up set for ${dueLabel(due.toISOString())}.`);
    if (ok) this.note.value = "";
  }

  async startWorkflow() {
    const workflow = Number(this.workflowSelect.value);
    if (!workflow) return;
    await this.call(() => api.postJSON(`/api/conversations/${this.id}/workflows`, { workflow }),
      "Workflow started.");
  }

  async call(change, said) {
    this.error.hidden = true;
    try {
      await change();
    } catch (error) {
      this.showError(error.reason || error.message);
      return false;
    }
    announce(said);
    this.changed();
    return true;
  }

  showError(reason) {
    this.error.hidden = false;
    this.error.textContent = reason;
  }
}
