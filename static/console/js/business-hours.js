// After-hours replies, in the admins' saved replies dialog: for each of the
// organisation's numbers, the days and hours it is answered (in a time zone)
// and the text a lead who writes outside them gets, at most once per
// conversation in a set number of hours. Through the JSON API
// (docs/protocol.md, "/api/business-hours").

import * as api from "./api.js";
import { h, replaceChildren } from "./dom.js";
import { prettyNumber } from "./format.js";
import { AdminSection } from "./admin-section.js";

const DAYS = [["1", "Mon"], ["2", "Tue"], ["3", "Wed"], ["4", "Thu"], ["5", "Fri"], ["6", "Sat"], ["7", "Sun"]];
const FULL_DAY = { Mon: "Monday", Tue: "Tuesday", Wed: "Wednesday", Thu: "Thursday", Fri: "Friday",
  Sat: "Saturday", Sun: "Sunday" };

export class BusinessHours extends AdminSection {
  constructor() {
    super();
    this.numbers = [];
    const field = (id, label, input) => [h("label", { htmlFor: id }, label), input];
    this.number = h("select", { id: "hours-number", onchange: () => this.fill() });
    this.zone = h("input", { id: "hours-zone", required: true, autocomplete: "off",
      placeholder: "America/New_York" });
    this.days = DAYS.map(([value]) => h("input", { type: "checkbox", value, id: `hours-day-${value}` }));
    this.opens = h("input", { id: "hours-opens", type: "time", required: true });
    this.closes = h("input", { id: "hours-closes", type: "time", required: true });
    this.text = h("textarea", { id: "hours-text", rows: 2, maxLength: 1000 });
    this.every = h("input", { id: "hours-every", type: "number", min: 1, max: 336, required: true });
    this.status = h("p", { className: "hint", attrs: { role: "status" } });
    this.error = h("p", { className: "form-error", hidden: true, attrs: { role: "alert" } });
    this.form = h("form", {
      className: "reply-form hours-form",
      dataset: { testid: "hours-form" },
      onsubmit: (event) => {
        event.preventDefault();
        this.save();
      },
    },
    ...field("hours-number", "Number", this.number),
    this.status,
    ...field("hours-zone", "Time zone", this.zone),
    h("fieldset", { className: "day-boxes" }, h("legend", {}, "Open on"),
      DAYS.map(([value, short], i) => h("label", {
        className: "check-label", htmlFor: `hours-day-${value}`, title: FULL_DAY[short],
      }, this.days[i], short))),
    ...field("hours-opens", "Opens", this.opens),
    ...field("hours-closes", "Closes (before it opens: past midnight)", this.closes),
    ...field("hours-text", "After-hours reply (empty: none)", this.text),
    ...field("hours-every", "At most once per conversation every (hours)", this.every),
    this.error,
    h("div", { className: "form-actions" },
      h("button", { type: "submit", className: "primary-button" }, "Set hours"),
      h("button", { type: "button", className: "link-button", onclick: () => this.remove() }, "Remove hours")));
    this.el = h("section", {
      className: "keyword-rules business-hours",
      attrs: { "aria-labelledby": "business-hours-title" },
    }, h("h3", { id: "business-hours-title" }, "After-hours replies"), this.form);
  }

  async reload() {
    try {
      this.numbers = (await api.getJSON("/api/business-hours")).numbers;
    } catch (error) {
      this.showError(error.reason || error.message);
      return;
    }
    const chosen = this.number.value;
    replaceChildren(this.number, this.numbers.map((n) => h("option", { value: String(n.id) }, prettyNumber(n.number))));
    if (this.numbers.some((n) => String(n.id) === chosen)) this.number.value = chosen;
    this.fill();
  }

  chosen() {
    return this.numbers.find((n) => String(n.id) === this.number.value);
  }

  /** The chosen number's hours in the form (a new one: weekdays 9 to 17). */
  fill() {
    this.clearError();
    const number = this.chosen();
    const hours = (number && number.hours) || null;
    this.status.textContent = hours ? "" : "No business hours yet: no after-hours reply.";
    this.zone.value = hours ? hours.time_zone : "America/New_York";
    const days = hours ? hours.days : "12345";
    for (const box of this.days) box.checked = days.includes(box.value);
    this.opens.value = hours ? hours.opens : "09:00";
    this.closes.value = hours ? hours.closes : "17:00";
    this.text.value = hours ? hours.after_hours_text : "";
    this.every.value = String(hours ? hours.reply_every_hours : 12);
  }

  async save() {
    const number = this.chosen();
    if (!number) return;
    const data = {
      time_zone: this.zone.value,
      days: this.days.filter((box) => box.checked).map((box) => box.value).join(""),
      opens: this.opens.value,
      closes: this.closes.value,
      after_hours_text: this.text.value,
      reply_every_hours: Number(this.every.value),
    };
    await this.call(() => api.postJSON(`/api/business-hours/${number.id}`, data));
  }

  async remove() {
    const number = this.chosen();
    if (number) await this.call(() => api.deleteJSON(`/api/business-hours/${number.id}`));
  }

  async refresh() {
    await this.reload();
    this.status.textContent = this.chosen() && this.chosen().hours ? "Saved." : this.status.textContent;
  }
}
