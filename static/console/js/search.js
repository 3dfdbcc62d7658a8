// The queue's search: one box (and a category filter) over leads, found by
// name, contact or number, and messages, found by their text, across every
// bucket the agent may see (GET /api/search). Its results take the lead
// list's place while it holds a search: tabs give each bucket's count and
// narrow the list to it, and the words found are marked in each snippet. A
// lead opens its newest conversation, a message its chatbox scrolled to it.

import * as api from "./api.js";
import { arrowTarget, avatar, h, icon, keyedList, replaceChildren, setText } from "./dom.js";
import { named, numberLabel, plural, prettyNumber, rowTime } from "./format.js";

const BUCKET_LABEL = { unassigned: "Unassigned", mine: "Mine", assigned: "Assigned", closed: "Closed" };
const SEARCH_DELAY_MS = 250;

/** The search box and the category filter above the queue. */
export class SearchBox {
  /**
   * @param {object} options  those of SearchResults, and
   * @param {() => void} options.onChange  a search started or ended
   */
  constructor(options) {
    this.store = options.store;
    this.onChange = options.onChange;
    this.query = "";
    this.category = "";
    this.results = new SearchResults(options);
    this.input = h("input", {
      type: "search",
      className: "queue-search",
      placeholder: "Search leads, numbers, messages",
      dataset: { testid: "search" },
      attrs: { "aria-label": "Search leads by name or number, and messages by their text" },
      oninput: () => this.searchSoon(),
      onkeydown: (event) => this.onKeydown(event),
    });
    this.categorySelect = h("select", {
      className: "category-filter",
      hidden: true,
      dataset: { testid: "category-filter" },
      attrs: { "aria-label": "Only messages of a category" },
      onchange: () => this.searchSoon(0),
    });
    this.el = h("div", { className: "search-inputs" },
      h("label", { className: "search-box" }, icon("search"), this.input),
      this.categorySelect);
  }

  /** Whether the box (or the category filter) holds a search. */
  searching() {
    return Boolean(this.query || this.category);
  }

  /** After a (fresh) hello: the categories again, and the search again. */
  refresh() {
    this.loadCategories();
    if (this.searching()) this.results.run(this.query, this.category);
  }

  /** The organisation's message categories, for the filter. */
  async loadCategories() {
    try {
      const answer = await api.getJSON("/api/templates");
      this.store.categories = answer.categories || [];
    } catch {
      return; // no filter until the next hello
    }
    const categories = this.store.categories;
    const current = this.categorySelect.value;
    replaceChildren(this.categorySelect,
      h("option", { value: "" }, "Any category"),
      categories.map((c) => h("option", { value: String(c.id) }, c.name)));
    this.categorySelect.value = categories.some((c) => String(c.id) === current) ? current : "";
    this.categorySelect.hidden = !categories.length;
  }

  /** Search as the agent types (a moment after the last key): the results
   * take the list's place until the box is empty again. */
  searchSoon(delay = SEARCH_DELAY_MS) {
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(() => {
      this.query = this.input.value.trim();
      this.category = this.categorySelect.value;
      const searching = this.searching();
      this.results.el.hidden = !searching;
      if (searching) this.results.run(this.query, this.category);
      else this.results.clear();
      this.onChange();
    }, delay);
  }

  onKeydown(event) {
    if (event.key === "Escape" && this.input.value) {
      event.preventDefault();
      event.stopPropagation();
      this.input.value = "";
      this.searchSoon(0);
    } else if (event.key === "ArrowDown" && this.searching()) {
      event.preventDefault();
      this.results.list.querySelector("button")?.focus();
    }
  }
}

/** Snippet parts ([[text, matched], ...]) as text, matches in <mark>s. */
export function marked(parts, fallback = "") {
  if (!parts || !parts.length) return [fallback];
  return parts.map(([text, match]) => (match ? h("mark", {}, text) : text));
}

