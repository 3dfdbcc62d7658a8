// Saved replies in the composer: the organisation's templates (filled in by
// the server for the conversation) and the category a text is filed under.
//
// Typing "/" at the start of a word opens a list of templates whose names
// match what follows ("/quo" finds "Quote ready"), keyboard only: arrows move,
// Enter or Tab puts the template's text in place of "/quo", Escape closes it.
// The text box keeps the focus throughout (aria-activedescendant names the
// highlighted template for screen readers). The "Insert a template…" select
// does the same with a pointer.

import { h, replaceChildren } from "./dom.js";
import { plural } from "./format.js";

// "/" at the start of the text or of a word, then the name typed so far.
const TRIGGER = /(^|\s)\/([^\s/]*)$/;
const SHOWN = 8;

export class SavedReplies {
  /**
   * @param {object} options
   * @param {HTMLTextAreaElement} options.textarea  the composer's text box
   * @param {string} options.id  the composer's id (for element ids)
   * @param {() => boolean} options.active  whether texting (not a note)
   * @param {(template: object, value: string) => void} options.use  puts the
   *   template in the box: `value` is the box's whole new text
   */
  constructor({ textarea, id, active, use }) {
    this.textarea = textarea;
    this.id = id;
    this.active = active;
    this.use = use;
    this.templates = [];
    this.matches = [];
    this.index = 0;
    this.open = false;

    this.menu = h("ul", {
      id: `${id}-replies`,
      className: "replies-menu",
      hidden: true,
      dataset: { testid: "replies-menu" },
      attrs: { role: "listbox", "aria-label": "Saved replies" },
    });
    this.status = h("span", { className: "sr-only", attrs: { role: "status" } });
    this.el = h("div", { className: "replies" }, this.menu, this.status);
    textarea.setAttribute("aria-autocomplete", "list");
    textarea.addEventListener("input", () => this.refresh());
    textarea.addEventListener("blur", () => window.setTimeout(() => this.close(), 150));
    textarea.addEventListener("click", () => this.refresh());

    this.templateSelect = h("select", {
      className: "template-select",
      hidden: true,
      attrs: { "aria-label": "Insert a template" },
      onchange: () => this.insertSelected(),
    });
    this.categorySelect = h("select", {
      className: "category-select",
      hidden: true,
      attrs: { "aria-label": "Category of this message" },
    });
    this.tools = h("div", { className: "composer-tools", hidden: true },
      this.templateSelect, this.categorySelect);
  }

  /** Templates ([{id, name, body, category}]) and categories ([{id, name}]). */
  setTemplates(templates, categories) {
    this.templates = templates || [];
    const cats = categories || [];
    const catName = new Map(cats.map((c) => [c.id, c.name]));
    const groups = new Map();
    for (const t of this.templates) {
      const key = catName.get(t.category) || t.category_name || "Templates";
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(t);
    }
    replaceChildren(
      this.templateSelect,
      h("option", { value: "" }, "Insert a template…"),
      [...groups].map(([label, items]) =>
        h("optgroup", { label }, items.map((t) => h("option", { value: String(t.id) }, t.name)))),
    );
    this.templateSelect.hidden = !this.templates.length;
    const current = this.categorySelect.value;
    replaceChildren(
      this.categorySelect,
      h("option", { value: "" }, "No category"),
      cats.map((c) => h("option", { value: String(c.id) }, c.name)),
    );
    this.categorySelect.value = catName.has(Number(current)) ? current : "";
    this.categorySelect.hidden = !cats.length;
    this.tools.hidden = this.templateSelect.hidden && this.categorySelect.hidden;
    // Saved replies that arrive while the agent is typing "/..." (the
    // chatbox's details still loading) open the list they typed for.
    if (this.open || document.activeElement === this.textarea) this.refresh();
  }

  /** The category chosen for the next text, or null. */
  category() {
    return this.categorySelect.value ? Number(this.categorySelect.value) : null;
  }

  fileUnder(template) {
    if (template.category) this.categorySelect.value = String(template.category);
  }

