// The console's state: built from `hello`, moved forward by events.
//
// Applying is idempotent: a message is kept once by its id (an event may
// arrive live and again on resume), a status only moves forward, and a fresh
// hello after a reconnect refreshes the summaries without dropping the history
// a chatbox has loaded. Views subscribe with `on(topic, fn)`.

import { FollowUps, isDue } from "./followups-state.js";
import { forward, History, mergeMessage } from "./history.js";

export class Store {
  constructor() {
    this.agent = null;
    this.organisation = null;
    this.leads = new Map(); // id -> lead
    this.conversations = new Map(); // id -> summary
    this.unread = { total: 0, conversations: {} };
    this.buckets = null; // {unassigned, mine, assigned, closed}: lead counts
    this.templates = null; // [{id, name, body, category}] when the server sends them
    this.categories = null; // [{id, name}]
    this.histories = new Map(); // conversation id -> History (chatboxes only)
    this.notes = new Map(); // lead id -> Map(note id -> note)
    this.followups = new FollowUps(); // the agent's pending follow-ups
    this.listeners = new Map();
  }

  // -- subscriptions ------------------------------------------------------

  on(topic, fn) {
    if (!this.listeners.has(topic)) this.listeners.set(topic, new Set());
    this.listeners.get(topic).add(fn);
    return () => this.listeners.get(topic).delete(fn);
  }

  emit(topic, detail) {
    for (const fn of this.listeners.get(topic) || []) {
      try {
        fn(detail);
      } catch (error) {
        console.error(`listener of ${topic} failed`, error);
      }
    }
  }

  // -- initial state -----------------------------------------------------

  /** Apply a hello (or a reload): the whole summary state, replaced. */
  applyHello(hello) {
    this.agent = hello.agent;
    this.organisation = hello.organisation;
    this.buckets = hello.buckets || null;
    if (hello.templates) this.templates = hello.templates;
    if (hello.categories) this.categories = hello.categories;
    const fresh = new Map();
    // Leads are rebuilt from the hello too (a lead may have left the agent's
    // view); those of open chatboxes are kept until their details say.
    const oldLeads = this.leads;
    this.leads = new Map();
    for (const history of this.histories.values()) {
      const c = this.conversations.get(history.conversation);
      if (c && oldLeads.has(c.lead)) this.leads.set(c.lead, oldLeads.get(c.lead));
    }
    for (const c of hello.conversations || []) {
      fresh.set(c.id, this.summaryFrom(c));
      this.mergeLead({
        ...(oldLeads.get(c.lead) || {}),
        audience: null, // listed in the hello: visible now
        id: c.lead,
        name: c.lead_name,
        status: c.lead_status,
        assignee: c.assignee,
        ...(c.assignee_name !== undefined ? { assignee_name: c.assignee_name } : {}),
      });
    }
    // A conversation a chatbox shows stays known even if it left the list.
    for (const [id, c] of this.conversations) {
      if (!fresh.has(id) && this.histories.has(id)) fresh.set(id, c);
    }
    this.conversations = fresh;
    for (const c of hello.conversations || []) {
      if (c.last_message) this.addToHistory(c.last_message);
    }
    this.unread = normaliseUnread(hello.unread);
    this.followups.replace(hello.followups);
    this.emit("agent", this.agent);
    this.emit("followups");
    this.emit("buckets", this.buckets);
    this.emit("conversations");
    this.emit("unread", this.unread);
  }

  summaryFrom(c) {
    const old = this.conversations.get(c.id) || {};
    return {
      ...old,
      ...c,
      consent: c.consent !== undefined ? c.consent : old.consent,
    };
  }

  /** A conversation summary from an event: replaces what was known of it
   * (statuses of its last message only move forward). */
  upsertSummary(c) {
    const old = this.conversations.get(c.id);
    const last = old && old.last_message && c.last_message
      && old.last_message.id === c.last_message.id
      ? mergeMessage(old.last_message, c.last_message) : c.last_message;
    this.conversations.set(c.id, { ...this.summaryFrom(c), last_message: last ?? null });
    if (c.last_message) this.addToHistory(c.last_message);
    // A conversation back in view (reopened) whose lead this console has
    // not heard of: the lead as the summary names it, as a hello would.
    if (c.lead !== undefined && !this.leads.has(c.lead)) {
      this.mergeLead({ id: c.lead, name: c.lead_name, status: c.lead_status, assignee: c.assignee });
    }
  }

  mergeLead(lead) {
    if (!lead || lead.id === undefined) return null;
    const merged = { ...(this.leads.get(lead.id) || {}), ...lead };
    this.leads.set(lead.id, merged);
    return merged;
  }

  /** Details a chatbox fetched (GET /api/conversations/<id>): fold them in. */
  applyDetails(details) {
    if (details.lead) this.mergeLead(details.lead);
    if (details.categories) this.categories = details.categories;
    if (details.conversation) {
      const c = details.conversation;
      this.conversations.set(c.id, this.summaryFrom(c));
      this.emit("conversations");
    }
  }

  // -- events -------------------------------------------------------------

