// One chatbox: a conversation with a lead's contact number.
//
// The header (header.js: the lead, links to it; minimize, maximize, close),
// the lead's contacts on the left and the agents assigned on the right
// (panels.js), the thread in the middle (thread.js) and the composer, whose
// sends are tracked until the server answers (pending.js) and which says why
// the agent may not text now (textblock.js). Wide boxes show the three panels
// side by side; narrow ones show the thread and open the panels over it (CSS
// container queries decide).
//
// This module is the box itself: it builds the parts and wires the store's
// events to them, keeps the window state (expanded, minimized, maximized),
// and loads the conversation's details (re-read when the lead or its consent
// changes) for the header, the panels and the composer. It keeps the
// composer's draft (storage.js: across closing the box and a refresh), says
// who else is on the conversation and tells the others when this agent is
// (presence.js). The dock talks only to it.

import * as api from "./api.js";
import { Composer } from "./composer.js";
import { h } from "./dom.js";
import { named, prettyNumber } from "./format.js";
import { ChatboxHeader } from "./header.js";
import { ImagePicker } from "./mms.js";
import { Panels } from "./panels.js";
import { PendingSends } from "./pending.js";
import { PhoneOptout } from "./phone-optout.js";
import { presenceText, Reporter } from "./presence.js";
import { ScheduledTexts } from "./scheduled.js";
import { showTextBlock } from "./textblock.js";
import { Thread } from "./thread.js";

export class Chatbox {
  /**
   * @param {object} options
   * @param {number} options.conversationId
   * @param {import("./state.js").Store} options.store
   * @param {import("./socket.js").ConsoleSocket} options.socket
   * @param {object} options.dock  the Dock that lays chatboxes out
   * @param {import("./presence.js").Presence} options.presence  who else is here
   * @param {import("./storage.js").AgentStorage | null} options.storage  drafts
   * @param {boolean} [options.restored]  reopened after a refresh (a lead
   *   that left the agent's view since closes quietly)
   */
  constructor({ conversationId, store, socket, dock, presence, storage, restored = false }) {
    this.id = conversationId;
    this.store = store;
    this.socket = socket;
    this.dock = dock;
    this.storage = storage;
    this.restored = restored;
    this.state = "expanded"; // expanded | minimized | maximized
    this.details = null;
    const history = store.history(conversationId);
    const leadId = () => this.leadId();
    this.thread = new Thread({
      conversationId, store, socket, history, leadId,
      isReading: () => this.isReading(),
      showError: (reason) => this.composer.showError(reason),
      optout: {
        confirm: (message) => this.pending.confirmOptout(message),
        dismiss: (message) => this.pending.dismissOptout(message),
      },
      resend: {
        send: (message) => this.pending.resend(message),
        busy: (id) => this.pending.isResending(id),
      },
      scheduled: new ScheduledTexts({
        command: (frame) => this.pending.command(frame),
        zone: () => this.leadZone(),
        rerender: () => this.thread.render(true),
      }),
    });
    this.picker = new ImagePicker({
      available: () => Boolean(this.store.agent && this.store.agent.may_send_images),
      onChange: () => this.composer.update(),
      onProblem: (reason) => this.composer.showError(reason),
    });
    this.composer = new Composer({
      limit: () => (this.store.organisation && this.store.organisation.message_limit) || "standard",
      onSend: (text, extra) => this.pending.send(text, extra),
      label: "Write a text…",
      picker: this.picker,
      onEdit: (mode) => this.onEdit(mode),
      zone: () => this.leadZone(),
    });
    this.reporter = new Reporter({ conversationId, send: (frame, key) => socket.send(frame, key) });
    this.pending = new PendingSends({
      conversationId, store, socket, history, leadId,
      thread: this.thread,
      composer: this.composer,
      picker: this.picker,
      own: (clientId) => this.dock.own(clientId, this),
    });
    this.phoneOptout = new PhoneOptout({
      idSuffix: String(conversationId),
      record: (note) => this.pending.command({ type: "consent.phone_optout", conversation: this.id, note }),
    });
    this.panels = new Panels({
      conversationId, store,
      openConversation: (id) => this.openSibling(id),
      command: (frame) => this.pending.command(frame),
      changed: () => this.refresh(),
    });
    this.build();
    if (storage) this.composer.loadDraft(storage.draft(conversationId));
    this.unsubscribe = [
      presence.on(conversationId, (others) => this.showPresence(others)),
      store.on("conversations", () => this.renderHeader()),
      store.on("unread", () => {
        this.renderHeader();
        this.renderPanels(); // each number's unread count
        this.thread.maybeMarkRead();
      }),
      store.on("message", (e) => (e.conversation === this.id ? this.onMessage(e) : this.onLeadMessage(e))),
      store.on("status", (e) => e.conversation === this.id && this.thread.render()),
      store.on("lead", (e) => e.lead && e.lead.id === this.leadId() && this.onLeadChanged()),
      store.on("consent", (e) => this.onConsent(e)),
      store.on("note", (e) => e.lead === this.leadId() && this.thread.render(true)),
      store.on("agent", () => this.refreshSoon()),
      // The lead's follow-ups or workflows changed: the panel reads them again.
      store.on("followups", (e) => e && e.lead === this.leadId() && this.refreshSoon()),
      store.on("enrollment", (e) => e.lead === this.leadId() && this.refreshSoon()),
    ];
    this.onVisibility = () => {
      this.thread.maybeMarkRead();
      this.reportPresence();
    };
    document.addEventListener("visibilitychange", this.onVisibility);
    this.renderHeader();
    this.thread.render();
    this.refresh();
    this.thread.loadLatest();
  }

