// The agent console: wires the socket, the state and the views together.
//
// Data comes over the socket (docs/protocol.md): a hello, then events. Views
// read the Store and redraw when it says what changed; nothing here parses
// HTML, and everything a lead or agent wrote is set as text.

import { Alerts } from "./alerts.js";
import { getJSON } from "./api.js";
import { Badge } from "./badge.js";
import { Dock } from "./dock.js";
import { announce, h, icon, setText } from "./dom.js";
import { Outstanding } from "./outstanding.js";
import { Presence } from "./presence.js";
import { Queue } from "./queue.js";
import { RepliesAdmin } from "./replies-admin.js";
import { ConsoleSocket, consoleUrl } from "./socket.js";
import { Store } from "./state.js";
import { AgentStorage, forgetDrafts } from "./storage.js";
import { WorkflowsAdmin } from "./workflows-admin.js";

const PHONE = window.matchMedia("(max-width: 640px)");
// Texts replayed after a reconnect arrive together: they shake the badge once.
const SHAKE_BURST_MS = 150;

const CONNECTION_TEXT = {
  connecting: "Connecting…",
  live: "Live",
  waiting: "Disconnected",
  reconnecting: "Reconnecting…",
  resuming: "Catching up…",
  offline: "Offline",
  forbidden: "No agent seat",
  "signed-out": "Signed out",
};

