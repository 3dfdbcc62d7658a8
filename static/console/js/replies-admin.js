// Admins manage the team's saved replies here: templates (a name, a category,
// a text with merge fields such as {lead.first_name}) and the categories that
// file them, the keyword replies that send them (keyword-rules.js), and
// each number's after-hours reply (business-hours.js). A
// modal dialog from the top bar; every change goes through the
// JSON API (docs/protocol.md, "Saved replies"), which checks the text and
// tells every open console, so composers offer the new wording at once.

import * as api from "./api.js";
import { h, icon, replaceChildren, setText } from "./dom.js";
import { BusinessHours } from "./business-hours.js";
import { KeywordRules } from "./keyword-rules.js";
import { AdminSection } from "./admin-section.js";

// The merge fields a template may use (chatserver/rules/templating.py).
const FIELDS = [
  ["{lead.first_name}", "the contact's first name"],
  ["{lead.full_name}", "the contact's full name"],
  ["{lead.name}", "the lead's name"],
  ["{agent.first_name}", "your first name"],
  ["{agent.phone}", "the number texted from"],
  ["{org.name}", "the organisation"],
];

export class RepliesAdmin extends AdminSection {
  constructor() {
    super();
    this.templates = [];
    this.categories = [];
    this.editing = null; // the template in the form (null: a new one)
    this.asking = null; // what awaits a "really delete?": {kind, id}
    this.renaming = null; // the category being renamed

    this.error = h("p", { className: "form-error", hidden: true, attrs: { role: "alert" } });
    this.name = h("input", { id: "reply-name", maxLength: 100, required: true });
    this.category = h("select", { id: "reply-category" });
    this.body = h("textarea", { id: "reply-body", rows: 4, required: true });
    this.formTitle = h("h3", {}, "New saved reply");
    this.form = h("form", {
      className: "reply-form",
      dataset: { testid: "reply-form" },
      onsubmit: (event) => {
        event.preventDefault();
        this.saveTemplate();
      },
    },
    this.formTitle,
    h("label", { htmlFor: "reply-name" }, "Name (type / and this in a composer)"), this.name,
    h("label", { htmlFor: "reply-category" }, "Category"), this.category,
    h("label", { htmlFor: "reply-body" }, "Text"), this.body,
    h("div", { className: "merge-fields", attrs: { role: "group", "aria-label": "Insert a merge field" } },
      FIELDS.map(([field, meaning]) => h("button", {
        type: "button",
        className: "chip-button",
        title: `Insert ${meaning}`,
        attrs: { "aria-label": `Insert ${field}: ${meaning}` },
        onclick: () => this.insertField(field),
      }, field))),
    this.error,
    h("div", { className: "form-actions" },
      h("button", { type: "submit", className: "primary-button" }, "Save"),
      h("button", { type: "button", className: "link-button", onclick: () => this.edit(null) }, "Clear")));

    this.rules = new KeywordRules();
    this.hours = new BusinessHours();
    this.list = h("ul", { className: "reply-list", dataset: { testid: "reply-list" } });
    this.categoryList = h("ul", { className: "category-list" });
    this.newCategory = h("input", { id: "new-category", maxLength: 60 });
    this.dialog = h("dialog", {
      className: "replies-admin",
      dataset: { testid: "replies-admin" },
      attrs: { "aria-labelledby": "replies-admin-title" },
    },
    h("div", { className: "dialog-head" },
      h("h2", { id: "replies-admin-title" }, "Saved replies"),
      h("button", {
        type: "button",
        className: "link-button",
        onclick: () => this.dialog.close(),
      }, "Close")),
    h("div", { className: "dialog-body" },
      h("section", { attrs: { "aria-label": "Templates" } }, this.list, this.form),
      h("section", { className: "categories", attrs: { "aria-labelledby": "categories-title" } },
        h("h3", { id: "categories-title" }, "Categories"),
        this.categoryList,
        h("form", {
          className: "inline-form",
          onsubmit: (event) => {
            event.preventDefault();
            this.saveCategory(null, this.newCategory.value);
          },
        },
        h("label", { htmlFor: "new-category" }, "New category"), this.newCategory,
        h("button", { type: "submit", className: "secondary-button" }, "Add"))),
      this.rules.el,
      this.hours.el));
    this.button = h("button", {
      type: "button",
      className: "topbar-link replies-admin-button",
      dataset: { testid: "replies-admin-button" },
      // Named when its word is hidden too (at phone width only the icon shows).
      attrs: { "aria-label": "Saved replies", "aria-haspopup": "dialog" },
      onclick: () => this.open(),
    }, icon("replies"), h("span", {}, "Saved replies"));
  }

  async open() {
    if (!this.dialog.isConnected) document.body.append(this.dialog);
    this.dialog.showModal();
    this.edit(null);
    await this.reload();
    this.name.focus();
  }

