// Engagements closed this month (GET /api/reports/engagements): each agent
// sees their own count; an admin sees the team's total and opens the figure
// per agent. A close counts for the lead's assignee; the figure is read
// again after any close this console hears of.

import * as api from "./api.js";
import { h, icon, replaceChildren, setText } from "./dom.js";
import { plural } from "./format.js";

const REFRESH_DELAY_MS = 400;

/** "December 2026" from "2026-12". */
function monthName(month) {
  const [year, number] = month.split("-").map(Number);
  return new Intl.DateTimeFormat(undefined, { month: "long", year: "numeric" })
    .format(new Date(year, number - 1, 1));
}

export class Engagements {
  /** @param {import("./state.js").Store} store */
  constructor(store) {
    this.store = store;
    this.report = null;
    this.label = h("span", { className: "engagements-label" });
    // An agent's own figure is plain text; an admin's opens the team's.
    this.own = h("span", { className: "engagements", hidden: true, dataset: { testid: "engagements-own" } });
    this.button = h("button", {
      type: "button",
      className: "engagements",
      dataset: { testid: "engagements" },
      attrs: { "aria-expanded": "false", "aria-controls": "engagements-team" },
      onclick: () => this.toggle(),
    }, icon("trophy"), this.label);
    this.table = h("div", {
      id: "engagements-team",
      className: "engagements-team",
      hidden: true,
      dataset: { testid: "engagements-team" },
      attrs: { role: "region", "aria-label": "Engagements closed this month, by agent" },
    });
    this.el = h("div", {
      className: "engagements-wrap",
      hidden: true,
      onkeydown: (event) => {
        if (event.key === "Escape" && !this.table.hidden) {
          event.stopPropagation();
          this.toggle(false);
          this.button.focus();
        }
      },
    }, this.own, this.button, this.table);
    document.addEventListener("pointerdown", (event) => {
      if (!this.table.hidden && !this.el.contains(event.target)) this.toggle(false);
    });
    store.on("agent", () => this.load());
    store.on("lead", ({ change }) => change === "closed" && this.loadSoon());
    store.on("conversation", ({ change }) => change === "closed" && this.loadSoon());
  }

  loadSoon() {
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => this.load(), REFRESH_DELAY_MS);
  }

  async load() {
    const agent = this.store.agent;
    if (!agent || agent.external) {
      this.el.hidden = true;
      return;
    }
    try {
      this.report = await api.getJSON("/api/reports/engagements");
    } catch {
      return; // the figure waits for the next close or reconnect
    }
    this.render();
  }

  render() {
    const report = this.report;
    const me = this.store.agent;
    const mine = report.agents.find((row) => row.id === me.id);
    const own = mine ? mine.engagements_closed : 0;
    this.el.hidden = false;
    this.own.hidden = report.team;
    this.button.hidden = !report.team;
    this.own.dataset.count = String(own);
    this.button.dataset.count = String(report.total);
    replaceChildren(this.own, icon("trophy"), `You closed ${plural(own, "engagement")} this month`);
    setText(this.label, `Team: ${report.total} closed this month`);
    this.button.title = `You: ${own}. Show each agent's.`;
    replaceChildren(this.table, h("table", {},
      h("caption", {}, `Engagements closed in ${monthName(report.month)}`),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Agent"), h("th", { scope: "col" }, "Closed"))),
      h("tbody", {}, report.agents.map((row) => h("tr", { dataset: { agent: String(row.id) } },
        h("th", { scope: "row" }, row.name), h("td", {}, String(row.engagements_closed)))))));
  }

  toggle(open = this.table.hidden) {
    if (!this.report || !this.report.team) return;
    this.table.hidden = !open;
    this.button.setAttribute("aria-expanded", String(open));
  }
}