function main() {
  const root = document.getElementById("app");
  if (!root) return;
  const store = new Store();
  const presence = new Presence();
  let socket = null;
  const dock = new Dock({
    store,
    socket: { request: (f) => socket.request(f), send: (f, k) => socket.send(f, k) },
    phone: PHONE,
    presence,
  });
  const openConversation = (id) => dock.open(id);
  const queue = new Queue(store, openConversation);
  const badge = new Badge(store, openConversation);
  const alerts = new Alerts({ store, openConversation });
  const outstanding = new Outstanding(store, (lead) => openLead(store, dock, lead));
  let repliesAdmin = null; // admins only
  presence.onAsk = (id) => dock.boxes.get(id)?.reporter.repeat();

  // -- page layout -------------------------------------------------------
  const banner = h("div", {
    className: "banner",
    hidden: true,
    dataset: { testid: "connection-banner" },
  });
  const empty = h("div", { className: "workspace-empty" },
    icon("chat", "icon big"),
    h("h2", {}, "Pick a conversation"),
    h("p", {}, "New texts appear in the inbox as they arrive. Open several: they stack along the bottom."));
  const workspace = h("section", {
    className: "workspace",
    attrs: { "aria-label": "Open conversations" },
  }, empty, dock.el);
  root.replaceChildren(queue.el, workspace);
  root.before(banner);
  document.body.append(h("div", {
    id: "announcer",
    className: "sr-only",
    attrs: { "aria-live": "polite", "aria-atomic": "true" },
  }));
  const topbar = document.querySelector(".topbar");
  const who = topbar && topbar.querySelector(".who");
  if (who) who.before(alerts.el, outstanding.el, badge.el);
  else if (topbar) topbar.append(alerts.el, outstanding.el, badge.el);
  badge.render();
  // Signing out forgets the drafts kept in this browser (a shared computer).
  topbar?.querySelector(".signout")?.addEventListener("submit", () => forgetDrafts());
  queue.isOpen = (id) => dock.boxes.has(id);
  dock.onChange = () => {
    workspace.classList.toggle("has-boxes", dock.boxes.size > 0);
    queue.renderSoon();
  };

  // -- connection state --------------------------------------------------
  const connection = document.querySelector("[data-testid=connection]");
  let countdown = null;
  let lastState = null;
  function showStatus(status) {
    if (connection) {
      connection.dataset.state = status.state;
      if (status.state !== lastState) setText(connection, CONNECTION_TEXT[status.state] || status.state);
    }
    lastState = status.state;
    window.clearInterval(countdown);
    document.body.classList.toggle("disconnected", !["live", "connecting"].includes(status.state));
    if (status.state === "live" || status.state === "connecting") {
      banner.hidden = true;
      return;
    }
    const draw = () => {
      const seconds = Math.max(0, Math.ceil((status.retryAt - Date.now()) / 1000));
      let text;
      if (status.state === "waiting") text = `Connection lost. Reconnecting in ${seconds} s…`;
      else if (status.state === "offline") text = "You are offline. The console reconnects when the network is back.";
      else if (status.state === "resuming") text = "Reconnected. Catching up on what you missed…";
      else if (status.state === "forbidden") text = "This login has no agent seat: ask an admin to add you.";
      else text = "Reconnecting…";
      banner.replaceChildren(
        icon(status.state === "resuming" ? "clock" : "alert"),
        h("span", {}, text),
        ["waiting", "offline"].includes(status.state)
          ? h("button", { type: "button", className: "link-button", onclick: () => socket.reconnectNow() }, "Retry now")
          : null,
      );
    };
    banner.hidden = false;
    draw();
    if (status.state === "waiting") countdown = window.setInterval(draw, 1000);
  }

  // -- frames from the server ------------------------------------------------
  let lastShake = 0;
  store.on("message", ({ conversation, message }) => {
    if (message.direction !== "in") return;
    const summary = store.conversations.get(conversation) || {};
    const lead = store.leads.get(summary.lead) || {};
    const name = lead.name || summary.lead_name || summary.contact_number || "a lead";
    announce(`New message from ${name}: ${message.body}`);
    if (!dock.isReading(conversation) && Date.now() - lastShake > SHAKE_BURST_MS) {
      lastShake = Date.now();
      badge.shake();
    }
  });
  let opened = false;
  function onFrame(frame, info) {
    switch (frame.type) {
      case "hello":
        store.applyHello(frame);
        if (!info.first) {
          dock.refreshAll();
          // A new socket: the others forgot this console's reports.
          presence.clear();
          for (const box of dock.boxes.values()) box.reporter.restart();
        }
        if (!opened) {
          opened = true;
          startAs(frame.agent);
          openFromAddress(store, dock);
        }
        return;
      case "presence":
        presence.apply(frame);
        return;
      case "templates.changed":
        dock.refreshAll();
        if (repliesAdmin && repliesAdmin.dialog.open) repliesAdmin.reload();
        return;
      case "reload":
        store.applyHello(frame);
        dock.reloadAll();
        return;
      case "resumed":
        if (frame.replayed) announce(`Reconnected: ${frame.replayed} updates caught up.`);
        return;
      case "ack":
      case "error":
        // A presence report refused (a lead that just left the agent's
        // view): nothing to tell the agent.
        if (String(frame.client_id).startsWith("presence:")) return;
        if (!dock.route(frame) && frame.type === "error") {
          announce(frame.reason);
          console.warn("server refused:", frame.reason);
        }
        return;
      case "lead.updated":
      case "lead.created":
      case "consent.changed":
        store.apply(frame);
        return;
      default:
        store.apply(frame);
    }
  }

  /** The first hello names the agent: their kept choices, drafts and open
   * chatboxes; admins manage saved replies. */
  function startAs(agent) {
    presence.me = agent.id;
    const storage = new AgentStorage(agent.id);
    alerts.useStorage(storage);
    dock.restore(storage);
    if (agent.admin && !repliesAdmin) {
      repliesAdmin = new RepliesAdmin();
      alerts.el.before(repliesAdmin.button, new WorkflowsAdmin().button);
    }
  }

  socket = new ConsoleSocket({ url: consoleUrl(), onFrame, onStatus: showStatus });
  socket.start();

  // -- keyboard ------------------------------------------------------------
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !event.defaultPrevented && !badge.dropdown.hidden) badge.close();
    if (event.key === "Escape" && !event.defaultPrevented && !outstanding.panel.hidden) outstanding.close();
  });
}

/** `/?lead=<id>` (a chatbox's lead link, the assignment email's) or
 * `?conversation=<id>`: open it, maximized. */
async function openFromAddress(store, dock) {
  const params = new URLSearchParams(location.search);
  const conversation = Number(params.get("conversation"));
  const lead = Number(params.get("lead"));
  if (conversation) {
    dock.open(conversation, { maximize: true });
    return;
  }
  if (lead) await openLead(store, dock, lead);
}

/** Open a lead's latest conversation, maximized; a lead the console has not
 * listed (closed, say) is looked up. */
async function openLead(store, dock, lead) {
  let first = store.sortedConversations().find((c) => c.lead === lead);
  if (!first) {
    try {
      const detail = await getJSON(`/api/leads/${lead}`);
      first = ((detail.lead && detail.lead.conversations) || [])[0];
    } catch (error) {
      const reason = error.status === 404
        ? "That lead is not one you can see: it was reassigned, or it does not exist."
        : `Could not open the lead: ${error.reason || error.message}`;
      const empty = document.querySelector(".workspace-empty p");
      if (empty) empty.textContent = reason;
      announce(reason);
      return;
    }
  }
  if (first) dock.open(first.id, { maximize: true });
}

main();
