// Keyword replies, in the admins' saved replies dialog: a lead who texts a
// keyword (the whole message, any case: PRICE) gets a saved reply, sent as an
// automatic reply. STOP, START, HELP and their variants are reserved (the
// server answers them itself, and says so when an admin tries one). Every
// change goes through the JSON API (docs/protocol.md, "Keyword replies").

import * as api from "./api.js";
import { h, replaceChildren, setText } from "./dom.js";
import { AdminSection } from "./admin-section.js";

export class KeywordRules extends AdminSection {
  constructor() {
    super();
    this.rules = [];
    this.templates = [];
    this.editing = null; // the rule in the form (null: a new one)
    this.asking = null; // the rule awaiting "really delete?"

    this.error = h("p", { className: "form-error", hidden: true, attrs: { role: "alert" } });
    this.keyword = h("input", {
      id: "rule-keyword",
      maxLength: 20,
      required: true,
      autocomplete: "off",
      attrs: { "aria-describedby": "rule-keyword-hint" },
    });
    this.template = h("select", { id: "rule-template", required: true });
    this.active = h("input", { id: "rule-active", type: "checkbox", checked: true });
    this.formTitle = h("h4", {}, "New keyword reply");
    this.submit = h("button", { type: "submit", className: "primary-button" }, "Add keyword");
    this.form = h("form", {
      className: "reply-form rule-form",
      dataset: { testid: "rule-form" },
      onsubmit: (event) => {
        event.preventDefault();
        this.save();
      },
    },
    this.formTitle,
    h("label", { htmlFor: "rule-keyword" }, "Keyword"), this.keyword,
    h("p", { id: "rule-keyword-hint", className: "hint" },
      "One word a lead texts as the whole message, in any case. STOP, START and HELP are reserved."),
    h("label", { htmlFor: "rule-template" }, "Saved reply sent"), this.template,
    h("label", { className: "check-label", htmlFor: "rule-active" }, this.active, " Active"),
    this.error,
    h("div", { className: "form-actions" },
      this.submit,
      h("button", { type: "button", className: "link-button", onclick: () => this.edit(null) }, "Clear keyword")));
    this.list = h("ul", { className: "reply-list", dataset: { testid: "rule-list" } });
    this.el = h("section", {
      className: "keyword-rules",
      attrs: { "aria-labelledby": "keyword-rules-title" },
    },
    h("h3", { id: "keyword-rules-title" }, "Keyword replies"),
    this.list,
    this.form);
  }

  /** Read the rules again; ``templates`` are the saved replies they may send. */
  async reload(templates) {
    this.templates = templates;
    try {
      this.rules = (await api.getJSON("/api/keyword-rules")).rules;
    } catch (error) {
      this.showError(error.reason || error.message);
    }
    this.draw();
  }

  draw() {
    replaceChildren(this.list, this.rules.length ? this.rules.map((rule) => h("li", {
      className: "reply-row",
      dataset: { testid: "rule-row" },
    },
    h("div", { className: "reply-row-main" },
      h("strong", {}, rule.keyword),
      h("span", {}, `→ ${rule.template_name}`),
      rule.active ? null : h("span", { className: "category-chip" }, "Off")),
    this.rowActions(rule))) :
      h("li", { className: "empty" }, "No keyword replies yet: add the first below."));
    const chosen = this.template.value;
    replaceChildren(this.template, h("option", { value: "" }, "Pick a saved reply"),
      this.templates.map((t) => h("option", { value: String(t.id) }, t.name)));
    this.template.value = this.templates.some((t) => String(t.id) === chosen) ? chosen : "";
  }

  rowActions(rule) {
    if (this.asking === rule.id) {
      return h("span", { className: "row-actions" }, `Delete ${rule.keyword}?`,
        h("button", { type: "button", className: "danger-button", onclick: () => this.remove(rule) }, "Delete"),
        h("button", { type: "button", className: "link-button", onclick: () => this.ask(null) }, "Cancel"));
    }
    return h("span", { className: "row-actions" },
      h("button", {
        type: "button",
        className: "link-button",
        attrs: { "aria-label": `Edit ${rule.keyword}` },
        onclick: () => this.edit(rule),
      }, "Edit"),
      h("button", {
        type: "button",
        className: "link-button",
        attrs: { "aria-label": `Delete ${rule.keyword}` },
        onclick: () => this.ask(rule.id),
      }, "Delete"));
  }

  ask(id) {
    this.asking = id;
    this.draw();
    this.list.querySelector(".danger-button")?.focus();
  }

  edit(rule) {
    this.editing = rule;
    this.clearError();
    setText(this.formTitle, rule ? `Edit ${rule.keyword}` : "New keyword reply");
    setText(this.submit, rule ? "Update keyword" : "Add keyword");
    this.keyword.value = rule ? rule.keyword : "";
    this.template.value = rule ? String(rule.template) : "";
    this.active.checked = rule ? rule.active : true;
    if (rule) this.keyword.focus();
  }

  async save() {
    const data = {
      keyword: this.keyword.value,
      template: this.template.value ? Number(this.template.value) : null,
      active: this.active.checked,
    };
    const url = this.editing ? `/api/keyword-rules/${this.editing.id}` : "/api/keyword-rules";
    if (await this.call(() => api.postJSON(url, data))) this.edit(null);
  }

  async remove(rule) {
    this.asking = null;
    if (await this.call(() => api.deleteJSON(`/api/keyword-rules/${rule.id}`)) &&
        this.editing && this.editing.id === rule.id) {
      this.edit(null);
    }
  }

  async refresh() {
    await this.reload(this.templates);
  }
}
