// The lead queue: the buckets (Unassigned, Mine, Assigned, Closed) with their
// counts, and a row per lead with its newest message and unread count; above
// them "New lead" (newlead.js), the engagements closed this month
// (engagements.js), and the one search box over leads and messages, with its
// category filter (search.js shows what it finds).
//
// Rows come from the hello (open conversations) and from the JSON API's lead
// lists (GET /api/leads?bucket=...), and move live with the events. Rows are
// kept by lead id and updated in place, so keyboard focus survives updates.

import * as api from "./api.js";
import { arrowTarget, avatar, h, icon, keyedList, replaceChildren, setText } from "./dom.js";
import { Engagements } from "./engagements.js";
import { named, numberLabel, prettyNumber, rowTime, STATUS } from "./format.js";
import { NewLeadDialog } from "./newlead.js";
import { SearchBox } from "./search.js";

const BUCKETS = [
  { key: "unassigned", label: "Unassigned" },
  { key: "mine", label: "Mine" },
  { key: "assigned", label: "Assigned" },
  { key: "closed", label: "Closed" },
];
// Buckets an access level never fills, hidden while empty (what an agent may
// see is the server's rule: chatserver/queries/access.py).
const RARELY = {
  mine: ["unassigned", "assigned"],
  unassigned: ["assigned"],
  assigned: ["unassigned"],
  all: [],
};

/** The one-line preview of a message: "You: ...", "Failed · Bob: ...". */
export function previewOf(message, me = null) {
  if (!message) return "No messages yet";
  const body = (message.body || "").replace(/\s+/g, " ").trim() || "(no text)";
  if (message.direction === "out") {
    const who = message.author && message.author === me ? "You" : message.author_name || "Sent";
    const status = message.status === "failed" || message.status === "undelivered"
      ? `${STATUS[message.status].label} · ` : "";
    return `${status}${who}: ${body}`;
  }
  return body;
}

export class Queue {
  /**
   * @param {import("./state.js").Store} store
   * @param {(conversationId: number) => void} openConversation
   */
  constructor(store, openConversation) {
    this.store = store;
    // Opens (or brings forward) a conversation's chatbox, and returns it.
    this.openConversation = openConversation;
    this.isOpen = () => false; // whether a conversation has a chatbox (set by app.js)
    this.bucket = null;
    this.next = {}; // bucket -> the token of its next page
    this.rows = new Map(); // lead id -> li
    this.tabs = h("div", {
      className: "buckets",
      attrs: { role: "tablist", "aria-label": "Buckets" },
      onkeydown: (event) => this.onTabKey(event),
    });
    this.search = new SearchBox({
      store,
      openLead: (id) => this.open(id),
      openMessage: (conversation, message) => this.openMessage(conversation, message),
      buckets: () => this.bucketsShown().map((b) => b.key),
      onChange: () => this.render(),
    });
    this.newLead = new NewLeadDialog({ store, openConversation });
    this.newLeadButton = h("button", {
      type: "button",
      className: "new-lead-button",
      hidden: true,
      dataset: { testid: "new-lead" },
      onclick: () => this.newLead.open(),
    }, icon("plus"), h("span", {}, "New lead"));
    this.engagements = new Engagements(store);
    this.list = h("ul", {
      className: "queue-list",
      attrs: { role: "list", "aria-label": "Leads" },
      onkeydown: (event) => this.onListKey(event),
    });
    this.more = h("button", {
      type: "button",
      className: "more-button",
      hidden: true,
      onclick: () => this.load({ more: true }),
    }, "Show more");
    this.empty = h("p", { className: "queue-empty", hidden: true });
    this.el = h(
      "aside",
      {
        className: "queue",
        dataset: { testid: "queue" },
        attrs: { "aria-label": "Lead queue" },
      },
      h("div", { className: "queue-head" },
        h("div", { className: "queue-title" }, h("h2", {}, "Inbox"), this.newLeadButton),
        this.engagements.el,
        this.search.el),
      this.tabs,
      h("div", { className: "queue-scroll" }, this.list, this.empty, this.more, this.search.results.el),
    );
    store.on("conversations", () => this.renderSoon());
    store.on("unread", (unread) => {
      this.renderSoon();
      // Unread texts in a conversation we never heard of: a lead came into
      // view (assigned to this agent, say). Fetch what the row shows.
      for (const id of Object.keys(unread.conversations).map(Number)) {
        if (!this.store.conversations.has(id)) this.fetchConversation(id);
      }
    });
    store.on("lead", ({ lead }) => {
      if (lead && this.store.visible(lead) && !this.store.conversationsOf(lead.id).length) {
        this.loadSoon();
      }
    });
    store.on("buckets", () => this.renderSoon());
    store.on("agent", () => {
      // A (fresh) hello: pick a bucket the first time, and reload its list.
      if (!this.bucket) this.bucket = this.defaultBucket();
      this.newLeadButton.hidden = Boolean(this.store.agent && this.store.agent.external);
      this.render();
      this.load();
      this.search.refresh();
    });
  }

