// Not missing a lead: desktop notifications and a sound for texts in the
// agent's own and unassigned conversations while the console's tab is hidden,
// and the unread count in the tab's icon (the favicon) as in its title.
//
// Both are the agent's choice, made in the "Alerts" menu of the top bar and
// kept in this browser for them (storage.js). The browser's permission for
// notifications is asked when the agent ticks the box, never on load.

import { h, icon } from "./dom.js";
import { prettyNumber } from "./format.js";

// A burst of texts (a reconnect's catch-up) notifies and sounds once.
const BURST_MS = 1500;
const PREVIEW = 120;

export class Alerts {
  /**
   * @param {object} options
   * @param {import("./state.js").Store} options.store
   * @param {(conversationId: number) => void} options.openConversation
   */
  constructor({ store, openConversation }) {
    this.store = store;
    this.openConversation = openConversation;
    this.storage = null;
    this.preferences = { desktop: false, sound: false };
    this.last = 0;
    this.sounds = 0;
    this.audio = null;

    this.desktop = h("input", {
      type: "checkbox",
      id: "alert-desktop",
      dataset: { testid: "alert-desktop" },
      onchange: () => this.setDesktop(this.desktop.checked),
    });
    this.sound = h("input", {
      type: "checkbox",
      id: "alert-sound",
      dataset: { testid: "alert-sound" },
      onchange: () => this.setSound(this.sound.checked),
    });
    this.note = h("p", { className: "alerts-note", attrs: { role: "status" } });
    this.menu = h("div", {
      id: "alerts-menu",
      className: "alerts-menu",
      hidden: true,
      dataset: { testid: "alerts-menu" },
      attrs: { role: "group", "aria-label": "Alerts" },
    },
    h("p", { className: "alerts-title" }, "When a lead texts you (or an unassigned lead texts) while this tab is hidden:"),
    h("label", { className: "check" }, this.desktop, "Show a desktop notification"),
    h("label", { className: "check" }, this.sound, "Play a sound"),
    this.note);
    this.button = h("button", {
      type: "button",
      className: "topbar-link alerts-button",
      dataset: { testid: "alerts-button", sounds: "0" },
      // Named when its word is hidden too (at phone width only the icon shows).
      attrs: { "aria-expanded": "false", "aria-controls": "alerts-menu", "aria-label": "Alerts" },
      onclick: () => this.toggle(),
    }, icon("volume"), h("span", {}, "Alerts"));
    this.el = h("div", {
      className: "alerts",
      onkeydown: (event) => {
        if (event.key === "Escape" && !this.menu.hidden) {
          event.preventDefault();
          this.toggle(false);
          this.button.focus();
        }
      },
    }, this.button, this.menu);
    document.addEventListener("pointerdown", (event) => {
      if (!this.menu.hidden && !this.el.contains(event.target)) this.toggle(false);
    });

    this.favicon = document.querySelector("link[rel=icon]") ||
      document.head.appendChild(h("link", { rel: "icon" }));
    store.on("message", (event) => this.onMessage(event));
    store.on("unread", (unread) => this.showCount(unread.total));
    this.showCount(0);
  }

  /** The agent is known (the hello): their choices. */
  useStorage(storage) {
    this.storage = storage;
    this.preferences = storage.preferences();
    const allowed = "Notification" in window && Notification.permission === "granted";
    // A choice the browser no longer allows shows as off.
    this.desktop.checked = this.preferences.desktop && allowed;
    this.sound.checked = this.preferences.sound;
  }

  toggle(open = this.menu.hidden) {
    this.menu.hidden = !open;
    this.button.setAttribute("aria-expanded", String(open));
    if (open) this.desktop.focus();
  }

  save() {
    if (this.storage) this.storage.savePreferences(this.preferences);
  }

  async setDesktop(on) {
    this.note.textContent = "";
    if (on && !("Notification" in window)) {
      this.desktop.checked = false;
      this.note.textContent = "This browser cannot show notifications.";
      return;
    }
    if (on && Notification.permission !== "granted") {
      // Asked now, on the agent's click: the browser shows its own prompt.
      const answer = await Notification.requestPermission();
      if (answer !== "granted") {
        this.desktop.checked = false;
        this.note.textContent = "Your browser blocks notifications from this site: allow them in its site settings, then tick the box again.";
        on = false;
      }
    }
    this.preferences = { ...this.preferences, desktop: on };
    this.save();
  }