  summary() {
    return this.store.conversations.get(this.id) || { id: this.id };
  }

  leadId() {
    return this.summary().lead ?? (this.details && this.details.lead && this.details.lead.id);
  }

  lead() {
    return this.store.leads.get(this.leadId()) || {};
  }

  // -- building -----------------------------------------------------------

  build() {
    this.header = new ChatboxHeader({
      // The lead's name links to the lead (its full view: this chatbox
      // maximized, with contacts and team); a plain click opens it in place.
      openLead: () => {
        this.setState("maximized");
        this.composer.focus();
      },
      toggle: () => (this.state === "minimized" ? this.expand() : this.minimize()),
      minimize: () => this.minimize(),
      toggleMaximize: () => this.toggleMaximize(),
      togglePeople: () => this.togglePeople(),
      toggleLead: () => this.toggleLead(),
      close: () => this.close(),
    });
    this.presenceLine = h("div", {
      className: "presence-line",
      hidden: true,
      dataset: { testid: "presence" },
      attrs: { role: "status" },
    });
    this.el = h(
      "section",
      {
        className: "chatbox expanded",
        dataset: { testid: "chatbox", conversation: String(this.id) },
        attrs: { role: "region", "aria-label": "Conversation" },
        onkeydown: (event) => this.onKeydown(event),
        onfocusin: () => this.dock.focused(this),
      },
      this.header.el,
      h("div", { className: "chatbox-body" },
        this.panels.contacts,
        h("div", { className: "thread" }, this.thread.el, this.presenceLine, this.composer.el,
          this.phoneOptout.el),
        this.panels.team),
    );
  }

  // -- header and composer state ------------------------------------------

  renderHeader() {
    const summary = this.summary();
    const lead = this.lead();
    const name = lead.name || summary.lead_name || prettyNumber(summary.contact_number) || "Conversation";
    const agent = this.store.agent || {};
    this.header.render({
      name,
      leadId: this.leadId(),
      summary,
      unread: this.store.unreadOf(this.id),
      status: lead.status || summary.lead_status,
      mayChange: Boolean(this.details && this.details.may_assign && !agent.external),
    });
    this.el.setAttribute("aria-label", `Conversation with ${name}`);
    const contact = named(summary.contact_name);
    this.composer.setLabel(`Text ${contact ? contact.split(" ")[0] : name}…`);
    this.renderComposerState();
  }

  renderPanels() {
    this.panels.render(this.details);
  }

  /** Another conversation of the lead (another of its numbers): in the
   * lead's full view when this one is maximized, else beside it. */
  openSibling(id) {
    const full = this.state === "maximized" && id !== this.id;
    if (full) this.setState("expanded");
    this.dock.open(id, { maximize: full });
  }

  /** Close the lead (an engagement closed), or reopen it. */
  toggleLead() {
    const closed = (this.lead().status || this.summary().lead_status) === "closed";
    this.pending.command({ type: closed ? "lead.reopen" : "lead.close", lead: this.leadId() });
  }

  /** Open at a message (a search found it): scrolled to it, marked. */
  reveal(messageId) {
    this.thread.reveal(messageId);
  }

  /** Why the agent may not text here now (textblock.js). */
  renderComposerState() {
    const agent = this.store.agent || {};
    this.phoneOptout.show(Boolean(this.details && this.details.may_assign) &&
      !agent.external && this.summary().consent !== "revoked");
    showTextBlock(this.composer, {
      details: this.details,
      summary: this.summary(),
      agent: this.store.agent,
      requestConsent: () => this.pending.requestConsent(),
      command: (frame) => this.pending.command(frame),
    });
  }

  // -- drafts and presence -------------------------------------------------

  /** The agent changed the composer's text: keep the draft; typing a text
   * tells the others. */
  onEdit(mode) {
    if (this.storage) this.storage.saveDraft(this.id, this.composer.draft());
    if (mode === "text" && this.composer.text.trim()) this.reporter.typing();
    else this.reporter.stopTyping(); // sent, or emptied: no longer typing
  }

  /** Viewing while the agent reads the box, gone when they do not. */
  reportPresence() {
    this.reporter.viewing(this.isReading() && !this.el.classList.contains("gone"));
  }

  showPresence(others) {
    const text = presenceText(others);
    this.presenceLine.hidden = !text;
    this.presenceLine.textContent = text;
    this.presenceLine.classList.toggle("typing", others.some((o) => o.state === "typing"));
  }

