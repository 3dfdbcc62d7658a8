// "Opted out by phone": the lead asked, on a call, to get no more texts. The
// agent records it here, with an optional note; the number opts out at once
// (every waiting text to it fails, in every console), and the lead gets the
// one confirmation text the FCC allows. Shown under the composer while the
// number may still be texted, to agents who may change the lead.

import { h } from "./dom.js";

export class PhoneOptout {
  /**
   * @param {object} options
   * @param {(note: string) => void} options.record  sends consent.phone_optout
   * @param {string} options.idSuffix  makes the note's id unique per chatbox
   */
  constructor({ record, idSuffix }) {
    const noteId = `phone-optout-note-${idSuffix}`;
    this.note = h("input", { id: noteId, type: "text", maxLength: 500, autocomplete: "off" });
    this.form = h("form", {
      className: "phone-optout-form",
      hidden: true,
      dataset: { testid: "phone-optout-form" },
      onsubmit: (event) => {
        event.preventDefault();
        record(this.note.value);
        this.close();
      },
      onkeydown: (event) => {
        if (event.key === "Escape") {
          event.preventDefault();
          event.stopPropagation(); // the chatbox stays as it is
          this.close();
        }
      },
    },
    h("p", { className: "hint" },
      "The number opts out now: waiting texts to it are cancelled, and the lead gets one confirmation text."),
    h("label", { htmlFor: noteId }, "Note (optional)"), this.note,
    h("div", { className: "form-actions" },
      h("button", { type: "submit", className: "danger-button" }, "Record opt-out"),
      h("button", { type: "button", className: "link-button", onclick: () => this.close() }, "Cancel")));
    this.button = h("button", {
      type: "button",
      className: "link-button phone-optout-button",
      dataset: { testid: "phone-optout" },
      attrs: { "aria-expanded": "false" },
      onclick: () => this.open(),
    }, "Opted out by phone");
    this.el = h("div", { className: "phone-optout", hidden: true }, this.button, this.form);
  }

  /** Offered only while the number may be texted, to who may change the lead. */
  show(visible) {
    this.el.hidden = !visible;
    if (!visible) this.close();
  }

  open() {
    this.form.hidden = false;
    this.button.setAttribute("aria-expanded", "true");
    this.note.focus();
  }

  close() {
    const had = !this.form.hidden && this.form.contains(document.activeElement);
    this.form.hidden = true;
    this.note.value = "";
    this.button.setAttribute("aria-expanded", "false");
    if (had && !this.el.hidden) this.button.focus();
  }
}