  setSound(on) {
    this.preferences = { ...this.preferences, sound: on };
    this.save();
    // Browsers let a page play sound once the user has acted on it: now.
    if (on) this.beep(true);
  }

  // -- a lead's text -------------------------------------------------------

  /** Whether a text should alert this agent: the tab is hidden, it is a
   * lead's, new (not a catch-up), and its lead is theirs or nobody's. */
  concerns({ conversation, message, replay }) {
    if (message.direction !== "in" || replay || document.visibilityState !== "hidden") return false;
    const summary = this.store.conversations.get(conversation) || {};
    const lead = this.store.leads.get(summary.lead) || {};
    const assignee = lead.assignee !== undefined ? lead.assignee : summary.assignee;
    const me = this.store.agent && this.store.agent.id;
    return assignee === null || assignee === undefined || assignee === me;
  }

  onMessage(event) {
    if (!this.concerns(event) || Date.now() - this.last < BURST_MS) return;
    if (!this.preferences.desktop && !this.preferences.sound) return;
    this.last = Date.now();
    if (this.preferences.sound) this.beep();
    if (this.preferences.desktop && "Notification" in window && Notification.permission === "granted") {
      this.notify(event);
    }
  }

  notify({ conversation, message }) {
    const summary = this.store.conversations.get(conversation) || {};
    const lead = this.store.leads.get(summary.lead) || {};
    const name = lead.name || summary.lead_name || prettyNumber(summary.contact_number) || "A lead";
    const body = message.body || "Sent an image";
    const notification = new Notification(`New text from ${name}`, {
      body: body.length > PREVIEW ? `${body.slice(0, PREVIEW)}…` : body,
      tag: `conversation-${conversation}`, // one per conversation, replaced
    });
    notification.onclick = () => {
      window.focus();
      this.openConversation(conversation);
      notification.close();
    };
  }

  /** Two short tones (no sound file to fetch); `quiet` only wakes the audio. */
  beep(quiet = false) {
    try {
      this.audio ||= new AudioContext();
      if (this.audio.state === "suspended") this.audio.resume();
      if (quiet) return;
      const now = this.audio.currentTime;
      [880, 1320].forEach((frequency, i) => {
        const tone = this.audio.createOscillator();
        const gain = this.audio.createGain();
        tone.frequency.value = frequency;
        gain.gain.setValueAtTime(0.0001, now + i * 0.16);
        gain.gain.exponentialRampToValueAtTime(0.2, now + i * 0.16 + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, now + i * 0.16 + 0.14);
        tone.connect(gain).connect(this.audio.destination);
        tone.start(now + i * 0.16);
        tone.stop(now + i * 0.16 + 0.15);
      });
    } catch {
      return; // no audio here: the notification (if on) still shows
    }
    this.sounds += 1;
    this.button.dataset.sounds = String(this.sounds);
  }

  // -- the tab's icon and title --------------------------------------------

  showCount(total) {
    document.title = total ? `(${total}) SMS console` : "SMS console";
    this.favicon.href = faviconFor(total);
    this.favicon.dataset.count = String(total);
  }
}

/** The console's icon with the unread count on a red dot (a data: URL). */
export function faviconFor(total) {
  const size = 64;
  const canvas = document.createElement("canvas");
  canvas.width = size;
  canvas.height = size;
  const g = canvas.getContext("2d");
  if (!g) return "data:,";
  const gradient = g.createLinearGradient(0, 0, size, size);
  gradient.addColorStop(0, "#f97316");
  gradient.addColorStop(1, "#4f46e5");
  g.fillStyle = gradient;
  g.beginPath();
  g.roundRect(4, 4, 56, 56, 14);
  g.fill();
  if (total) {
    const text = total > 99 ? "99+" : String(total);
    g.fillStyle = "#dc2626";
    g.beginPath();
    g.arc(size - 22, 22, 22, 0, Math.PI * 2);
    g.fill();
    g.fillStyle = "#ffffff";
    g.font = `bold ${text.length > 2 ? 20 : 28}px sans-serif`;
    g.textAlign = "center";
    g.textBaseline = "middle";
    g.fillText(text, size - 22, 24);
  }
  return canvas.toDataURL("image/png");
}
