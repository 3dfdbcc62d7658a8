// "Send later": the composer's menu beside Send (a few presets in the lead's
// own time, a date and time of the agent's choosing, and "Cancel if the lead
// replies first"), and the clock arithmetic it needs: a wall time in the
// lead's time zone as an instant, and an instant shown on both clocks.
//
// The server checks the time again (not past, not a year ahead, not in the
// lead's quiet hours) and says why it refuses one (pending.js).

import { h, icon } from "./dom.js";

let menuIds = 0;

function wallParts(zone, date) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    weekday: "short",
  }).formatToParts(date);
  const get = (type) => parts.find((p) => p.type === type).value;
  return {
    year: Number(get("year")),
    month: Number(get("month")),
    day: Number(get("day")),
    hour: Number(get("hour")),
    minute: Number(get("minute")),
    second: Number(get("second")),
    weekday: ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"].indexOf(get("weekday")),
  };
}

/** How many minutes `zone`'s clock is ahead of UTC at `date`. */
function offsetMinutes(zone, date) {
  const p = wallParts(zone, date);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return Math.round((asUtc - Math.floor(date.getTime() / 1000) * 1000) / 60000);
}

/** The instant the wall time year-month-day hour:minute is in `zone` (a
 * time a DST jump skipped lands just after it). */
export function zonedTime(zone, year, month, day, hour, minute) {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  const first = wall - offsetMinutes(zone, new Date(wall)) * 60000;
  const second = wall - offsetMinutes(zone, new Date(first)) * 60000;
  const p = wallParts(zone, new Date(second));
  if (p.hour === hour && p.minute === minute) return new Date(second);
  // Skipped (clocks went forward): neither guess reads that wall time; the
  // later one is the same distance past the jump.
  return new Date(Math.max(first, second));
}

/** The presets, computed now: [{label, at: Date}]. */
export function presets(zone, now = new Date()) {
  const today = wallParts(zone, now);
  const at9 = (daysAhead) => {
    const date = new Date(Date.UTC(today.year, today.month - 1, today.day + daysAhead));
    return zonedTime(zone, date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), 9, 0);
  };
  const toMonday = ((8 - today.weekday) % 7) || 7; // the next Monday, never today
  return [
    { id: "tomorrow", label: "Tomorrow 9:00 their time", at: at9(1) },
    { id: "hour", label: "In 1 hour", at: new Date(now.getTime() + 3600 * 1000) },
    { id: "monday", label: "Monday 9:00 their time", at: at9(toMonday) },
  ];
}

/** A datetime-local input's value ("2026-12-07T09:00"), read in `zone`. */
export function fromLocalInput(value, zone) {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value || "");
  if (!match) return null;
  const [, y, mo, d, hh, mm] = match.map(Number);
  return zonedTime(zone, y, mo, d, hh, mm);
}

/** An instant as a datetime-local input's value, on `zone`'s clock. */
export function toLocalInput(date, zone) {
  const p = wallParts(zone, date);
  const two = (n) => String(n).padStart(2, "0");
  return `${p.year}-${two(p.month)}-${two(p.day)}T${two(p.hour)}:${two(p.minute)}`;
}

/** "Thu 9:00 AM" on `zone`'s clock (the agent's own without a zone). */
export function whenOn(iso, zone) {
  return new Intl.DateTimeFormat(undefined, {
    weekday: "short",
    month: "short",
    day: "numeric",
    hour: "numeric",
    minute: "2-digit",
    ...(zone ? { timeZone: zone } : {}),
  }).format(new Date(iso));
}

/** The city of a zone name, for people ("America/Los_Angeles" -> "Los Angeles"). */
export function zoneCity(zone) {
  return (zone || "").split("/").pop().replace(/_/g, " ");
}

export class SendLater {
  /**
   * @param {object} options
   * @param {() => string|null} options.zone  the lead's time zone, once known
   * @param {(later: {sendAt: string, cancelOnReply: boolean}) => void} options.choose
   */
  constructor({ zone, choose }) {
    this.zone = zone;
    this.choose = choose;
    this.id = `send-later-${++menuIds}`;
    this.button = h("button", {
      type: "button",
      className: "later-button",
      dataset: { testid: "send-later" },
      // Named even where the word is hidden (phone width): the clock alone.
      attrs: {
        "aria-label": "Later: send at a time you pick",
        title: "Send later",
        "aria-expanded": "false",
        "aria-controls": this.id,
      },
      onclick: () => this.toggle(),
    }, icon("clock"), h("span", { className: "later-label" }, "Later"));
    this.custom = h("input", {
      type: "datetime-local",
      id: `${this.id}-at`,
      className: "later-input",
      dataset: { testid: "send-later-at" },
    });
    this.cancelOnReply = h("input", {
      type: "checkbox",
      id: `${this.id}-cancel`,
      checked: true,
      dataset: { testid: "send-later-cancel-on-reply" },
    });
    this.choices = h("div", { className: "later-choices" });
    this.heading = h("p", { className: "later-heading" });
    this.el = h("div", {
      id: this.id,
      className: "later-menu",
      hidden: true,
      dataset: { testid: "send-later-menu" },
      attrs: { role: "group", "aria-label": "Send later" },
      onkeydown: (event) => {
        if (event.key === "Escape") {
          event.stopPropagation();
          this.close(true);
        }
      },
    },
    this.heading,
    this.choices,
    h("div", { className: "later-custom" },
      h("label", { htmlFor: this.custom.id }, "Pick a time (their time)"),
      this.custom,
      h("button", {
        type: "button",
        className: "later-pick",
        onclick: () => this.pickCustom(),
      }, "Schedule")),
    h("div", { className: "later-option" },
      this.cancelOnReply,
      h("label", { htmlFor: this.cancelOnReply.id }, "Cancel if the lead replies first")));
  }

  setDisabled(disabled) {
    this.button.disabled = disabled;
    if (disabled) this.close();
  }

  toggle() {
    if (this.el.hidden) this.open();
    else this.close(true);
  }

  open() {
    const zone = this.zone();
    if (!zone) return;
    this.heading.textContent = `Their time is ${whenOn(new Date().toISOString(), zone)} (${zoneCity(zone)}).`;
    this.choices.replaceChildren(...presets(zone).map((preset) => h("button", {
      type: "button",
      className: "later-choice",
      dataset: { testid: `send-later-${preset.id}` },
      title: `${whenOn(preset.at.toISOString())} your time`,
      onclick: () => this.pick(preset.at),
    }, preset.label)));
    if (!this.custom.value) this.custom.value = toLocalInput(presets(zone)[0].at, zone);
    this.el.hidden = false;
    this.button.setAttribute("aria-expanded", "true");
    // A press anywhere else closes it, as menus do.
    this.outside = (event) => {
      if (!this.el.contains(event.target) && !this.button.contains(event.target)) this.close();
    };
    document.addEventListener("pointerdown", this.outside, true);
    this.choices.firstChild.focus();
  }

  close(focusButton = false) {
    if (this.el.hidden) return;
    document.removeEventListener("pointerdown", this.outside, true);
    this.el.hidden = true;
    this.button.setAttribute("aria-expanded", "false");
    if (focusButton) this.button.focus();
  }

  pickCustom() {
    const zone = this.zone();
    const at = zone ? fromLocalInput(this.custom.value, zone) : null;
    if (at) this.pick(at);
    else this.custom.focus();
  }

  pick(at) {
    this.close();
    this.choose({ sendAt: at.toISOString(), cancelOnReply: this.cancelOnReply.checked });
  }
}
