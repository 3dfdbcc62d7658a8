// The composer: the text box, its live count of characters and segments (from
// segments.js, the twin of the server's carriers/segments.py), the characters
// that force UCS-2, templates and categories (and saved replies typed with
// "/": replies.js), and why it is disabled when the agent may not text. It
// also writes internal notes (its "Note" tab), and keeps a draft of each tab
// that the chatbox stores (`draft()`, `loadDraft()`).

import { h, icon, replaceChildren, setText } from "./dom.js";
import { plural } from "./format.js";
import { SavedReplies } from "./replies.js";
import { check_limit, LIMITS, replacement_for, segment, smart_replace } from "./segments.js";
import { SendLater } from "./sendlater.js";

let composerIds = 0;

const NOTE_LABEL = "Internal note: only your team sees it";

export class Composer {
  /**
   * @param {object} options
   * @param {() => string} options.limit  the organisation's plan ("standard", ...)
   * @param {(text: string, extra: object) => void} options.onSend
   * @param {string} options.label  what the text box is for ("Text Dana")
   * @param {import("./mms.js").ImagePicker} [options.picker]  attaches images (MMS)
   * @param {(mode: string) => void} [options.onEdit]  the agent changed the text
   * @param {() => string|null} [options.zone]  the lead's time zone ("Send later")
   */
  constructor({ limit, onSend, label, picker = null, onEdit = () => {}, zone = () => null }) {
    this.limit = limit;
    this.onSend = onSend;
    this.onEdit = onEdit;
    this.label = label;
    this.picker = picker;
    this.mode = "text"; // or "note"
    this.drafts = { text: "", note: "" }; // what each tab holds while the other is shown
    this.block = null; // {reason, action} when texting is not possible now
    this.scheduleFor = null; // quiet hours: the local time it would go
    this.id = `composer-${++composerIds}`;

    this.textarea = h("textarea", {
      id: `${this.id}-text`,
      className: "composer-input",
      rows: 1,
      placeholder: label,
      attrs: {
        "aria-label": label,
        "aria-describedby": `${this.id}-counter ${this.id}-notice`,
        enterkeyhint: "send",
      },
      oninput: () => {
        this.update();
        this.onEdit(this.mode);
      },
      onkeydown: (event) => this.onKeydown(event),
    });
    this.replies = new SavedReplies({
      textarea: this.textarea,
      id: this.id,
      active: () => this.mode === "text",
      use: (template, value) => this.useTemplate(value),
    });
    this.sendButton = h(
      "button",
      {
        type: "button",
        className: "send-button",
        dataset: { testid: "send" },
        attrs: { "aria-label": "Send" },
        onclick: () => this.send(),
      },
      icon("send"),
      (this.sendLabel = h("span", { className: "send-label" }, "Send")),
    );
    // "Send later": the text goes at a time the agent picks.
    this.later = new SendLater({ zone, choose: (later) => this.send(later) });
    this.counter = h("span", {
      id: `${this.id}-counter`,
      className: "counter",
      dataset: { testid: "counter" },
      attrs: { "aria-live": "off" },
    });
    this.ucs2 = h("div", { className: "ucs2", hidden: true });
    this.problem = h("div", { className: "composer-problem", hidden: true });
    this.error = h("div", {
      className: "composer-error",
      hidden: true,
      dataset: { testid: "send-error" },
      attrs: { role: "alert" },
    });
    this.notice = h("div", {
      id: `${this.id}-notice`,
      className: "composer-notice",
      hidden: true,
      dataset: { testid: "composer-notice" },
      attrs: { role: "status" },
    });
    const tab = (mode, text) => h("button", {
      type: "button",
      className: "mode-tab",
      dataset: { mode, testid: `mode-${mode}` },
      attrs: { role: "tab", "aria-selected": String(mode === this.mode) },
      onclick: () => this.setMode(mode),
    }, text);
    this.modes = h("div", { className: "composer-modes", attrs: { role: "tablist", "aria-label": "Write" } },
      tab("text", "Reply by SMS"), tab("note", "Internal note"));
    this.hint = h("span", { className: "composer-hint", hidden: true }, "Type / for saved replies");
    this.el = h(
      "div",
      { className: "composer", dataset: { testid: "composer" } },
      this.modes,
      this.notice,
      this.error,
      this.replies.tools,
      picker ? picker.strip : null,
      this.replies.el,
      this.later.el,
      h("div", { className: "composer-row" }, picker ? picker.buttons : null, this.textarea,
        this.later.button, this.sendButton),
      this.problem,
      this.ucs2,
      h("div", { className: "composer-meta" }, this.hint, this.counter),
    );
    this.update();
  }

