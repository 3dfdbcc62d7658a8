// What the console keeps in this browser between visits, per agent: drafts
// (per conversation), the chatboxes that were open (in their order), and the
// agent's choices (notifications, sound). localStorage, under keys named for
// the agent, so two agents sharing a browser keep theirs apart; signing out
// forgets them (a shared computer keeps no one's drafts).

const PREFIX = "sms-console";
// A draft not touched for this long is dropped (a lead long since answered).
const DRAFT_DAYS = 30;

function storage() {
  try {
    return window.localStorage;
  } catch {
    return null; // storage blocked: the console works, it only forgets
  }
}

function read(key, fallback) {
  const store = storage();
  if (!store) return fallback;
  try {
    const raw = store.getItem(key);
    return raw === null ? fallback : JSON.parse(raw);
  } catch {
    return fallback;
  }
}

function write(key, value) {
  const store = storage();
  if (!store) return;
  try {
    if (value === null || value === undefined) store.removeItem(key);
    else store.setItem(key, JSON.stringify(value));
  } catch {
    // Full or blocked: nothing to do but carry on.
  }
}

export class AgentStorage {
  /** @param {number} agentId  whose things these are */
  constructor(agentId) {
    this.base = `${PREFIX}:${agentId}`;
  }

  // -- drafts -------------------------------------------------------------

  /** The draft of a conversation: {text, note, mode} or null. */
  draft(conversationId) {
    const draft = read(`${this.base}:draft:${conversationId}`, null);
    if (!draft) return null;
    if (Date.now() - (draft.at || 0) > DRAFT_DAYS * 86400000) {
      this.saveDraft(conversationId, null);
      return null;
    }
    return draft;
  }

  /** Keep a draft ({text, note, mode}); an empty one is forgotten. */
  saveDraft(conversationId, draft) {
    const empty = !draft || (!draft.text.trim() && !draft.note.trim());
    write(`${this.base}:draft:${conversationId}`, empty ? null : { ...draft, at: Date.now() });
  }

  // -- open chatboxes -----------------------------------------------------

  /** {open: [ids in opening order], recency: [ids], states: {id: state}}. */
  dock() {
    const dock = read(`${this.base}:dock`, null);
    if (!dock || !Array.isArray(dock.open)) return { open: [], recency: [], states: {} };
    return dock;
  }

  saveDock(dock) {
    write(`${this.base}:dock`, dock.open.length ? dock : null);
  }

  // -- choices ------------------------------------------------------------

  /** The agent's choices: {desktop: bool, sound: bool}. */
  preferences() {
    return { desktop: false, sound: false, ...read(`${this.base}:preferences`, {}) };
  }

  savePreferences(preferences) {
    write(`${this.base}:preferences`, preferences);
  }
}

/** Forget what every agent kept in this browser but their choices (at sign
 * out: drafts may hold what a lead told them). */
export function forgetDrafts() {
  const store = storage();
  if (!store) return;
  for (let i = store.length - 1; i >= 0; i -= 1) {
    const key = store.key(i);
    if (key && key.startsWith(`${PREFIX}:`) && !key.endsWith(":preferences")) store.removeItem(key);
  }
}
