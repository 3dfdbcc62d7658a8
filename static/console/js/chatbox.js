// One chatbox: a conversation with a lead's contact number.
//
// Header (the lead, links to it; minimize, maximize, close), the lead's
// contacts on the left (consent dots), the agents assigned on the right, the
// thread in the middle (history pages load as the agent scrolls back) and the
// composer. Wide boxes show the three panels side by side; narrow ones show
// the thread and open the panels over it (CSS container queries decide).

import * as api from "./api.js";
import { Composer } from "./composer.js";
import { avatar, h, icon, paintAvatar, replaceChildren, setText } from "./dom.js";
import { attachmentsView, ImagePicker, sendMms } from "./mms.js";
import {
  CONSENT,
  clock,
  dayHeading,
  dayKey,
  fullTime,
  prettyNumber,
  ROLES,
  STATUS,
} from "./format.js";

// Scrolled this close to the top, the next page of history loads.
const LOAD_MORE_AT_PX = 120;
// Consecutive messages of one side this close together share one group.
const GROUP_GAP_MS = 5 * 60 * 1000;

const KIND_LABEL = {
  authorization_request: "Consent request",
  auto_reply: "Automatic reply",
};

/** A contact's name, or "" for one without (the server says "(no name)"). */
function named(name) {
  return name && name !== "(no name)" ? name : "";
}