  /** Switch between texting the lead and writing an internal note; each
   * keeps its own draft. */
  setMode(mode) {
    if (mode === this.mode) return;
    this.drafts[this.mode] = this.textarea.value;
    this.mode = mode;
    this.textarea.value = this.drafts[mode];
    for (const button of this.modes.children) {
      button.setAttribute("aria-selected", String(button.dataset.mode === mode));
    }
    this.replies.close();
    this.clearError();
    this.render();
    this.textarea.focus();
  }

  /** What each tab holds, and which is shown: the chatbox keeps it. */
  draft() {
    const drafts = { ...this.drafts, [this.mode]: this.textarea.value };
    return { text: drafts.text, note: drafts.note, mode: this.mode };
  }

  /** Put a kept draft back (an empty composer only: nothing typed is lost). */
  loadDraft(draft) {
    if (!draft || this.textarea.value.trim()) return;
    this.drafts = { text: draft.text || "", note: draft.note || "" };
    this.mode = draft.mode === "note" ? "note" : "text";
    this.textarea.value = this.drafts[this.mode];
    for (const button of this.modes.children) {
      button.setAttribute("aria-selected", String(button.dataset.mode === this.mode));
    }
    this.render();
  }

  focus() {
    if (!this.textarea.disabled) this.textarea.focus();
  }

  get text() {
    return this.textarea.value;
  }

  /** Put text back in its tab (a failed send loses nothing). */
  restore(text, mode = "text") {
    if (mode !== this.mode) {
      if (!this.drafts[mode].trim()) this.drafts[mode] = text;
      return;
    }
    if (!this.textarea.value.trim()) this.textarea.value = text;
    this.update();
    this.onEdit(this.mode);
  }

  /** Templates ([{id, name, body, category}], filled in by the server for
   * this conversation) and categories ([{id, name}]): replies.js. */
  setTemplates(templates, categories) {
    this.replies.setTemplates(templates, categories);
    this.hint.hidden = !(templates || []).length;
  }

  /** Put a saved reply in the box: `value` is the box's whole new text. */
  useTemplate(value) {
    this.textarea.value = value;
    this.update();
    this.onEdit(this.mode);
    this.textarea.focus();
  }

  /**
   * Disable the composer with a reason (null enables it). `action` adds a
   * button to the notice: {label, run}.
   */
  setBlocked(reason, action = null) {
    this.block = reason ? { reason, action } : null;
    this.render();
  }

  /** Quiet hours: sends are scheduled for `when` (a label), or null. */
  setSchedule(reason, when) {
    this.scheduleFor = reason ? { reason, when } : null;
    this.render();
  }

  render() {
    const note = this.mode === "note";
    const blocked = Boolean(this.block) && !note;
    this.textarea.disabled = blocked;
    this.textarea.placeholder = note ? NOTE_LABEL : this.label;
    this.textarea.setAttribute("aria-label", note ? NOTE_LABEL : this.label);
    this.el.classList.toggle("blocked", blocked);
    this.el.classList.toggle("note-mode", note);
    const shown = note ? null : this.block || this.scheduleFor;
    this.notice.hidden = !shown;
    if (shown) {
      const action = this.block ? this.block.action : null;
      replaceChildren(
        this.notice,
        icon(this.block ? "alert" : "clock"),
        h("span", {}, shown.reason),
        action ? h("button", {
          type: "button",
          className: "link-button",
          onclick: action.run,
        }, action.label) : null,
      );
    }
    const scheduling = Boolean(this.scheduleFor) && !blocked && !note;
    this.el.classList.toggle("scheduling", scheduling);
    if (this.picker) this.picker.setDisabled(blocked || note);
    this.el.classList.toggle("no-images", note);
    setText(this.sendLabel, note ? "Add note" : scheduling ? "Schedule" : "Send");
    this.sendButton.setAttribute(
      "aria-label",
      note ? "Add note" : scheduling ? `Schedule for ${this.scheduleFor.when}` : "Send",
    );
    this.update();
  }

  /** The placeholder of the SMS tab ("Text Dana…"). */
  setLabel(label) {
    if (label === this.label) return;
    this.label = label;
    if (this.mode === "text") {
      this.textarea.placeholder = label;
      this.textarea.setAttribute("aria-label", label);
    }
  }

