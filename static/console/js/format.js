// How times, statuses, people and consent read on screen.

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: "long" });
const dateFormat = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "numeric",
});
const fullFormat = new Intl.DateTimeFormat(undefined, {
  dateStyle: "medium",
  timeStyle: "short",
});

function startOfDay(date) {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
}

/** "14:05" (in the agent's locale). */
export function clock(iso) {
  return iso ? timeFormat.format(new Date(iso)) : "";
}

/** "Mar 3, 2025, 2:05 PM": for tooltips. */
export function fullTime(iso) {
  return iso ? fullFormat.format(new Date(iso)) : "";
}

/** The day heading of a thread: "Today", "Yesterday", "Monday", "Mar 3". */
export function dayHeading(iso, now = new Date()) {
  const date = new Date(iso);
  const days = Math.round((startOfDay(now) - startOfDay(date)) / 86400000);
  if (days === 0) return "Today";
  if (days === 1) return "Yesterday";
  if (days > 1 && days < 7) return dayFormat.format(date);
  return dateFormat.format(date);
}

/** The short time of a list row: "14:05" today, else "Yesterday"/"Mon"/"Mar 3". */
export function rowTime(iso, now = new Date()) {
  if (!iso) return "";
  const date = new Date(iso);
  const days = Math.round((startOfDay(now) - startOfDay(date)) / 86400000);
  if (days <= 0) return clock(iso);
  if (days === 1) return "Yesterday";
  if (days < 7) return new Intl.DateTimeFormat(undefined, { weekday: "short" }).format(date);
  return dateFormat.format(date);
}

/** The key of the day a message belongs to (for day separators). */
export function dayKey(iso) {
  const d = new Date(iso);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
}

/** Up to two initials for an avatar ("" for a name without letters, such
 * as a phone number: the avatar then shows a person). */
export function initials(name) {
  const words = String(name || "")
    .replace(/[^\p{L}\s]/gu, " ")
    .trim()
    .split(/\s+/)
    .filter(Boolean);
  if (!words.length) return "";
  const letters = words.length > 1 ? [words[0], words[words.length - 1]] : [words[0]];
  return letters.map((w) => Array.from(w)[0].toUpperCase()).join("");
}

/** A stable hue for a name, so each lead's avatar keeps its colour. */
export function hue(text) {
  let hash = 0;
  for (const ch of String(text)) hash = (hash * 31 + ch.codePointAt(0)) >>> 0;
  return hash % 360;
}

/** "+1 415-555-0123" from "+14155550123" (North American numbers only). */
export function prettyNumber(number) {
  const match = /^\+1(\d{3})(\d{3})(\d{4})$/.exec(number || "");
  return match ? `+1 ${match[1]}-${match[2]}-${match[3]}` : number || "";
}

/** A contact's name, or "" for one without (the server says "(no name)"). */
export function named(name) {
  return name && name !== "(no name)" ? name : "";
}

// Outbound delivery states as agents read them; `tone` picks the colour.
export const STATUS = {
  scheduled: { label: "Scheduled", icon: "clock", tone: "muted" },
  queued: { label: "Queued", icon: "clock", tone: "muted" },
  sending: { label: "Sending", icon: "clock", tone: "muted" },
  sent: { label: "Sent", icon: "check", tone: "muted" },
  delivered: { label: "Delivered", icon: "checks", tone: "ok" },
  undelivered: { label: "Not delivered", icon: "alert", tone: "bad" },
  failed: { label: "Failed", icon: "alert", tone: "bad" },
  check: { label: "Check with the lead", icon: "alert", tone: "warn" },
  cancelled: { label: "Cancelled", icon: "close", tone: "muted" },
  pending: { label: "Sending", icon: "clock", tone: "muted" },
};

// How far along its way each status is (as chatserver.actions.messages ranks
// them): a late or replayed event never moves a message back.
export const STATUS_RANK = {
  pending: -1,
  scheduled: 0,
  queued: 1,
  sending: 2,
  check: 3,
  sent: 4,
  delivered: 5,
  undelivered: 5,
  failed: 5,
  cancelled: 5,
  received: 5,
};

// Consent dots (docs/protocol.md, "Consent and compliance"): green may text,
// yellow waits for the lead's YES, red has not agreed yet, grey opted out.
export const CONSENT = {
  authorized: { label: "Consent given", tone: "green" },
  pending: { label: "Consent requested, waiting for YES", tone: "yellow" },
  not_authorized: { label: "No consent yet", tone: "red" },
  // Not "(STOP)": a lead may opt out by phone, or a text an agent confirms.
  revoked: { label: "Opted out", tone: "grey" },
};

// A contact's role on a lead (chatserver/models/leads.py, Contact.Role), in
// the order the role select offers them.
export const ROLES = {
  homeowner: "Homeowner",
  spouse: "Spouse",
  adjuster: "Insurance adjuster",
  partner: "External partner",
  other: "Other",
};

// Where leads come from, offered as the new-lead form's suggestions (the
// agent may type any other).
export const SOURCES = ["Website", "Phone call", "Referral", "Door knocking", "Yard sign",
  "Google", "Facebook", "Home show", "Repeat customer"];

/** How a lead's source reads ("sms": it texted in; "manual": an agent added it). */
export function sourceLabel(source) {
  return { sms: "Texted in", manual: "Added by an agent", web: "Website" }[source] || source || "";
}

/** "+1 503-555-0199 · secondary": a number, and which of the contact's it is. */
export function numberLabel(number, kind) {
  const pretty = prettyNumber(number);
  return pretty && kind === "secondary" ? `${pretty} · secondary` : pretty;
}

/** A plural: plural(3, "message") -> "3 messages". */
export function plural(n, word, many = `${word}s`) {
  return `${n} ${n === 1 ? word : many}`;
}