  /** Apply one frame from the server. Returns what changed, for the views. */
  apply(frame, { replay = false } = {}) {
    switch (frame.type) {
      case "message.created": {
        const changed = this.messageCreated(frame, replay);
        // A lead's text brings this agent's counts after it, in the same
        // frame: the total, and the count of the text's conversation.
        if (frame.unread) {
          const conversations = { ...this.unread.conversations };
          const key = String(frame.conversation ?? frame.message.conversation);
          if (frame.unread.conversation) conversations[key] = frame.unread.conversation;
          else delete conversations[key];
          this.unread = normaliseUnread({ total: frame.unread.total, conversations });
          this.emit("unread", this.unread);
        }
        return changed;
      }
      case "message.status":
        return this.messageStatus(frame);
      case "message.updated":
        return this.messageUpdated(frame);
      case "unread.changed":
        this.unread = normaliseUnread(frame.unread);
        this.emit("unread", this.unread);
        return null;
      case "lead.created":
      case "lead.updated": {
        const lead = this.mergeLead({
          ...frame.lead,
          ...(frame.audience ? { audience: frame.audience } : {}),
        });
        // The lead's conversations as a fresh state lists them: a lead that
        // just came into view (assigned, shared, reopened) is listed at once.
        for (const c of frame.conversations || []) this.upsertSummary(c);
        this.emit("lead", { lead, change: frame.change || "created", frame });
        this.emit("conversations");
        // Who sees the lead may have changed, and its follow-ups with it.
        this.emit("followups");
        return null;
      }
      case "conversation.updated": {
        const c = frame.conversation;
        if (c && c.id !== undefined) {
          this.upsertSummary(c);
          this.emit("conversation", { conversation: c.id, change: frame.change });
          this.emit("conversations");
        }
        return null;
      }
      case "consent.changed":
        return this.consentChanged(frame);
      case "note.created": {
        const note = frame.note || frame;
        const leadId = frame.lead ?? note.lead;
        if (!this.notes.has(leadId)) this.notes.set(leadId, new Map());
        const known = this.notes.get(leadId).has(note.id);
        this.notes.get(leadId).set(note.id, note);
        if (!known) this.emit("note", { lead: leadId, note });
        return null;
      }
      case "followup.created":
      case "followup.updated":
        this.followups.apply(frame.followup, frame.change);
        this.emit("followups", frame);
        return null;
      case "enrollment.updated":
        this.emit("enrollment", frame);
        return null;
      case "buckets.changed":
        this.buckets = frame.buckets;
        this.emit("buckets", this.buckets);
        return null;
      default:
        return null;
    }
  }

  messageCreated(frame, replay) {
    const message = frame.message;
    const conversationId = frame.conversation ?? message.conversation;
    let summary = this.conversations.get(conversationId);
    const isNewConversation = !summary;
    if (!summary) {
      const lead = this.leads.get(frame.lead) || {};
      const known = frame.summary || {};
      summary = {
        id: conversationId,
        lead: frame.lead,
        lead_name: lead.name || known.lead_name || "",
        lead_status: lead.status || "open",
        assignee: known.assignee !== undefined ? known.assignee : lead.assignee ?? null,
        status: "open",
        contact_name: known.contact_name || "",
        contact_number: known.contact_number || "",
        contact_number_kind: known.contact_number_kind || "primary",
        last_message: null,
        last_message_at: null,
      };
      this.conversations.set(conversationId, summary);
    }
    const isNew = this.addToHistory(message);
    const last = summary.last_message;
    if (!last || last.id < message.id) {
      summary.last_message = { ...message };
      summary.last_message_at = message.created_at;
    } else if (last.id === message.id) {
      summary.last_message = mergeMessage(last, message);
    }
    if (summary.status === "closed" && message.direction === "in") summary.status = "open";
    this.emit("conversations");
    if (isNew) {
      this.emit("message", { conversation: conversationId, message, replay, isNewConversation });
    }
    return { isNew, isNewConversation };
  }

  messageStatus(frame) {
    const conversationId = frame.conversation;
    const update = {
      status: frame.status,
      error_code: frame.error_code || "",
      error_reason: frame.error_reason || "",
    };
    // Released, cancelled or failed: no longer waiting for its time.
    if (frame.status !== "scheduled") update.scheduled_for = null;
    const history = this.histories.get(conversationId);
    let changed = false;
    if (history) changed = history.moveStatus(frame.message, update);
    const summary = this.conversations.get(conversationId);
    if (summary && summary.last_message && summary.last_message.id === frame.message) {
      if (forward(summary.last_message.status, update.status)) {
        Object.assign(summary.last_message, update);
        changed = true;
        this.emit("conversations");
      }
    }
    if (changed) this.emit("status", { conversation: conversationId, message: frame.message });
    return null;
  }

  /** A message changed other than by status (its images were fetched):
   * the new copy replaces the old one; views redraw as for a status. */
  messageUpdated(frame) {
    const message = frame.message;
    const conversationId = frame.conversation ?? message.conversation;
    const history = this.histories.get(conversationId);
    if (history && history.messages.has(message.id)) history.upsert(message);
    const summary = this.conversations.get(conversationId);
    if (summary && summary.last_message && summary.last_message.id === message.id) {
      summary.last_message = mergeMessage(summary.last_message, message);
      this.emit("conversations");
    }
    this.emit("status", { conversation: conversationId, message: message.id });
    return null;
  }