  insertSelected() {
    const template = this.templates.find((t) => String(t.id) === this.templateSelect.value);
    this.templateSelect.value = "";
    if (!template) return;
    const current = this.textarea.value;
    const text = textOf(template);
    this.fileUnder(template);
    this.use(template, current.trim() ? `${current.replace(/\s+$/, "")} ${text}` : text);
  }

  // -- the "/" list ---------------------------------------------------------

  /** What "/" asks for at the caret: {start, query}, or null. */
  trigger() {
    const caret = this.textarea.selectionStart;
    if (caret !== this.textarea.selectionEnd) return null;
    const match = TRIGGER.exec(this.textarea.value.slice(0, caret));
    if (!match) return null;
    return { start: caret - match[2].length - 1, query: match[2].toLowerCase() };
  }

  refresh() {
    const found = this.active() && this.templates.length ? this.trigger() : null;
    if (!found) {
      this.close();
      return;
    }
    const byName = this.templates.filter((t) => t.name.toLowerCase().includes(found.query));
    // Names that start with what was typed come first.
    byName.sort((a, b) => Number(!a.name.toLowerCase().startsWith(found.query))
      - Number(!b.name.toLowerCase().startsWith(found.query)));
    this.matches = byName.slice(0, SHOWN);
    this.index = Math.min(this.index, Math.max(0, this.matches.length - 1));
    if (!this.open) this.index = 0;
    this.open = true;
    this.draw();
  }

  draw() {
    this.menu.hidden = false;
    this.textarea.setAttribute("aria-controls", this.menu.id);
    if (!this.matches.length) {
      replaceChildren(this.menu, h("li", { className: "replies-empty", attrs: { role: "presentation" } },
        "No saved reply by that name"));
      this.textarea.removeAttribute("aria-activedescendant");
      this.status.textContent = "No saved reply by that name";
      return;
    }
    replaceChildren(this.menu, this.matches.map((template, i) => h("li", {
      id: `${this.id}-reply-${template.id}`,
      className: `replies-option${i === this.index ? " active" : ""}`,
      dataset: { testid: "reply-option" },
      attrs: { role: "option", "aria-selected": String(i === this.index) },
      // mousedown, not click: the text box keeps the focus.
      onmousedown: (event) => {
        event.preventDefault();
        this.pick(i);
      },
    }, h("span", { className: "reply-name" }, template.name),
    h("span", { className: "reply-text" }, textOf(template)))));
    this.textarea.setAttribute("aria-activedescendant", `${this.id}-reply-${this.matches[this.index].id}`);
    this.status.textContent = `${plural(this.matches.length, "saved reply", "saved replies")}: arrows choose, Enter inserts`;
  }

  close() {
    if (!this.open) return;
    this.open = false;
    this.menu.hidden = true;
    this.menu.replaceChildren();
    this.textarea.removeAttribute("aria-activedescendant");
    this.textarea.removeAttribute("aria-controls");
  }

  pick(index) {
    const template = this.matches[index];
    const found = this.trigger();
    this.close();
    if (!template || !found) return;
    const value = this.textarea.value;
    const caret = this.textarea.selectionStart;
    const text = textOf(template);
    const next = value.slice(0, found.start) + text + value.slice(caret);
    this.fileUnder(template);
    this.use(template, next);
    const at = found.start + text.length;
    this.textarea.setSelectionRange(at, at);
  }

  /** The composer's keys while the list is open; whether it took the key. */
  onKeydown(event) {
    if (!this.open) return false;
    const count = this.matches.length;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (count) {
        this.index = (this.index + (event.key === "ArrowDown" ? 1 : count - 1)) % count;
        this.draw();
      }
      return true;
    }
    if ((event.key === "Enter" || event.key === "Tab") && count && !event.shiftKey) {
      event.preventDefault();
      this.pick(this.index);
      return true;
    }
    if (event.key === "Escape") {
      event.preventDefault(); // the chatbox does not minimize too
      event.stopPropagation();
      this.close();
      return true;
    }
    return false;
  }
}

function textOf(template) {
  return template.text ?? template.body;
}
