// Runs the console's state module (static/console/js/state.js) outside the
// browser: reads {hello, open, pending, frames} as JSON on stdin, applies the
// hello, opens histories for the `open` conversations, adds `pending` sends,
// applies the frames in order, and prints what the console would show.
// Used by test_console_state.py.

import { readFileSync } from "node:fs";

import { backoffDelay, spreadDelay } from "../../static/console/js/socket.js";
import { Store } from "../../static/console/js/state.js";

const input = JSON.parse(readFileSync(0, "utf-8"));

if (input.backoff) {
  // Each attempt's delay with the lowest and the highest random draw.
  const delayOf = input.spread ? spreadDelay : backoffDelay;
  const delays = input.backoff.map((attempt) => [
    delayOf(attempt, () => 0),
    delayOf(attempt, () => 0.999999),
  ]);
  process.stdout.write(JSON.stringify({ delays }));
  process.exit(0);
}

const store = new Store();
const announced = [];
store.on("message", (e) => announced.push(e.message.id));
store.applyHello(input.hello);
for (const id of input.open || []) store.history(id);
for (const message of input.pending || []) store.history(message.conversation).addPending(message);
for (const frame of input.frames || []) {
  // As app.js does: a reload (or a hello) replaces the summary state.
  if (frame.type === "reload" || frame.type === "hello") store.applyHello(frame);
  else store.apply(frame);
}

const histories = {};
for (const [id, history] of store.histories) {
  histories[id] = history
    .ordered()
    .map((m) => ({ id: m.id, status: m.status, body: m.body, client_id: m.client_id ?? null }));
}
const conversations = {};
for (const c of store.sortedConversations()) {
  conversations[c.id] = {
    last_message: c.last_message ? c.last_message.id : null,
    last_status: c.last_message ? c.last_message.status : null,
    consent: c.consent ?? null,
  };
}
const leads = {};
for (const lead of store.leads.values()) {
  leads[lead.id] = {
    assignee: lead.assignee ?? null,
    status: lead.status,
    bucket: store.bucketOf(lead),
    visible: store.visible(lead),
  };
}
// What the console shows in its list of open conversations: those of open,
// visible leads, each as a fresh state would show it.
const shown = {};
for (const c of store.sortedConversations()) {
  const lead = store.leads.get(c.lead) || {};
  if (c.status !== "open" || lead.status === "closed" || !store.visible(lead)) continue;
  shown[c.id] = {
    lead: c.lead,
    lead_name: lead.name ?? null,
    contact_name: c.contact_name ?? null,
    contact_number_kind: c.contact_number_kind ?? null,
    assignee: lead.assignee ?? null,
    last_message: c.last_message ? c.last_message.id : null,
    last_status: c.last_message ? c.last_message.status : null,
    possible_optout: c.last_message ? Boolean(c.last_message.possible_optout) : null,
    // A scheduled text's words and time (edited, released, cancelled).
    last_body: c.last_message ? c.last_message.body ?? null : null,
    scheduled_for: c.last_message ? c.last_message.scheduled_for ?? null : null,
    last_reason: c.last_message ? c.last_message.error_reason || "" : null,
    consent: c.consent ?? null,
  };
}
// The follow-ups on the agent's list (the Outstanding list shows the due ones).
const outstanding = store.pendingFollowUps().map((f) => ({
  id: f.id,
  lead: f.lead,
  due: f.due,
  note: f.note,
  assignee: f.assignee,
}));
process.stdout.write(
  JSON.stringify({
    outstanding,
    histories,
    conversations,
    leads,
    shown,
    unread: store.unread,
    buckets: store.buckets,
    agent: store.agent,
    organisation: store.organisation,
    announced,
  }),
);