  consentChanged(frame) {
    for (const summary of this.conversations.values()) {
      if (summary.contact_number === frame.number) {
        summary.consent = frame.state;
        summary.consent_notice = frame.notice ?? null;
      }
    }
    this.emit("consent", { lead: frame.lead, number: frame.number, state: frame.state });
    this.emit("conversations");
    return null;
  }

  // -- histories (loaded by open chatboxes) --------------------------------

  history(conversationId) {
    if (!this.histories.has(conversationId)) {
      this.histories.set(conversationId, new History(conversationId));
    }
    return this.histories.get(conversationId);
  }

  /** Keep a message in its conversation's history; whether it was new. */
  addToHistory(message) {
    const history = this.histories.get(message.conversation);
    if (!history) return !this.seen(message);
    return history.upsert(message);
  }

  // Messages of conversations without a loaded history: remember their ids
  // so a replayed event is not announced twice.
  seen(message) {
    this.seenIds ||= new Set();
    if (this.seenIds.has(message.id)) return true;
    this.seenIds.add(message.id);
    if (this.seenIds.size > 5000) this.seenIds = new Set([message.id]);
    return false;
  }

  /** Leads listed by the JSON API (GET /api/leads): fold them in. A lead's
   * last message names its conversation: one this console did not know (a
   * lead that just came into view) is added, so its unread count shows. */
  applyLeadItems(items) {
    for (const item of items) {
      this.mergeLead(item);
      const last = item.last_message;
      if (last && last.conversation && !this.conversations.has(last.conversation)) {
        this.conversations.set(last.conversation, {
          id: last.conversation,
          lead: item.id,
          lead_name: item.name,
          lead_status: item.status,
          assignee: item.assignee,
          status: "open",
          contact_name: last.contact_name ?? ((item.contact && item.contact.name) || ""),
          contact_number: last.number || (item.contact && item.contact.number) || "",
          last_message: { ...last, lead: item.id },
          last_message_at: last.created_at,
        });
      }
    }
    this.emit("conversations");
  }

  /** Whether the agent sees a lead now, as its last event's audience says
   * (a lead without one came from the server's own lists: visible). */
  visible(lead) {
    const audience = lead && lead.audience;
    const agent = this.agent;
    if (!audience || !agent) return true;
    if (!agent.external && (audience.access || []).includes(agent.access)) return true;
    return (audience.agents || []).includes(agent.id);
  }

  /** The agent's bucket for a lead (as chatserver/queries/buckets.py sorts them). */
  bucketOf(lead) {
    if (lead.status === "closed") return "closed";
    if (!lead.assignee) return "unassigned";
    return this.agent && lead.assignee === this.agent.id ? "mine" : "assigned";
  }

  /** The conversations of a lead that this console knows, newest first. */
  conversationsOf(leadId) {
    return this.sortedConversations().filter((c) => c.lead === leadId);
  }

  /** What the queue shows for a lead: its newest message, where it was (the
   * conversation, its contact and which of their numbers), and the unread
   * total of its conversations. */
  leadRow(lead) {
    const conversations = this.conversationsOf(lead.id);
    const latest = conversations[0];
    let last = latest ? latest.last_message : null;
    if (lead.last_message && (!last || lead.last_message.id > last.id)) last = lead.last_message;
    const unread = conversations.reduce((n, c) => n + this.unreadOf(c.id), 0);
    const conversation = (last && last.conversation) || (latest && latest.id) || null;
    const where = this.conversations.get(conversation) || latest || null;
    const contact = lead.contact || {};
    return {
      lead,
      last,
      unread,
      conversation,
      contactName: (where && where.contact_name) || (last && last.contact_name) || contact.name || "",
      number: (where && where.contact_number) || (last && last.number) || contact.number || "",
      numberKind: (where && where.contact_number_kind) || "primary",
      at: (last && last.created_at) || lead.last_activity_at || "",
    };
  }

  /** The follow-ups on this agent's list, newest due first: all pending
   * ones, or (``now`` given) only those due by then (the Outstanding list). */
  pendingFollowUps(now = null) {
    // External users (read-only shares) follow nothing up.
    if (!this.agent || this.agent.external) return [];
    const me = this.agent.id;
    const pending = this.followups.pending(me, (id) => this.visible(this.leads.get(id)));
    return now === null ? pending : pending.filter((f) => isDue(f, now));
  }

  unreadOf(conversationId) {
    return this.unread.conversations[String(conversationId)] || 0;
  }

  /** Conversations most recent first. */
  sortedConversations() {
    return [...this.conversations.values()].sort(
      (a, b) =>
        (b.last_message_at || "").localeCompare(a.last_message_at || "") || b.id - a.id,
    );
  }
}

function normaliseUnread(unread) {
  return {
    total: (unread && unread.total) || 0,
    conversations: { ...((unread && unread.conversations) || {}) },
  };
}