  defaultBucket() {
    const access = this.store.agent ? this.store.agent.access : "all";
    return access === "mine" || access === "assigned" ? "mine" : "unassigned";
  }

  bucketsShown() {
    const agent = this.store.agent;
    const rarely = RARELY[agent && !agent.external ? agent.access : "mine"] || [];
    return BUCKETS.filter(
      (b) => !rarely.includes(b.key) || this.count(b.key) > 0 || b.key === this.bucket,
    );
  }

  /** The server's count of a bucket (leads), else the rows known here. */
  count(key) {
    const counts = this.store.buckets;
    if (counts && typeof counts[key] === "number") return counts[key];
    return this.leadsIn(key).length;
  }

  leadsIn(key) {
    const rows = [];
    for (const lead of this.store.leads.values()) {
      if (!this.store.visible(lead) || this.store.bucketOf(lead) !== key) continue;
      rows.push(this.store.leadRow(lead));
    }
    return rows.sort((a, b) => (b.at || "").localeCompare(a.at || "") || b.lead.id - a.lead.id);
  }

  /** Fetch the selected bucket's leads. */
  async load({ more = false } = {}) {
    const bucket = this.bucket;
    if (!bucket) return;
    const params = new URLSearchParams({ bucket });
    if (more && this.next[bucket]) params.set("after", this.next[bucket]);
    this.el.classList.add("loading");
    try {
      const page = await api.getJSON(`/api/leads?${params}`);
      if (bucket !== this.bucket) return; // outdated
      this.store.applyLeadItems(page.leads || []);
      // Bucket counts come from the socket only (hello, buckets.changed): a
      // page's counts were read when the request was, and one that answers
      // after a newer event would set them back (Unassigned showed 0 after a
      // lead was closed and reopened, until a reload).
      this.next[bucket] = page.next || null;
      this.render();
    } catch (error) {
      // The list stays as the socket built it; say why it may be partial.
      setText(this.empty, `Could not load the list: ${error.reason || error.message}`);
      this.empty.hidden = false;
    } finally {
      this.el.classList.remove("loading");
    }
  }

  /** Learn a conversation this console has not seen (its summary, its lead). */
  async fetchConversation(id) {
    this.fetching ||= new Set();
    if (this.fetching.has(id)) return;
    this.fetching.add(id);
    try {
      this.store.applyDetails(await api.conversationDetails(id));
    } catch {
      // Not visible after all (it left view again): nothing to show.
    } finally {
      this.fetching.delete(id);
    }
  }

  loadSoon() {
    window.clearTimeout(this.loadTimer);
    this.loadTimer = window.setTimeout(() => this.load(), 150);
  }

