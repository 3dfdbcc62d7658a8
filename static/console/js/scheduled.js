// A scheduled text in the thread: when it goes, on the lead's clock and the
// agent's, with Edit (its words, its time, whether the lead's reply cancels
// it) and Cancel until it goes. The server decides (message.reschedule,
// message.cancel); the change reaches every console as an event
// (message.updated, message.status), so nothing here changes the message.

import { h } from "./dom.js";
import { fromLocalInput, toLocalInput, whenOn, zoneCity } from "./sendlater.js";

let editIds = 0;

/** "Scheduled for Thu, Jan 16, 9:00 AM their time (11:00 AM yours)". */
export function scheduledLabel(message, zone) {
  const theirs = zone || message.lead_time_zone;
  const mine = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!theirs || theirs === mine) return `Scheduled for ${whenOn(message.scheduled_for)}`;
  return `Scheduled for ${whenOn(message.scheduled_for, theirs)} their time ` +
    `(${whenOn(message.scheduled_for)} yours)`;
}

export class ScheduledTexts {
  /**
   * @param {object} options
   * @param {(frame: object) => void} options.command  sends a command; its
   *   refusal shows in the composer
   * @param {() => string|null} options.zone  the lead's time zone
   * @param {() => void} options.rerender  redraws the thread
   */
  constructor({ command, zone, rerender }) {
    this.command = command;
    this.zone = zone;
    this.rerender = rerender;
    this.editing = new Set(); // ids of the scheduled texts being edited
  }

  /** What shows under a message: nothing unless it is scheduled (or was
   * cancelled: why). */
  view(message) {
    if (message.direction !== "out" || !message.id) return null;
    if (message.status === "cancelled") {
      return h("div", { className: "cancelled-note", dataset: { testid: "cancelled" } },
        message.error_reason || "Cancelled.");
    }
    if (message.status !== "scheduled" || !message.scheduled_for) return null;
    if (this.editing.has(message.id)) return this.editor(message);
    const zone = message.lead_time_zone || this.zone();
    return h("div", { className: "scheduled-bar", dataset: { testid: "scheduled" } },
      h("span", { className: "scheduled-when" }, scheduledLabel(message, zone)),
      message.cancel_on_reply
        ? h("span", { className: "scheduled-flag" }, "Cancelled if the lead replies first")
        : null,
      h("span", { className: "scheduled-actions" },
        h("button", {
          type: "button",
          className: "link-button",
          dataset: { testid: "scheduled-edit" },
          onclick: () => {
            this.editing.add(message.id);
            this.rerender();
          },
        }, "Edit"),
        h("button", {
          type: "button",
          className: "link-button",
          dataset: { testid: "scheduled-cancel" },
          onclick: () => this.command({ type: "message.cancel", message: message.id }),
        }, "Cancel text")));
  }

  editor(message) {
    const id = `scheduled-edit-${++editIds}`;
    const zone = message.lead_time_zone || this.zone() ||
      Intl.DateTimeFormat().resolvedOptions().timeZone;
    const body = h("textarea", { id: `${id}-body`, className: "scheduled-body", rows: 2, value: message.body });
    const at = h("input", {
      id: `${id}-at`,
      type: "datetime-local",
      value: toLocalInput(new Date(message.scheduled_for), zone),
    });
    const cancelOnReply = h("input", {
      id: `${id}-cancel`,
      type: "checkbox",
      checked: Boolean(message.cancel_on_reply),
    });
    const close = () => {
      this.editing.delete(message.id);
      this.rerender();
    };
    const save = () => {
      const frame = { type: "message.reschedule", message: message.id };
      if (body.value.trim() !== message.body.trim()) frame.body = body.value;
      const when = fromLocalInput(at.value, zone);
      if (when && when.toISOString() !== new Date(message.scheduled_for).toISOString()) {
        frame.send_at = when.toISOString();
      }
      if (cancelOnReply.checked !== Boolean(message.cancel_on_reply)) {
        frame.cancel_on_reply = cancelOnReply.checked;
      }
      if (Object.keys(frame).length > 2) this.command(frame);
      close();
    };
    return h("form", {
      className: "scheduled-editor",
      dataset: { testid: "scheduled-editor" },
      attrs: { "aria-label": "Edit the scheduled text" },
      onsubmit: (event) => {
        event.preventDefault();
        save();
      },
      onkeydown: (event) => {
        if (event.key === "Escape") close();
      },
    },
    h("label", { htmlFor: body.id }, "Text"),
    body,
    h("label", { htmlFor: at.id }, `Goes at (their time, ${zoneCity(zone)})`),
    at,
    h("div", { className: "later-option" },
      cancelOnReply,
      h("label", { htmlFor: cancelOnReply.id }, "Cancel if the lead replies first")),
    h("div", { className: "scheduled-actions" },
      h("button", { type: "submit", className: "link-button" }, "Save"),
      h("button", { type: "button", className: "link-button", onclick: close }, "Keep as it was")));
  }
}
