// Small forms the console shows in place (a contact's name, a new number, a
// new lead): labelled fields, a submit and a cancel button, and the server's
// refusal said in the form. A refused form keeps what was typed.

import { h, replaceChildren, setText } from "./dom.js";

let forms = 0;

/**
 * A form. `fields`: [{name, label, type ("text", "tel", "email", "select"),
 * value, options ([[value, label]] for selects), list (suggestions), required,
 * autocomplete, hint}]. `submit(values)` returns a promise; a rejection's
 * `reason` shows in the form. `cancel()` is the cancel button's (and
 * Escape's) action.
 */
export class InlineForm {
  constructor({ fields, submitLabel, submit, cancel, className = "", label }) {
    this.id = `form-${++forms}`;
    this.submitAction = submit;
    this.inputs = new Map();
    this.error = h("div", {
      className: "form-error",
      hidden: true,
      dataset: { testid: "form-error" },
      attrs: { role: "alert" },
    });
    this.submitButton = h("button", { type: "submit", className: "primary-button" }, submitLabel);
    this.extra = h("div", { className: "form-extra" });
    this.el = h(
      "form",
      {
        className: `inline-form ${className}`,
        noValidate: true,
        attrs: { "aria-label": label || submitLabel },
        onsubmit: (event) => {
          event.preventDefault();
          this.send();
        },
        onkeydown: (event) => {
          if (event.key === "Escape" && cancel) {
            event.preventDefault();
            event.stopPropagation();
            cancel();
          }
        },
      },
      fields.map((field) => this.field(field)),
      this.error,
      this.extra,
      h("div", { className: "form-buttons" },
        this.submitButton,
        cancel ? h("button", { type: "button", className: "link-button", onclick: cancel }, "Cancel") : null),
    );
  }

  field({ name, label, type = "text", value = "", options, list, required, autocomplete, hint }) {
    let input;
    if (type === "select") {
      input = h("select", { name },
        options.map(([v, text]) => h("option", { value: v, selected: v === value }, text)));
    } else {
      input = h("input", {
        name,
        type,
        value,
        required: Boolean(required),
        autocomplete: autocomplete || "off",
        attrs: {
          inputmode: type === "tel" ? "tel" : null,
          list: list ? `${this.id}-${name}-list` : null,
          spellcheck: type === "text" ? null : "false",
        },
      });
    }
    this.inputs.set(name, input);
    return h("label", { className: `form-field field-${name}` },
      h("span", { className: "field-label" }, label, required ? null : h("span", { className: "optional" }, " (optional)")),
      input,
      hint ? h("span", { className: "field-hint" }, hint) : null,
      list ? h("datalist", { id: `${this.id}-${name}-list` }, list.map((v) => h("option", { value: v }))) : null);
  }

  values() {
    const values = {};
    for (const [name, input] of this.inputs) values[name] = input.value.trim();
    return values;
  }

  focus() {
    const first = [...this.inputs.values()][0];
    if (first) first.focus();
  }

  /** Send the form; on a refusal, say why and keep what was typed. */
  async send(extra = {}) {
    if (this.busy) return;
    this.busy = true;
    this.submitButton.disabled = true;
    this.showError(null);
    try {
      await this.submitAction({ ...this.values(), ...extra });
    } catch (error) {
      this.showError(error.reason || error.message || String(error));
      this.focusFieldOf(error);
    } finally {
      this.busy = false;
      this.submitButton.disabled = false;
    }
  }

  showError(reason) {
    this.error.hidden = !reason;
    setText(this.error, reason || "");
  }

  /** Put the cursor in the field a refusal is about (a number, an email). */
  focusFieldOf(error) {
    const reason = String(error.reason || "").toLowerCase();
    const guess = [
      ["number", /number|digits|area code|landline|extension|country code/],
      ["email", /email/],
      ["first_name", /name/],
    ].find(([name, pattern]) => this.inputs.has(name) && pattern.test(reason));
    if (guess) this.inputs.get(guess[0]).focus();
  }

  /** Show more under the fields (a duplicate's leads, say); null clears. */
  setExtra(...children) {
    replaceChildren(this.extra, ...children);
  }
}