  renderSoon() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = null;
      this.render();
    });
  }

  render() {
    if (!this.store.agent) return;
    const me = this.store.agent.id;
    const searching = this.search.searching();
    this.tabs.hidden = searching;
    this.list.hidden = searching;
    if (searching) {
      this.empty.hidden = true;
      this.more.hidden = true;
      return;
    }
    const focusedTab = this.tabs.contains(document.activeElement);
    replaceChildren(
      this.tabs,
      this.bucketsShown().map((bucket) => {
        const selected = bucket.key === this.bucket;
        const unread = this.leadsIn(bucket.key).some((row) => row.unread > 0);
        return h(
          "button",
          {
            type: "button",
            className: `bucket${selected ? " selected" : ""}${unread ? " has-unread" : ""}`,
            dataset: { bucket: bucket.key, testid: "bucket" },
            tabIndex: selected ? 0 : -1,
            attrs: { role: "tab", "aria-selected": String(selected) },
            onclick: () => this.select(bucket.key),
          },
          h("span", { className: "bucket-label" }, bucket.label),
          h("span", { className: "bucket-count", dataset: { testid: "bucket-count" } },
            String(this.count(bucket.key))),
        );
      }),
    );
    if (focusedTab) this.tabs.querySelector(".selected")?.focus();
    const rows = this.leadsIn(this.bucket);
    this.reconcile(rows, me);
    this.empty.hidden = rows.length > 0;
    setText(this.empty, this.bucket === "unassigned"
      ? "No new leads. New texts land here as they arrive."
      : "Nothing here.");
    this.more.hidden = !this.next[this.bucket];
  }

  select(bucket) {
    if (bucket === this.bucket) return;
    this.bucket = bucket;
    this.render();
    this.load();
  }

  reconcile(rows, me) {
    keyedList(this.list, rows, {
      key: (row) => row.lead.id,
      cache: this.rows,
      make: (row) => h("li", {}, h("button", {
        type: "button",
        className: "queue-row",
        dataset: { testid: "queue-row", lead: row.lead.id },
        onclick: () => this.open(row.lead.id),
      })),
      fill: (li, row) => this.fillRow(li.firstChild, row, me),
    });
  }

  fillRow(button, row, me) {
    const { lead, last, unread } = row;
    const name = lead.name || prettyNumber(row.number) || "Lead";
    const open = Boolean(row.conversation && this.isOpen(row.conversation));
    const key = JSON.stringify([name, unread, last, row.contactName, row.number, row.numberKind,
      lead.assignee, lead.assignee_name, rowTime(row.at), row.conversation, open]);
    if (button.dataset.drawn === key) return;
    button.dataset.drawn = key;
    if (row.conversation) button.dataset.conversation = row.conversation;
    else delete button.dataset.conversation;
    button.classList.toggle("unread", unread > 0);
    button.classList.toggle("open", open);
    if (open) button.setAttribute("aria-current", "true");
    else button.removeAttribute("aria-current");
    // Which of the lead's numbers the newest message was with.
    const number = prettyNumber(row.number) === name ? "" : numberLabel(row.number, row.numberKind);
    const contact = named(row.contactName);
    const who = [
      contact && contact !== name ? contact : null,
      number || null,
      lead.assignee && lead.assignee !== me && lead.assignee_name ? lead.assignee_name : null,
    ].filter(Boolean).join(" · ");
    const preview = previewOf(last, me);
    // Named by what it shows (WCAG 2.5.3: a spoken command says what is seen).
    button.removeAttribute("aria-label");
    replaceChildren(
      button,
      // Initials of the person, not of the lead's title ("Dana · roof repair").
      h("span", { className: "avatar-wrap" }, avatar(contact),
        h("span", { className: "sms-tag", attrs: { "aria-hidden": "true" } }, "SMS")),
      h("span", { className: "row-main" },
        h("span", { className: "row-top" },
          h("span", { className: "row-name" }, name),
          h("span", { className: "row-time" }, rowTime(row.at))),
        who ? h("span", { className: "row-who" }, who) : null,
        h("span", { className: "row-bottom" },
          h("span", { className: "row-preview" }, preview),
          unread ? h("span", { className: "count-pill", dataset: { testid: "row-unread" } },
            String(unread)) : null)),
    );
  }

  /** Open a lead's newest conversation; a lead never texted gets one made
   * with its contact's number (POST /api/leads/<id>/conversations). */
  async open(leadId) {
    const lead = this.store.leads.get(leadId);
    if (!lead) return;
    const row = this.store.leadRow(lead);
    if (row.conversation) {
      this.openConversation(row.conversation);
      return;
    }
    if (!row.number) return;
    try {
      const answer = await api.openNumber(leadId, row.number);
      this.store.applyDetails({ conversation: answer.conversation });
      this.openConversation(answer.conversation.id);
    } catch (error) {
      setText(this.empty, error.reason || String(error));
      this.empty.hidden = false;
    }
  }

  /** A message found: its chatbox, scrolled to it. */
  openMessage(conversationId, messageId) {
    const box = this.openConversation(conversationId);
    if (box && box.reveal) box.reveal(messageId);
  }

  onListKey(event) {
    arrowTarget(event, [...this.list.querySelectorAll(".queue-row")])?.focus();
  }

  onTabKey(event) {
    const tabs = [...this.tabs.querySelectorAll("[role=tab]")];
    const next = arrowTarget(event, tabs, { axis: "horizontal", wrap: true });
    if (next) this.select(next.dataset.bucket);
  }
}
