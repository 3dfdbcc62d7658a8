// Admins define the team's follow-up workflows here: a name, a few steps
// (each after a delay in days and hours: an automatic text from a saved
// reply, or a reminder to call or to text on the assignee's Outstanding
// list), and optionally a source whose new leads start it by themselves.
// A modal dialog from the top bar; every change goes through the JSON API
// (docs/protocol.md, "Follow-ups and workflows"), which checks it.

import * as api from "./api.js";
import { h, icon, replaceChildren, setText } from "./dom.js";
import { AdminSection } from "./admin-section.js";

const KINDS = [
  ["text", "Automatic text"],
  ["call", "Reminder to call"],
  ["remind_text", "Reminder to text"],
];

export class WorkflowsAdmin extends AdminSection {
  constructor() {
    super();
    this.workflows = [];
    this.templates = [];
    this.numbers = [];
    this.editing = null; // the workflow in the form (null: a new one)
    this.asking = null; // the workflow awaiting a "really delete?"
    this.steps = []; // the form's steps: {delay_days, delay_hours, kind, template, note}
    this.error = h("p", { className: "form-error", hidden: true, attrs: { role: "alert" } });
    this.name = h("input", { id: "workflow-name", maxLength: 100, required: true });
    this.source = h("input", { id: "workflow-source", maxLength: 32, placeholder: "sms" });
    this.number = h("select", { id: "workflow-number" });
    this.stepList = h("ol", { className: "step-list", dataset: { testid: "step-list" } });
    this.formTitle = h("h3", {}, "New workflow");
    this.form = h("form", {
      className: "reply-form",
      dataset: { testid: "workflow-editor" },
      onsubmit: (event) => {
        event.preventDefault();
        this.save();
      },
    },
    this.formTitle,
    h("label", { htmlFor: "workflow-name" }, "Name"), this.name,
    h("label", { htmlFor: "workflow-source" },
      "Start it for new leads from this source (sms: leads who text us first; blank: by hand only)"),
    this.source,
    h("label", { htmlFor: "workflow-number" }, "Only leads who first texted"), this.number,
    h("h4", { className: "steps-title" }, "Steps"),
    this.stepList,
    h("button", { type: "button", className: "secondary-button", onclick: () => this.addStep() }, "Add step"),
    this.error,
    h("div", { className: "form-actions" },
      h("button", { type: "submit", className: "primary-button" }, "Save workflow"),
      h("button", { type: "button", className: "link-button", onclick: () => this.edit(null) }, "Clear")));
    this.list = h("ul", { className: "reply-list", dataset: { testid: "workflow-list" } });
    this.dialog = h("dialog", {
      className: "replies-admin workflows-admin",
      dataset: { testid: "workflows-admin" },
      attrs: { "aria-labelledby": "workflows-admin-title" },
    },
    h("div", { className: "dialog-head" },
      h("h2", { id: "workflows-admin-title" }, "Workflows"),
      h("button", { type: "button", className: "link-button", onclick: () => this.dialog.close() }, "Close")),
    h("div", { className: "dialog-body" },
      h("section", { attrs: { "aria-label": "Workflows" } }, this.list),
      this.form));
    this.button = h("button", {
      type: "button",
      className: "topbar-link replies-admin-button workflows-admin-button",
      dataset: { testid: "workflows-admin-button" },
      attrs: { "aria-label": "Workflows", "aria-haspopup": "dialog" },
      onclick: () => this.open(),
    }, icon("checks"), h("span", {}, "Workflows"));
  }

  async open() {
    if (!this.dialog.isConnected) document.body.append(this.dialog);
    this.dialog.showModal();
    // A new workflow's form at once; the saved replies fill its selects
    // when they arrive, and nothing typed meanwhile is lost.
    this.edit(null);
    this.name.focus();
    await this.reload();
  }

  async reload() {
    try {
      const [flows, templates] = await Promise.all([
        api.getJSON("/api/workflows"), api.getJSON("/api/templates"),
      ]);
      this.workflows = flows.workflows;
      this.numbers = flows.numbers;
      this.templates = templates.templates;
      this.draw();
    } catch (error) {
      this.showError(error.reason || error.message);
    }
  }