export class SearchResults {
  /**
   * @param {object} options
   * @param {import("./state.js").Store} options.store
   * @param {(leadId: number) => void} options.openLead
   * @param {(conversationId: number, messageId: number) => void} options.openMessage
   * @param {() => string[]} options.buckets  the buckets the queue shows
   */
  constructor({ store, openLead, openMessage, buckets }) {
    this.store = store;
    this.openLead = openLead;
    this.openMessage = openMessage;
    this.buckets = buckets;
    this.answer = null;
    this.scope = "all";
    this.rows = new Map();
    this.tabs = h("div", {
      className: "buckets search-tabs",
      attrs: { role: "tablist", "aria-label": "Search results by bucket" },
      onkeydown: (event) => this.onTabKey(event),
    });
    this.summary = h("p", {
      className: "search-summary",
      dataset: { testid: "search-summary" },
      attrs: { role: "status", "aria-live": "polite" },
    });
    this.list = h("ul", {
      className: "queue-list search-list",
      attrs: { role: "list", "aria-label": "Search results" },
      onkeydown: (event) => this.onListKey(event),
    });
    this.el = h("div", { className: "search-results", dataset: { testid: "search-results" }, hidden: true },
      this.tabs, this.summary, this.list);
  }

  /** Search (the answer of an older search that comes late is dropped). */
  async run(query, category) {
    const params = new URLSearchParams({ limit: "50" });
    if (query) params.set("q", query);
    if (category) params.set("category", category);
    const asked = params.toString();
    this.asked = asked;
    this.el.classList.add("loading");
    try {
      const answer = await api.getJSON(`/api/search?${asked}`);
      if (this.asked !== asked) return;
      this.answer = answer;
      // Leads found join the store, so opening one works as from the list.
      this.store.applyLeadItems(answer.leads || []);
      this.render();
    } catch (error) {
      if (this.asked !== asked) return;
      this.answer = null;
      setText(this.summary, `Could not search: ${error.reason || error.message}`);
      this.list.replaceChildren();
    } finally {
      if (this.asked === asked) this.el.classList.remove("loading");
    }
  }

  clear() {
    this.asked = null;
    this.answer = null;
    this.scope = "all";
    this.list.replaceChildren();
    this.rows.clear();
  }

  countOf(bucket) {
    const counts = (this.answer && this.answer.counts) || {};
    const buckets = bucket === "all" ? Object.keys(counts) : [bucket];
    return buckets.reduce((n, b) => n + ((counts[b] && counts[b].leads) || 0)
      + ((counts[b] && counts[b].messages) || 0), 0);
  }

  render() {
    const answer = this.answer;
    if (!answer) return;
    const scopes = ["all", ...this.buckets()];
    const focused = this.tabs.contains(document.activeElement);
    replaceChildren(this.tabs, scopes.map((scope) => {
      const selected = scope === this.scope;
      return h("button", {
        type: "button",
        className: `bucket${selected ? " selected" : ""}`,
        dataset: { bucket: scope, testid: "search-tab" },
        tabIndex: selected ? 0 : -1,
        attrs: { role: "tab", "aria-selected": String(selected) },
        onclick: () => this.select(scope),
      },
      h("span", { className: "bucket-label" }, scope === "all" ? "All" : BUCKET_LABEL[scope]),
      h("span", { className: "bucket-count", dataset: { testid: "bucket-count" } }, String(this.countOf(scope))));
    }));
    if (focused) this.tabs.querySelector(".selected")?.focus();
    const inScope = (item) => this.scope === "all" || item.bucket === this.scope;
    const leads = (answer.leads || []).filter(inScope);
    const messages = (answer.messages || []).filter(inScope);
    const rows = [];
    if (leads.length) rows.push({ key: "h-leads", heading: plural(leads.length, "lead") });
    for (const lead of leads) rows.push({ key: `l${lead.id}`, lead });
    if (messages.length) rows.push({ key: "h-messages", heading: plural(messages.length, "message") });
    for (const message of messages) rows.push({ key: `m${message.id}`, message });
    const total = this.countOf(this.scope);
    const shown = leads.length + messages.length;
    setText(this.summary, total
      ? `${plural(total, "result")}${shown < total ? `, the newest ${shown} shown` : ""}`
      : "Nothing found. Try fewer or shorter words, or part of a number.");
    keyedList(this.list, rows, {
      key: (row) => row.key,
      cache: this.rows,
      make: (row) => (row.heading
        ? h("li", { className: "search-heading", attrs: { role: "presentation" } })
        : h("li", {}, h("button", { type: "button", className: "queue-row search-row" }))),
      fill: (li, row) => {
        if (row.heading) setText(li, row.heading);
        else if (row.lead) this.fillLead(li.firstChild, row.lead);
        else this.fillMessage(li.firstChild, row.message);
      },
    });
  }