  /** Read them again (after a change here, or another admin's). */
  async reload() {
    // Reloads overlap (the dialog opening while a change reloads): only the
    // newest one's answer is drawn, never an older, staler one after it.
    const turn = (this.turn = (this.turn || 0) + 1);
    try {
      const [data] = await Promise.all([
        api.getJSON("/api/templates"),
        this.hours.reload(),
      ]);
      if (turn !== this.turn) return;
      this.templates = data.templates;
      this.categories = data.categories;
      this.draw();
      await this.rules.reload(this.templates);
    } catch (error) {
      this.showError(error.reason || error.message);
    }
  }

  draw() {
    const categoryName = new Map(this.categories.map((c) => [c.id, c.name]));
    replaceChildren(this.list, this.templates.length ? this.templates.map((t) => h("li", {
      className: "reply-row",
      dataset: { testid: "reply-row" },
    },
    h("div", { className: "reply-row-main" },
      h("strong", {}, t.name),
      t.category ? h("span", { className: "category-chip" }, categoryName.get(t.category)) : null,
      h("p", { className: "reply-text" }, t.body)),
    this.rowActions("template", t, () => this.edit(t), `Edit ${t.name}`))) :
      h("li", { className: "empty" }, "No saved replies yet: write the first below."));
    replaceChildren(this.categoryList, this.categories.map((c) => h("li", { className: "category-row" },
      this.renaming === c.id ? this.renameForm(c) : h("span", {}, c.name),
      this.renaming === c.id ? null : this.rowActions("category", c, () => {
        this.renaming = c.id;
        this.draw();
        this.categoryList.querySelector("input")?.focus();
      }, `Rename ${c.name}`))));
    const chosen = this.category.value;
    replaceChildren(this.category, h("option", { value: "" }, "No category"),
      this.categories.map((c) => h("option", { value: String(c.id) }, c.name)));
    this.category.value = categoryName.has(Number(chosen)) ? chosen : "";
  }

  /** Edit and delete (delete asks first, in place). */
  rowActions(kind, item, edit, editLabel) {
    if (this.asking && this.asking.kind === kind && this.asking.id === item.id) {
      return h("span", { className: "row-actions" }, `Delete “${item.name}”?`,
        h("button", { type: "button", className: "danger-button", onclick: () => this.remove(kind, item) },
          "Delete"),
        h("button", { type: "button", className: "link-button", onclick: () => this.ask(null) }, "Cancel"));
    }
    return h("span", { className: "row-actions" },
      h("button", { type: "button", className: "link-button", attrs: { "aria-label": editLabel }, onclick: edit },
        kind === "template" ? "Edit" : "Rename"),
      h("button", {
        type: "button",
        className: "link-button",
        attrs: { "aria-label": `Delete ${item.name}` },
        onclick: () => this.ask({ kind, id: item.id }),
      }, "Delete"));
  }

  renameForm(category) {
    const input = h("input", { value: category.name, maxLength: 60, attrs: { "aria-label": "Category name" } });
    return h("form", {
      className: "inline-form",
      onsubmit: (event) => {
        event.preventDefault();
        this.saveCategory(category, input.value);
      },
      onkeydown: (event) => {
        if (event.key === "Escape") {
          event.preventDefault(); // the dialog stays open
          this.renaming = null;
          this.draw();
        }
      },
    }, input, h("button", { type: "submit", className: "secondary-button" }, "Save"));
  }

  ask(what) {
    this.asking = what;
    this.draw();
    this.dialog.querySelector(".danger-button")?.focus();
  }

  edit(template) {
    this.editing = template;
    this.clearError();
    setText(this.formTitle, template ? `Edit “${template.name}”` : "New saved reply");
    this.name.value = template ? template.name : "";
    this.body.value = template ? template.body : "";
    this.category.value = template && template.category ? String(template.category) : "";
    if (template) this.name.focus();
  }

  insertField(field) {
    const { selectionStart: start, selectionEnd: end, value } = this.body;
    this.body.value = value.slice(0, start) + field + value.slice(end);
    this.body.focus();
    this.body.setSelectionRange(start + field.length, start + field.length);
  }

  async saveTemplate() {
    const data = {
      name: this.name.value,
      body: this.body.value,
      category: this.category.value ? Number(this.category.value) : null,
    };
    const url = this.editing ? `/api/templates/${this.editing.id}` : "/api/templates";
    if (await this.call(() => api.postJSON(url, data))) {
      this.edit(null);
      this.name.focus();
    }
  }

  async saveCategory(category, name) {
    const url = category ? `/api/categories/${category.id}` : "/api/categories";
    if (await this.call(() => api.postJSON(url, { name }))) {
      this.renaming = null;
      if (!category) this.newCategory.value = "";
      this.draw();
    }
  }

  async remove(kind, item) {
    const url = kind === "template" ? `/api/templates/${item.id}` : `/api/categories/${item.id}`;
    this.asking = null;
    if (await this.call(() => api.deleteJSON(url)) && this.editing && this.editing.id === item.id) {
      this.edit(null);
    }
  }
}