  draw() {
    replaceChildren(this.list, this.workflows.length ? this.workflows.map((w) => h("li", {
      className: "reply-row",
      dataset: { testid: "workflow-row" },
    },
    h("div", { className: "reply-row-main" },
      h("strong", {}, w.name),
      w.source ? h("span", { className: "category-chip" }, `source: ${w.source}`) : null,
      h("p", { className: "reply-text" }, w.steps.map((s) => this.describe(s)).join(" → "))),
    this.asking === w.id
      // Deleting stops the leads running it: asked first, in place.
      ? h("span", { className: "row-actions" }, `Delete “${w.name}” and stop it for its leads?`,
        h("button", { type: "button", className: "danger-button", onclick: () => this.remove(w) }, "Delete"),
        h("button", { type: "button", className: "link-button", onclick: () => this.ask(null) }, "Cancel"))
      : h("span", { className: "row-actions" },
        h("button", { type: "button", className: "link-button", attrs: { "aria-label": `Edit ${w.name}` },
          onclick: () => this.edit(w) }, "Edit"),
        h("button", { type: "button", className: "link-button", attrs: { "aria-label": `Delete ${w.name}` },
          onclick: () => this.ask(w.id) }, "Delete")))) :
      h("li", { className: "empty" }, "No workflows yet: make the first one here."));
    const chosen = this.number.value;
    replaceChildren(this.number, h("option", { value: "" }, "Any of our numbers"),
      this.numbers.map((n) => h("option", { value: String(n.id) }, n.number)));
    this.number.value = this.numbers.some((n) => String(n.id) === chosen) ? chosen : "";
    this.drawSteps();
  }

  ask(id) {
    this.asking = id;
    this.draw();
    this.dialog.querySelector(".danger-button")?.focus();
  }

  describe(step) {
    const when = `day ${step.delay_days}` + (step.delay_hours ? ` +${step.delay_hours} h` : "");
    const kind = (KINDS.find(([k]) => k === step.kind) || [, step.kind])[1];
    const template = this.templates.find((t) => t.id === step.template);
    return `${when}: ${kind}${template ? ` (${template.name})` : ""}`;
  }

  drawSteps() {
    replaceChildren(this.stepList, this.steps.map((step, index) => {
      const n = index + 1;
      const days = h("input", { type: "number", min: 0, max: 365, value: String(step.delay_days),
        oninput: () => { step.delay_days = Number(days.value); } });
      const hours = h("input", { type: "number", min: 0, max: 23, value: String(step.delay_hours),
        oninput: () => { step.delay_hours = Number(hours.value); } });
      const kind = h("select", { onchange: () => { step.kind = kind.value; this.drawSteps(); } },
        KINDS.map(([value, words]) => h("option", { value, selected: value === step.kind }, words)));
      const template = h("select", { onchange: () => { step.template = Number(template.value) || null; } },
        h("option", { value: "" }, "Pick a saved reply"),
        this.templates.map((t) => h("option", { value: String(t.id), selected: t.id === step.template }, t.name)));
      const note = h("input", { maxLength: 300, value: step.note || "",
        oninput: () => { step.note = note.value; } });
      return h("li", { className: "step-row", dataset: { testid: "step-row" } },
        h("label", {}, `Step ${n}: days after`, days),
        h("label", {}, "hours", hours),
        h("label", {}, "What", kind),
        step.kind === "text" ? h("label", {}, "Saved reply", template) : h("label", {}, "Note", note),
        h("button", { type: "button", className: "link-button", attrs: { "aria-label": `Remove step ${n}` },
          onclick: () => { this.steps.splice(index, 1); this.drawSteps(); } }, "Remove"));
    }));
  }

  addStep() {
    const last = this.steps[this.steps.length - 1];
    this.steps.push({ delay_days: last ? last.delay_days + 2 : 0, delay_hours: 0,
      kind: last ? "call" : "text", template: null, note: "" });
    this.drawSteps();
  }

  edit(workflow) {
    this.editing = workflow;
    this.clearError();
    setText(this.formTitle, workflow ? `Edit “${workflow.name}”` : "New workflow");
    this.name.value = workflow ? workflow.name : "";
    this.source.value = workflow ? workflow.source : "";
    this.number.value = workflow && workflow.sender ? String(workflow.sender) : "";
    this.steps = workflow ? workflow.steps.map((s) => ({ ...s })) : [];
    if (!workflow) this.addStep();
    this.drawSteps();
  }

  async save() {
    const data = {
      name: this.name.value,
      source: this.source.value,
      sender: this.number.value ? Number(this.number.value) : null,
      steps: this.steps.map(({ delay_days, delay_hours, kind, template, note }) => ({
        delay_days, delay_hours, kind, note: note || "", ...(kind === "text" ? { template } : {}),
      })),
    };
    const url = this.editing ? `/api/workflows/${this.editing.id}` : "/api/workflows";
    if (await this.call(() => api.postJSON(url, data))) this.edit(null);
  }

  async remove(workflow) {
    this.asking = null;
    if (await this.call(() => api.deleteJSON(`/api/workflows/${workflow.id}`))
      && this.editing && this.editing.id === workflow.id) this.edit(null);
  }
}