  fillLead(button, lead) {
    const contact = lead.contact || {};
    button.dataset.testid = "search-lead";
    button.dataset.lead = String(lead.id);
    button.onclick = () => this.openLead(lead.id);
    const who = [
      named(contact.name) && contact.name !== lead.name ? marked(lead.contact_parts, contact.name) : null,
      contact.number ? prettyNumber(contact.number) : null,
    ].filter(Boolean);
    button.setAttribute("aria-label", `Lead ${lead.name}, ${BUCKET_LABEL[lead.bucket] || ""}`);
    replaceChildren(
      button,
      avatar(named(contact.name)),
      h("span", { className: "row-main" },
        h("span", { className: "row-top" },
          h("span", { className: "row-name" }, marked(lead.name_parts, lead.name)),
          h("span", { className: "bucket-chip" }, BUCKET_LABEL[lead.bucket] || "")),
        who.length ? h("span", { className: "row-who" }, who.flatMap((part, i) => (i ? [" · ", part] : [part]))) : null),
    );
  }

  fillMessage(button, message) {
    button.dataset.testid = "search-message";
    button.dataset.messageId = String(message.id);
    button.dataset.conversation = String(message.conversation);
    button.onclick = () => this.openMessage(message.conversation, message.id);
    const category = (this.store.categories || []).find((c) => c.id === message.category);
    const from = message.direction === "in" ? named(message.contact_name) : message.author_name || "Sent";
    const text = (message.snippet || []).map(([t]) => t).join("");
    button.setAttribute("aria-label",
      `Message ${message.direction === "in" ? "from" : "to"} ${message.lead_name}${from ? ` (${from})` : ""}, ${rowTime(message.created_at)}: ${text}`);
    replaceChildren(
      button,
      avatar(named(message.contact_name)),
      h("span", { className: "row-main" },
        h("span", { className: "row-top" },
          h("span", { className: "row-name" }, message.lead_name),
          h("span", { className: "row-time" }, rowTime(message.created_at))),
        h("span", { className: "row-who" },
          [from, numberLabel(message.contact_number, message.number_kind)].filter(Boolean).join(" · ")),
        h("span", { className: "row-snippet" }, marked(message.snippet, message.body)),
        h("span", { className: "row-chips" },
          h("span", { className: "bucket-chip" }, BUCKET_LABEL[message.bucket] || ""),
          category ? h("span", { className: "category-chip" }, category.name) : null)),
    );
  }

  select(scope) {
    if (scope === this.scope) return;
    this.scope = scope;
    this.render();
  }

  onTabKey(event) {
    const tabs = [...this.tabs.querySelectorAll("[role=tab]")];
    const next = arrowTarget(event, tabs, { axis: "horizontal", wrap: true });
    if (next) this.select(next.dataset.bucket);
  }

  onListKey(event) {
    arrowTarget(event, [...this.list.querySelectorAll("button")])?.focus();
  }
}