function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export class Chatbox {
  /**
   * @param {object} options
   * @param {number} options.conversationId
   * @param {import("./state.js").Store} options.store
   * @param {import("./socket.js").ConsoleSocket} options.socket
   * @param {object} options.dock  the Dock that lays chatboxes out
   */
  constructor({ conversationId, store, socket, dock }) {
    this.id = conversationId;
    this.store = store;
    this.socket = socket;
    this.dock = dock;
    this.state = "expanded"; // expanded | minimized | maximized
    this.details = null;
    this.history = store.history(conversationId);
    this.renderedVersion = -1;
    this.readSentUpTo = 0;
    this.loadingOlder = false;
    this.requests = new Map(); // client_id -> {text, extra, kind}
    this.build();
    this.unsubscribe = [
      store.on("conversations", () => this.renderHeader()),
      store.on("unread", () => {
        this.renderHeader();
        this.maybeMarkRead();
      }),
      store.on("message", (e) => e.conversation === this.id && this.onMessage(e)),
      store.on("status", (e) => e.conversation === this.id && this.renderThread()),
      store.on("lead", (e) => e.lead && e.lead.id === this.leadId() && this.onLeadChanged()),
      store.on("consent", (e) => this.onConsent(e)),
      store.on("note", (e) => e.lead === this.leadId() && this.renderThread(true)),
      store.on("agent", () => this.refreshSoon()),
    ];
    this.onVisibility = () => this.maybeMarkRead();
    document.addEventListener("visibilitychange", this.onVisibility);
    this.renderHeader();
    this.renderThread();
    this.refresh();
    this.loadLatest();
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
    const id = this.id;
    // The lead's name links to the lead (its full view: this chatbox
    // maximized, with contacts and team); a plain click opens it in place.
    this.title = h("a", {
      className: "lead-link",
      href: "#",
      dataset: { testid: "lead-link" },
      onclick: (event) => {
        event.stopPropagation();
        if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) return;
        event.preventDefault();
        this.setState("maximized");
        this.composer.focus();
      },
    });
    this.subtitle = h("span", { className: "chatbox-sub" });
    this.headUnread = h("span", { className: "count-pill", hidden: true });
    this.avatar = h("span", { className: "avatar sms small", attrs: { "aria-hidden": "true" } });
    const button = (name, label, run, extra = "") =>
      h("button", {
        type: "button",
        className: `icon-button ${extra}`,
        title: label,
        attrs: { "aria-label": label },
        dataset: { action: name },
        onclick: (event) => {
          event.stopPropagation();
          run();
        },
      }, icon(name));
    this.maxButton = button("maximize", "Maximize", () => this.toggleMaximize());
    this.minButton = button("minimize", "Minimize", () => this.minimize());
    this.peopleButton = button("people", "Contacts and team", () => this.togglePeople(), "people-toggle");
    this.head = h(
      "header",
      {
        className: "chatbox-head",
        onclick: () => (this.state === "minimized" ? this.expand() : this.minimize()),
      },
      button("back", "Back to the inbox", () => this.minimize(), "back-button"),
      this.avatar,
      h("div", { className: "chatbox-title" },
        h("div", { className: "chatbox-name" }, this.title,
          h("span", { className: "channel-chip", attrs: { title: "SMS conversation" } }, "SMS")),
        this.subtitle),
      this.headUnread,
      h("div", { className: "chatbox-actions" },
        this.peopleButton, this.minButton, this.maxButton,
        button("close", "Close", () => this.close())),
    );

    this.contactsList = h("ul", { className: "contact-list" });
    this.contacts = h("aside", {
      className: "panel contacts-panel",
      attrs: { "aria-label": "Contacts of this lead" },
    }, h("h3", { className: "panel-title" }, "Contacts"), this.contactsList);
    this.teamList = h("ul", { className: "team-list" });
    this.assign = h("div", { className: "assign" });
    this.team = h("aside", {
      className: "panel team-panel",
      attrs: { "aria-label": "Agents assigned" },
    }, h("h3", { className: "panel-title" }, "Assigned"), this.teamList, this.assign);

    this.olderButton = h("button", {
      type: "button",
      className: "older-button",
      hidden: true,
      onclick: () => this.loadOlder(),
    }, "Load earlier messages");
    this.historyStart = h("p", { className: "history-start", hidden: true }, "Start of the conversation");
    this.list = h("ol", { className: "messages", attrs: { "aria-label": "Messages" } });
    this.scroller = h("div", {
      className: "thread-scroll",
      tabIndex: 0,
      attrs: { role: "region", "aria-label": "Conversation history" },
      onscroll: () => this.onScroll(),
    }, this.olderButton, this.historyStart, this.list);
    this.picker = new ImagePicker({
      available: () => Boolean(this.store.agent && this.store.agent.may_send_images),
      onChange: () => this.composer.update(),
      onProblem: (reason) => this.composer.showError(reason),
    });
    this.composer = new Composer({
      limit: () => (this.store.organisation && this.store.organisation.message_limit) || "standard",
      onSend: (text, extra) => this.send(text, extra),
      label: "Write a text…",
      picker: this.picker,
    });
    this.thread = h("div", { className: "thread" }, this.scroller, this.composer.el);

    this.el = h(
      "section",
      {
        className: "chatbox expanded",
        dataset: { testid: "chatbox", conversation: String(id) },
        attrs: { role: "region", "aria-label": "Conversation" },
        onkeydown: (event) => this.onKeydown(event),
        onfocusin: () => this.dock.focused(this),
      },
      this.head,
      h("div", { className: "chatbox-body" }, this.contacts, this.thread, this.team),
    );
  }

  // -- header and panels --------------------------------------------------

  renderHeader() {
    const summary = this.summary();
    const lead = this.lead();
    const name = lead.name || summary.lead_name || prettyNumber(summary.contact_number) || "Conversation";
    setText(this.title, name);
    this.title.href = `/?lead=${encodeURIComponent(this.leadId() ?? "")}`;
    this.title.title = `Open ${name}`;
    const consent = CONSENT[summary.consent] || null;
    const contact = named(summary.contact_name);
    const number = prettyNumber(summary.contact_number);
    let sub = [contact && contact !== name ? contact : null, number !== name ? number : null]
      .filter(Boolean).join(" · ");
    if (!sub && consent) sub = consent.label;
    replaceChildren(
      this.subtitle,
      consent ? h("span", {
        className: `consent-dot ${consent.tone}`,
        title: consent.label,
        attrs: { role: "img", "aria-label": consent.label },
      }) : null,
      sub,
    );
    paintAvatar(this.avatar, name);
    this.el.setAttribute("aria-label", `Conversation with ${name}`);
    this.composer.setLabel(`Text ${contact ? contact.split(" ")[0] : name}…`);
    const unread = this.store.unreadOf(this.id);
    this.headUnread.hidden = !unread;
    setText(this.headUnread, String(unread));
    this.renderComposerState();
  }

  renderPanels() {
    const details = this.details;
    if (!details) return;
    const summary = this.summary();
    const contacts = details.contacts || [];
    replaceChildren(
      this.contactsList,
      contacts.length ? contacts.map((contact) => h("li", { className: "contact" },
        h("div", { className: `contact-name${named(contact.name) ? "" : " unnamed"}` },
          named(contact.name) || "Unnamed contact"),
        h("div", { className: "contact-role" }, ROLES[contact.role] || contact.role_label || contact.role || ""),
        h("ul", { className: "numbers" }, (contact.numbers || []).map((n) => this.numberItem(n, summary)))))
        : h("li", { className: "panel-empty" }, "No contacts."),
    );
    const lead = details.lead || {};
    const people = [];
    if (lead.assignee) {
      people.push(h("li", { className: "agent" },
        avatar(lead.assignee_name || "?", "avatar tiny"),
        h("span", { className: "agent-name" }, lead.assignee_name || "Agent"),
        h("span", { className: "agent-role" },
          this.store.agent && lead.assignee === this.store.agent.id ? "You" : "Assignee")));
    }
    for (const shared of details.shared_with || []) {
      people.push(h("li", { className: "agent" },
        avatar(shared.name, "avatar tiny"),
        h("span", { className: "agent-name" }, shared.name),
        h("span", { className: "agent-role" }, "Read-only")));
    }
    replaceChildren(
      this.teamList,
      people.length ? people : h("li", { className: "panel-empty" }, "Nobody yet: a reply claims it."),
    );
    this.renderAssign();
  }

  numberItem(number, summary) {
    const consent = CONSENT[number.consent] || CONSENT.not_authorized;
    const selected = number.conversation === this.id;
    const content = [
      h("span", {
        className: `consent-dot ${consent.tone}`,
        title: consent.label,
        attrs: { role: "img", "aria-label": consent.label },
      }),
      h("span", { className: "number" }, prettyNumber(number.number)),
      number.kind && number.kind !== "primary" ? h("span", { className: "number-kind" }, number.kind) : null,
    ];
    if (number.conversation && !selected) {
      return h("li", {}, h("button", {
        type: "button",
        className: "number-item",
        title: `Open the conversation with ${prettyNumber(number.number)}`,
        onclick: () => this.dock.open(number.conversation),
      }, content));
    }
    return h("li", {
      className: `number-item${selected ? " selected" : ""}`,
      attrs: selected ? { "aria-current": "true" } : {},
      title: selected ? "This conversation" : "No conversation with this number yet",
    }, content);
  }


  renderAssign() {
    const details = this.details;
    const agents = (details && details.agents) || [];
    const lead = (details && details.lead) || {};
    if (!details || !details.may_assign || !agents.length) {
      this.assign.replaceChildren();
      return;
    }
    const select = h("select", {
      className: "assign-select",
      attrs: { "aria-label": "Assign this lead" },
      onchange: () => {
        const value = select.value === "" ? null : Number(select.value);
        this.command({ type: "lead.assign", lead: lead.id, agent: value });
      },
    },
    h("option", { value: "", selected: !lead.assignee }, "Unassigned"),
    agents.map((a) => h("option", { value: String(a.id), selected: a.id === lead.assignee }, a.name)));
    replaceChildren(this.assign, h("label", { className: "assign-label" }, "Assign to", select));
  }

  /** Why the agent may not text here now, from the server's answer and the
   * live consent state. */
  renderComposerState() {
    const details = this.details;
    const summary = this.summary();
    if (details && details.text_block) {
      this.composer.setBlocked(details.text_block, this.unblockAction());
      return;
    }
    if (summary.consent && summary.consent !== "authorized") {
      const reason = summary.consent_notice || CONSENT[summary.consent].label;
      const action = summary.consent === "not_authorized" && !(details && details.text_block)
        ? { label: "Send authorization request", run: () => this.requestConsent() }
        : null;
      this.composer.setBlocked(reason, action);
      return;
    }
    this.composer.setBlocked(null);
    const quiet = details && details.quiet_hours;
    if (quiet && quiet.quiet) {
      this.composer.setSchedule(quiet.reason, quiet.next_allowed_label || "later");
    } else {
      this.composer.setSchedule(null);
    }
  }

  /** What the agent can do about a block they may lift: reopen a closed
   * lead, or take over a colleague's. */
  unblockAction() {
    const details = this.details || {};
    const lead = details.lead || {};
    const me = this.store.agent || {};
    if (!details.may_assign || !me.sms_allowed) return null;
    const command = (type, extra = {}) => () => this.command({ type, lead: lead.id, ...extra });
    if (lead.status === "closed") return { label: "Reopen lead", run: command("lead.reopen") };
    if (lead.assignee && lead.assignee !== me.id) {
      return { label: "Assign to me", run: command("lead.assign", { agent: me.id }) };
    }
    return null;
  }

  // -- data ---------------------------------------------------------------

  refreshSoon() {
    window.clearTimeout(this.refreshTimer);
    this.refreshTimer = window.setTimeout(() => this.refresh(), 120);
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
      this.renderThread(true);
    } catch (error) {
      if (error.status === 404) {
        // The lead left this agent's view (reassigned, say): say so.
        this.el.classList.add("gone");
        this.details = { text_block: "You can no longer see this lead." };
        this.renderComposerState();
      }
    }
  }

  /** Load (or reload, after a reconnect) the newest page of history. */
  async loadLatest() {
    try {
      const page = await api.history(this.id);
      this.history.addPage(page);
      this.renderThread();
      this.maybeMarkRead();
    } catch (error) {
      this.showThreadError(error);
    }
  }

  async loadOlder() {
    if (this.loadingOlder || !this.history.more || !this.history.oldestLoaded) return;
    this.loadingOlder = true;
    this.olderButton.disabled = true;
    setText(this.olderButton, "Loading…");
    const before = this.scroller.scrollHeight - this.scroller.scrollTop;
    try {
      const page = await api.history(this.id, this.history.oldestLoaded);
      this.history.addPage(page, { older: true });
      this.renderThread();
      // Keep the messages the agent was reading where they were.
      this.scroller.scrollTop = this.scroller.scrollHeight - before;
    } catch (error) {
      this.showThreadError(error);
    } finally {
      this.loadingOlder = false;
      this.olderButton.disabled = false;
      setText(this.olderButton, "Load earlier messages");
    }
  }

  showThreadError(error) {
    this.composer.showError(`Could not load the history: ${error.reason || error.message}`);
  }

  onScroll() {
    if (this.scroller.scrollTop < LOAD_MORE_AT_PX) this.loadOlder();
  }

  onMessage({ message }) {
    this.renderThread();
    if (message.direction === "in" && this.state === "minimized") {
      this.el.classList.remove("flash");
      void this.el.offsetWidth; // restart the animation
      this.el.classList.add("flash", "has-new");
    }
    this.maybeMarkRead();
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

  /** Whether the agent is looking at this conversation now. */
  isReading() {
    return this.state !== "minimized" && document.visibilityState === "visible" && this.dock.isShown(this);
  }

  maybeMarkRead() {
    if (!this.history.loaded || !this.isReading()) return;
    const last = this.history.lastId();
    if (!last || this.store.unreadOf(this.id) === 0) return;
    if (last <= this.readSentUpTo) {
      // Still unread although we read up to our newest: a message reached
      // the server but not us (the doorbell can drop one). Fetch it.
      if (!this.refetching) {
        this.refetching = true;
        window.setTimeout(() => {
          this.refetching = false;
          if (this.store.unreadOf(this.id) > 0) this.loadLatest();
        }, 1500);
      }
      return;
    }
    this.readSentUpTo = last;
    this.socket.send({ type: "conversation.read", conversation: this.id, message: last }, `read:${this.id}`);
  }

  // -- the thread ---------------------------------------------------------

  renderThread(force = false) {
    if (!force && this.renderedVersion === this.history.version) return;
    this.renderedVersion = this.history.version;
    const atBottom = this.scroller.scrollHeight - this.scroller.scrollTop - this.scroller.clientHeight < 60;
    const items = [];
    const notes = this.store.notes.get(this.leadId());
    const entries = this.history.ordered().map((m) => ({ at: m.created_at, message: m }));
    if (notes) {
      const oldest = this.history.more && this.history.oldestLoaded
        ? (this.history.messages.get(this.history.oldestLoaded) || {}).created_at : null;
      for (const note of notes.values()) {
        if (!oldest || note.created_at >= oldest) entries.push({ at: note.created_at, note });
      }
      entries.sort((a, b) => (a.at || "").localeCompare(b.at || ""));
    }
    let lastDay = null;
    let previous = null;
    for (const entry of entries) {
      const day = entry.at ? dayKey(entry.at) : lastDay;
      if (day !== lastDay) {
        items.push(h("li", { className: "day" }, h("span", {}, dayHeading(entry.at))));
        lastDay = day;
        previous = null;
      }
      if (entry.note) {
        items.push(this.noteItem(entry.note));
        previous = null;
        continue;
      }
      const message = entry.message;
      const grouped = previous && previous.direction === message.direction &&
        previous.author === message.author &&
        new Date(message.created_at) - new Date(previous.created_at) < GROUP_GAP_MS;
      items.push(this.messageItem(message, grouped));
      previous = message;
    }
    if (!items.length && this.history.loaded) {
      items.push(h("li", { className: "thread-empty" }, "No messages yet. Say hello!"));
    }
    this.list.replaceChildren(...items);
    this.olderButton.hidden = !this.history.more || !this.history.loaded || !this.history.oldestLoaded;
    this.historyStart.hidden = this.history.more || !this.history.loaded || !entries.length;
    if (atBottom || !this.scrolledOnce) {
      this.scroller.scrollTop = this.scroller.scrollHeight;
      if (this.history.loaded) this.scrolledOnce = true;
    }
  }

  messageItem(message, grouped) {
    const out = message.direction === "out";
    const me = this.store.agent && message.author === this.store.agent.id;
    const status = out ? STATUS[message.status] || { label: message.status, icon: "clock", tone: "muted" } : null;
    const meta = [h("time", { dateTime: message.created_at || "", title: fullTime(message.created_at) },
      clock(message.created_at))];
    if (out && message.author_name && !me) meta.unshift(h("span", { className: "author" }, message.author_name));
    if (out && !message.author) meta.unshift(h("span", { className: "author" }, KIND_LABEL[message.kind] || "Automatic"));
    // An MMS is billed as one MMS message, not by segments: say which it was.
    if (message.encoding === "MMS") {
      meta.push(h("span", { className: "mms-chip", title: "An MMS: billed as one message, whatever its length" }, "MMS"));
    }
    if (out) {
      let label = status.label;
      if (message.status === "scheduled" && message.scheduled_for) {
        label = `Scheduled for ${clock(message.scheduled_for)}`;
      }
      meta.push(h("span", {
        className: `status ${status.tone}`,
        dataset: { testid: "status" },
        attrs: { "aria-label": `Status: ${label}` },
      }, icon(status.icon, "icon status-icon"), label));
    }
    const failure = out && message.error_reason && ["failed", "undelivered", "check"].includes(message.status)
      ? h("div", { className: "failure", attrs: { role: "note" } }, message.error_reason) : null;
    const optout = !out && message.possible_optout ? h("div", { className: "optout-flag" },
      "This may be a request to stop texting.",
      h("button", {
        type: "button",
        className: "link-button",
        onclick: () => this.confirmOptout(message),
      }, "Confirm opt-out"),
      h("button", {
        type: "button",
        className: "link-button",
        onclick: () => this.dismissOptout(message),
      }, "Not an opt-out")) : null;
    const kind = KIND_LABEL[message.kind] && message.author ? h("div", { className: "kind" }, KIND_LABEL[message.kind]) : null;
    return h(
      "li",
      {
        className: `msg ${out ? "out" : "in"}${grouped ? " grouped" : ""}${message.status === "pending" ? " pending" : ""}`,
        dataset: {
          testid: "message",
          messageId: message.id ? String(message.id) : "",
          status: message.status,
          direction: message.direction,
        },
      },
      kind,
      attachmentsView(message),
      message.body || !(message.attachments || []).length ? h("div", { className: "bubble" }, message.body) : null,
      failure,
      optout,
      h("div", { className: "msg-meta" }, meta),
    );
  }

  noteItem(note) {
    return h("li", { className: "note", dataset: { testid: "note" } },
      h("div", { className: "note-head" }, icon("note"), "Internal note",
        note.author_name ? ` · ${note.author_name}` : "",
        h("time", { dateTime: note.created_at || "", title: fullTime(note.created_at) },
          ` · ${clock(note.created_at)}`)),
      h("div", { className: "note-body" }, note.body || ""));
  }

  // -- sending ------------------------------------------------------------

  send(text, extra) {
    const clientId = newClientId();
    if (extra.note) {
      this.requests.set(clientId, { text, kind: "note" });
      this.dock.own(clientId, this);
      this.socket.request({ type: "note.add", lead: this.leadId(), body: text, client_id: clientId });
      return;
    }
    if (extra.images) {
      this.sendWithImages(text, extra, clientId);
      return;
    }
    const agent = this.store.agent || {};
    this.history.addPending({
      id: 0,
      client_id: clientId,
      conversation: this.id,
      direction: "out",
      kind: "text",
      body: text,
      status: "pending",
      author: agent.id,
      author_name: agent.name,
      created_at: new Date().toISOString(),
    });
    this.requests.set(clientId, { text, extra, kind: "text" });
    this.dock.own(clientId, this);
    const frame = { type: "message.send", conversation: this.id, body: text, client_id: clientId };
    if (extra.category) frame.category = extra.category;
    if (extra.schedule) frame.schedule = true;
    this.socket.request(frame);
    this.scrolledOnce = false; // jump to the new message
    this.renderThread();
  }

  /** A text with images goes over HTTP (multipart), not the socket: the
   * pending bubble shows the local previews until the server has it. */
  async sendWithImages(text, extra, clientId) {
    const agent = this.store.agent || {};
    const entries = extra.images;
    this.history.addPending({
      id: 0,
      client_id: clientId,
      conversation: this.id,
      direction: "out",
      kind: "text",
      body: text,
      status: "pending",
      author: agent.id,
      author_name: agent.name,
      created_at: new Date().toISOString(),
      encoding: "MMS",
      attachments: entries.map((e, i) => ({ id: -i - 1, status: "accepted", url: e.url })),
    });
    this.scrolledOnce = false;
    this.renderThread();
    try {
      const message = await sendMms(this.id, {
        text, entries, clientId, category: extra.category, schedule: extra.schedule,
      });
      this.history.dropPending(clientId);
      this.history.upsert(message);
      this.picker.release(entries);
    } catch (error) {
      // Nothing is lost: the text and the images go back in the composer.
      this.history.dropPending(clientId);
      this.composer.restore(text);
      this.picker.restore(entries);
      this.composer.showError(error.reason || error.message);
    }
    this.renderThread();
  }

  /** A change to the lead (assign, reopen...): its refusal, if any, is
   * shown here; its effect arrives as events. */
  command(frame) {
    const clientId = newClientId();
    this.dock.own(clientId, this);
    this.socket.request({ ...frame, client_id: clientId });
  }

  requestConsent() {
    const clientId = newClientId();
    this.requests.set(clientId, { kind: "consent" });
    this.dock.own(clientId, this);
    this.socket.request({ type: "consent.request", conversation: this.id, client_id: clientId });
  }

  confirmOptout(message) {
    const clientId = newClientId();
    this.requests.set(clientId, { kind: "optout" });
    this.dock.own(clientId, this);
    this.socket.request({ type: "consent.confirm_optout", message: message.id, client_id: clientId });
  }

  dismissOptout(message) {
    const clientId = newClientId();
    this.requests.set(clientId, { kind: "optout" });
    this.dock.own(clientId, this);
    this.socket.request({ type: "consent.dismiss_optout", message: message.id, client_id: clientId });
  }

  /** The server accepted a send: the pending bubble becomes the message. */
  onAck(frame) {
    const request = this.requests.get(frame.client_id);
    this.requests.delete(frame.client_id);
    if (!request || request.kind !== "text") return;
    const pending = this.history.pending.get(frame.client_id);
    if (pending && frame.message) {
      this.history.dropPending(frame.client_id);
      if (!this.history.messages.has(frame.message)) {
        this.history.upsert({
          ...pending,
          id: frame.message,
          status: frame.status || "queued",
          scheduled_for: frame.scheduled_for || null,
        });
      }
    }
    this.renderThread();
  }

  /** The server refused a send: say why, and give the text back. */
  onError(frame) {
    const request = this.requests.get(frame.client_id);
    this.requests.delete(frame.client_id);
    if (!request) {
      this.composer.showError(frame.reason);
      return;
    }
    if (request.kind === "note") {
      this.composer.restore(request.text, "note");
    }
    if (request.kind === "text") {
      this.history.dropPending(frame.client_id);
      this.renderThread();
      this.composer.restore(request.text);
      if (frame.code === "quiet_hours") {
        const when = frame.details && frame.details.next_allowed_local
          ? clock(frame.details.next_allowed_local.slice(0, 19)) : "later";
        this.composer.setSchedule(frame.reason, when);
        this.composer.showError(frame.reason, {
          label: `Schedule it for ${when}`,
          run: () => {
            this.composer.clearError();
            this.composer.send();
          },
        });
        return;
      }
    }
    this.composer.showError(frame.reason);
  }

  // -- window states ------------------------------------------------------

  setState(state) {
    this.state = state;
    this.el.classList.toggle("minimized", state === "minimized");
    this.el.classList.toggle("maximized", state === "maximized");
    this.el.classList.toggle("expanded", state !== "minimized");
    const maximized = state === "maximized";
    this.maxButton.replaceChildren(icon(maximized ? "restore" : "maximize"));
    this.maxButton.setAttribute("aria-label", maximized ? "Restore" : "Maximize");
    this.maxButton.title = maximized ? "Restore" : "Maximize";
    this.minButton.setAttribute("aria-label", state === "minimized" ? "Expand" : "Minimize");
    this.minButton.title = state === "minimized" ? "Expand" : "Minimize";
    if (state !== "minimized") this.el.classList.remove("flash", "has-new");
    this.dock.layout();
    if (state !== "minimized") {
      this.scroller.scrollTop = this.scroller.scrollHeight;
      this.maybeMarkRead();
    }
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
    this.peopleButton.setAttribute("aria-expanded", String(open));
  }

  close() {
    this.dock.close(this);
  }

  destroy() {
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
