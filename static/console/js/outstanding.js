// The Outstanding list: the agent's follow-ups whose time has come, newest
// due first, from the top bar (a button with their count, and a panel).
// Each is done by texting the lead (the server marks it) or "Mark done",
// or snoozed for an hour or till tomorrow 9:00. The list is the Store's
// (state.js, followups-state.js): live by events, and a timer redraws it
// when the next follow-up falls due. Changes go through the JSON API.

import * as api from "./api.js";
import { announce, h, icon, replaceChildren, setText } from "./dom.js";
import { dueLabel, tomorrowAt } from "./followups-state.js";
import { plural } from "./format.js";

const KIND_WORDS = { call: "Call", text: "Text", follow_up: "Follow up" };
// A timer longer than this does not fire in browsers (2^31 - 1 ms).
const LONGEST_TIMER = 2 ** 31 - 1;

export class Outstanding {
  /**
   * @param {import("./state.js").Store} store
   * @param {(leadId: number) => void} openLead
   */
  constructor(store, openLead) {
    this.store = store;
    this.openLead = openLead;
    this.timer = null;
    this.count = h("span", {
      className: "badge-count outstanding-count",
      dataset: { testid: "outstanding-count", count: "0" },
      attrs: { "aria-hidden": "true" },
    }, "0");
    this.button = h("button", {
      type: "button",
      className: "topbar-link outstanding-button",
      dataset: { testid: "outstanding-button" },
      attrs: {
        "aria-haspopup": "true",
        "aria-expanded": "false",
        "aria-controls": "outstanding-panel",
        "aria-label": "Outstanding: nothing due",
      },
      onclick: () => this.toggle(),
    }, icon("clock"), h("span", {}, "Outstanding"));
    this.list = h("ul", { className: "dropdown-list outstanding-list", attrs: { role: "list" } });
    this.summary = h("span", { className: "dropdown-summary" });
    this.error = h("p", { className: "form-error", hidden: true, attrs: { role: "alert" } });
    this.panel = h("div", {
      id: "outstanding-panel",
      className: "dropdown outstanding-panel",
      hidden: true,
      dataset: { testid: "outstanding-panel" },
      attrs: { role: "dialog", "aria-label": "Outstanding follow-ups" },
      onkeydown: (event) => {
        if (event.key === "Escape") {
          event.preventDefault();
          event.stopPropagation();
          this.close();
        }
      },
    },
    h("div", { className: "dropdown-head" },
      h("span", { className: "dropdown-title" }, "Outstanding"), this.summary),
    this.error,
    this.list);
    // The count sits on the button's corner, outside it: the button's name
    // begins with the word it shows, and says the count in words.
    this.el = h("div", { className: "badge-wrap outstanding" }, this.button, this.count, this.panel);
    document.addEventListener("pointerdown", (event) => {
      if (!this.panel.hidden && !this.el.contains(event.target)) this.close();
    });
    store.on("followups", () => this.render());
    store.on("agent", () => this.render());
  }

  /** The due follow-ups now, and a timer for the next one to fall due. */
  render() {
    const now = Date.now();
    const pending = this.store.pendingFollowUps();
    const due = pending.filter((f) => Date.parse(f.due) <= now);
    const total = due.length;
    setText(this.count, total > 99 ? "99+" : String(total));
    this.count.dataset.count = String(total);
    this.button.classList.toggle("has-due", total > 0);
    this.button.setAttribute("aria-label",
      total ? `Outstanding ${plural(total, "follow-up")} due` : "Outstanding: nothing due");
    setText(this.summary, total ? `${total} due` : "Nothing due");
    this.drawList(due, now);
    window.clearTimeout(this.timer);
    const next = pending.map((f) => Date.parse(f.due)).filter((t) => t > now);
    if (next.length) {
      const wait = Math.min(Math.min(...next) - now + 50, LONGEST_TIMER);
      this.timer = window.setTimeout(() => this.render(), wait);
    }
  }

  drawList(due, now) {
    if (this.panel.hidden) return; // drawn when opened
    replaceChildren(this.list, due.length ? due.map((f) => this.row(f, now))
      : h("li", { className: "empty" }, "Nothing due: follow-ups you set show here when their time comes."));
  }

  row(followup, now) {
    const lead = this.store.leads.get(followup.lead) || {};
    const name = lead.name || followup.lead_name;
    const what = KIND_WORDS[followup.kind] || "Follow up";
    return h("li", {
      className: "outstanding-row",
      dataset: { testid: "outstanding-row", followup: followup.id, lead: followup.lead },
    },
    h("div", { className: "outstanding-main" },
      h("button", {
        type: "button",
        className: "link-button outstanding-lead",
        attrs: { "aria-label": `${name}: open the lead` },
        onclick: () => {
          this.close(false);
          this.openLead(followup.lead);
        },
      }, name),
      h("span", { className: "outstanding-when" }, dueLabel(followup.due, now)),
      h("span", { className: "outstanding-note" },
        followup.note ? `${what}: ${followup.note}` : what,
        followup.workflow_name ? ` (${followup.workflow_name})` : "")),
    h("div", { className: "row-actions" },
      this.action("Mark done", name, () => api.postJSON(`/api/followups/${followup.id}/done`, {}),
        `Follow-up with ${name} done.`),
      this.action("Snooze 1 hour", name, () => api.postJSON(`/api/followups/${followup.id}/snooze`,
        { until: new Date(Date.now() + 3600_000).toISOString() }), `Snoozed for an hour: ${name}.`),
      this.action("Tomorrow 9:00", name, () => api.postJSON(`/api/followups/${followup.id}/snooze`,
        { until: tomorrowAt(new Date(), 9).toISOString() }), `Snoozed till tomorrow 9:00: ${name}.`)));
  }

  action(words, name, call, said) {
    return h("button", {
      type: "button",
      className: "link-button",
      attrs: { "aria-label": `${words}: ${name}` },
      onclick: async () => {
        this.error.hidden = true;
        try {
          await call();
          announce(said);
        } catch (error) {
          this.error.hidden = false;
          this.error.textContent = error.reason || error.message;
        }
      },
    }, words);
  }

  toggle() {
    if (this.panel.hidden) this.open();
    else this.close();
  }

  open() {
    this.panel.hidden = false;
    this.button.setAttribute("aria-expanded", "true");
    this.render();
    this.list.querySelector("button")?.focus();
  }

  close(returnFocus = true) {
    if (this.panel.hidden) return;
    this.panel.hidden = true;
    this.button.setAttribute("aria-expanded", "false");
    if (returnFocus) this.button.focus();
  }
}