  /** Recount as the agent types. */
  update() {
    const text = this.textarea.value;
    if (this.mode === "note") {
      this.ucs2.hidden = true;
      this.problem.hidden = true;
      setText(this.counter, "");
      this.sendButton.disabled = !text.trim();
      this.later.setDisabled(true);
      this.autosize();
      return;
    }
    const limitName = this.limit() || "standard";
    const rule = LIMITS[limitName] || LIMITS.standard;
    const info = segment(text);
    const problem = text ? check_limit(text, limitName in LIMITS ? limitName : "standard") : null;
    const used = info[rule.count];
    const left = rule.max_characters - used;
    // With images it is one MMS, billed as one message whatever its length.
    const images = this.picker ? this.picker.count() : 0;
    const parts = images
      ? [`${left} ${Math.abs(left) === 1 ? "character" : "characters"} left`, plural(images, "image"), "MMS"]
      : [
        `${left} ${Math.abs(left) === 1 ? "character" : "characters"} left`,
        plural(info.segments || (text ? 1 : 0), "segment"),
        info.encoding,
      ];
    setText(this.counter, parts.join(" · "));
    this.counter.classList.toggle("over", left < 0);
    this.counter.classList.toggle("ucs2-on", info.encoding === "UCS-2");
    this.counter.dataset.left = String(left);
    this.counter.dataset.segments = String(info.segments);
    this.counter.dataset.encoding = images ? "MMS" : info.encoding;
    // The characters that make this a UCS-2 text (70 per segment, not 160).
    const forcing = info.ucs2_characters;
    this.ucs2.hidden = !forcing.length;
    if (forcing.length) {
      const fixable = forcing.some((ch) => replacement_for(ch) !== null);
      replaceChildren(
        this.ucs2,
        h("span", {}, rule.gsm7_only
          ? `${forcing.length === 1 ? "This character is" : "These characters are"} not allowed on your plan: `
          : "Sent as UCS-2 (70 per segment) because of "),
        forcing.slice(0, 8).map((ch) => h("mark", { className: "ucs2-char", title: codePoints(ch) }, ch)),
        forcing.length > 8 ? h("span", {}, ` and ${forcing.length - 8} more`) : null,
        fixable ? h("button", {
          type: "button",
          className: "link-button",
          onclick: () => {
            this.textarea.value = smart_replace(this.textarea.value);
            this.update();
            this.textarea.focus();
          },
        }, "Replace look-alikes") : null,
      );
    }
    // A character the plan refuses is said once: the UCS-2 line above names
    // it (with the look-alikes to replace it by), not this line again.
    const said = rule.gsm7_only && forcing.length;
    this.problem.hidden = !problem || said;
    setText(this.problem, said ? "" : problem || "");
    this.sendButton.disabled = Boolean(this.block) || (!text.trim() && !images) || Boolean(problem);
    // A text with images goes now: their upload route takes no send_at.
    // Nor before the lead's time zone is known: "9:00 their time" needs it.
    this.later.setDisabled(this.sendButton.disabled || Boolean(images) || !this.later.zone());
    this.autosize();
  }

  autosize() {
    this.textarea.style.height = "auto";
    this.textarea.style.height = `${Math.min(this.textarea.scrollHeight, 160)}px`;
  }

  onKeydown(event) {
    if (this.replies.onKeydown(event)) return;
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing && !event.altKey) {
      event.preventDefault();
      this.send();
    }
  }

  /** Send the text now, or with `later` ({sendAt, cancelOnReply}) then;
   * `schedule`: at the first time allowed, whatever the notice shows. */
  send(later = null, schedule = false) {
    const text = this.textarea.value.trim();
    if (this.mode === "note") {
      if (!text) return;
      this.clearError();
      this.textarea.value = "";
      // A note is a side remark: the box goes back to texting the lead.
      this.setMode("text");
      this.onSend(text, { note: true });
      this.onEdit(this.mode);
      return;
    }
    const images = this.picker && this.picker.count() ? this.picker : null;
    if ((!text && !images) || this.block) return;
    const problem = text ? check_limit(text, this.limit() in LIMITS ? this.limit() : "standard") : null;
    if (problem) {
      this.showError(problem);
      return;
    }
    const category = this.replies.category();
    this.clearError();
    this.textarea.value = "";
    const extra = later ? { category, later } : { category, schedule: schedule || Boolean(this.scheduleFor) };
    if (images) extra.images = images.take();
    this.update();
    this.onSend(text, extra);
    this.onEdit(this.mode);
  }

  /** Say why a send failed; `action` ({label, run}) offers a way out. */
  showError(reason, action = null) {
    this.error.hidden = false;
    replaceChildren(
      this.error,
      icon("alert"),
      h("span", {}, reason),
      action ? h("button", { type: "button", className: "link-button", onclick: action.run },
        action.label) : null,
    );
  }

  clearError() {
    this.error.hidden = true;
    this.error.replaceChildren();
  }
}

function codePoints(ch) {
  return Array.from(ch)
    .map((c) => `U+${c.codePointAt(0).toString(16).toUpperCase().padStart(4, "0")}`)
    .join(" ");
}