  // -- data and events ----------------------------------------------------

  refreshSoon() {
    window.clearTimeout(this.refreshTimer);
    this.refreshTimer = window.setTimeout(() => this.refresh(), 120);
  }

  /** The lead's time zone (their clock, for "Send later"), once known. */
  leadZone() {
    return (this.details && this.details.lead_time_zone) || null;
  }

  async refresh() {
    try {
      const details = await api.conversationDetails(this.id);
      this.details = details;
      this.store.applyDetails(details);
      if (details.notes) {
        for (const note of details.notes) {
          this.store.apply({ type: "note.created", lead: details.lead.id, note }, { replay: true });
        }
      }
      this.el.classList.remove("gone");
      this.composer.setTemplates(details.templates, details.categories);
      this.renderPanels();
      this.renderHeader();
      this.thread.render(true);
    } catch (error) {
      if (error.status === 404 && this.restored && !this.details) {
        // Reopened after a refresh, but no longer this agent's to see.
        this.dock.close(this, { quiet: true });
        return;
      }
      if (error.status === 404) {
        // The lead left this agent's view (reassigned, say): say so.
        this.el.classList.add("gone");
        this.reportPresence();
        this.details = { text_block: "You can no longer see this lead." };
        this.renderComposerState();
      }
    }
  }

  /** After a reconnect that could not replay: reload the newest page of
   * history and the details. */
  reload() {
    this.thread.reload();
    this.refresh();
  }

  onMessage({ message }) {
    this.thread.render();
    if (message.direction === "in" && this.state === "minimized") {
      this.el.classList.remove("flash");
      void this.el.offsetWidth; // restart the animation
      this.el.classList.add("flash", "has-new");
    }
    this.thread.maybeMarkRead();
  }

  /** A text in another conversation of this lead (another of its numbers):
   * the contacts panel lists that number's conversation and unread count. */
  onLeadMessage({ conversation, message }) {
    if (!this.details || message.lead !== this.leadId()) return;
    const known = (this.details.contacts || []).some(
      (c) => (c.numbers || []).some((n) => n.conversation === conversation));
    if (!known) this.refreshSoon();
  }

  onLeadChanged() {
    this.renderHeader();
    this.refreshSoon();
  }

  onConsent(event) {
    if (!this.details) return;
    let touched = false;
    for (const contact of this.details.contacts || []) {
      for (const number of contact.numbers || []) {
        if (number.number === event.number) {
          number.consent = event.state;
          touched = true;
        }
      }
    }
    if (this.summary().contact_number === event.number) touched = true;
    if (touched) {
      this.renderPanels();
      this.renderHeader();
    }
  }

  /** The server's answer to a request this chatbox sent (the dock routes it). */
  onAck(frame) {
    this.pending.onAck(frame);
  }

  onError(frame) {
    this.pending.onError(frame);
  }

  /** Whether the agent is looking at this conversation now. */
  isReading() {
    return this.state !== "minimized" && document.visibilityState === "visible" && this.dock.isShown(this);
  }

  // -- window states ------------------------------------------------------

  setState(state) {
    this.state = state;
    this.el.classList.toggle("minimized", state === "minimized");
    this.el.classList.toggle("maximized", state === "maximized");
    this.el.classList.toggle("expanded", state !== "minimized");
    this.header.setState(state);
    if (state !== "minimized") this.el.classList.remove("flash", "has-new");
    this.dock.layout();
    if (state !== "minimized") {
      this.thread.scrollToBottom();
      this.thread.maybeMarkRead();
    }
    this.reportPresence();
  }

  minimize() {
    this.setState("minimized");
    this.dock.minimized(this);
  }

  expand() {
    this.setState("expanded");
    this.dock.focused(this);
    this.composer.focus();
  }

  toggleMaximize() {
    this.setState(this.state === "maximized" ? "expanded" : "maximized");
    this.composer.focus();
  }

  togglePeople() {
    const open = !this.el.classList.contains("people-open");
    this.el.classList.toggle("people-open", open);
    this.header.setPeopleOpen(open);
  }

  close() {
    this.dock.close(this);
  }

  destroy() {
    if (this.storage) this.storage.saveDraft(this.id, this.composer.draft());
    this.reporter.stop();
    this.thread.destroy();
    for (const off of this.unsubscribe) off();
    document.removeEventListener("visibilitychange", this.onVisibility);
    window.clearTimeout(this.refreshTimer);
    this.el.remove();
    this.store.histories.delete(this.id);
  }

  onKeydown(event) {
    if (event.key !== "Escape" || event.defaultPrevented) return;
    event.preventDefault();
    if (this.el.classList.contains("people-open")) this.togglePeople();
    else if (this.state === "maximized") this.setState("expanded");
    else this.minimize();
  }

  /** Bring into view and put the cursor in the composer. */
  focus() {
    if (this.state === "minimized") this.setState("expanded");
    this.composer.focus();
  }
}
