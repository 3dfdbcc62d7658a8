// Building DOM without innerHTML.
//
// Everything a lead or agent wrote reaches the page through text nodes made
// here, so a message holding "<script>" shows those characters and runs
// nothing. No function in this module parses HTML.

import { hue, initials } from "./format.js";

/**
 * Make an element: h("button", {className: "x", onclick: fn}, "text", child).
 *
 * Props: `className`, `dataset` (object), `style` is refused (the CSP forbids
 * inline style attributes: use classes), `on<event>` handlers, `attrs` (set
 * with setAttribute, e.g. aria-*), anything else is assigned as a property.
 * Children: nodes, strings (as text), numbers, null/false (skipped), arrays.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "dataset") Object.assign(el.dataset, value);
    else if (key === "attrs") {
      for (const [name, v] of Object.entries(value)) {
        if (v !== undefined && v !== null && v !== false) el.setAttribute(name, String(v));
      }
    } else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "style") {
      throw new Error("inline styles are refused by the CSP: use a class");
    } else el[key] = value;
  }
  append(el, children);
  return el;
}

/** Append children (nodes, strings as text, arrays) to `el`. */
export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replace every child of `el`. */
export function replaceChildren(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** Set `el`'s text (never markup). Skips the write when nothing changed. */
export function setText(el, text) {
  const value = text === null || text === undefined ? "" : String(text);
  if (el.textContent !== value) el.textContent = value;
}

/** An inline SVG icon from the sprite-free set below (markup we wrote). */
export function icon(name, className = "icon") {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", className);
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  for (const d of ICONS[name] || []) {
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}

// Stroke icons (24x24, drawn with the currentColor stroke set in CSS).
const ICONS = {
  bell: [
    "M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9",
    "M13.73 21a2 2 0 0 1-3.46 0",
  ],
  minimize: ["M5 12h14"],
  maximize: ["M15 3h6v6", "M9 21H3v-6", "M21 3l-7 7", "M3 21l7-7"],
  restore: ["M4 14h6v6", "M20 10h-6V4", "M14 10l7-7", "M3 21l7-7"],
  close: ["M18 6 6 18", "M6 6l12 12"],
  send: ["M22 2 11 13", "M22 2l-7 20-4-9-9-4 20-7z"],
  back: ["M15 18l-6-6 6-6"],
  people: [
    "M17 21v-2a4 4 0 0 0-4-4H5a4 4 0 0 0-4 4v2",
    "M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8z",
    "M23 21v-2a4 4 0 0 0-3-3.87",
    "M16 3.13a4 4 0 0 1 0 7.75",
  ],
  chat: ["M21 15a2 2 0 0 1-2 2H7l-4 4V5a2 2 0 0 1 2-2h14a2 2 0 0 1 2 2z"],
  check: ["M20 6 9 17l-5-5"],
  checks: ["M18 6 7 17l-5-5", "M22 10l-7.5 7.5L13 16"],
  clock: ["M12 22a10 10 0 1 0 0-20 10 10 0 0 0 0 20z", "M12 6v6l4 2"],
  alert: [
    "M12 22a10 10 0 1 0 0-20 10 10 0 0 0 0 20z",
    "M12 8v4",
    "M12 16h.01",
  ],
  note: ["M12 20h9", "M16.5 3.5a2.12 2.12 0 0 1 3 3L7 19l-4 1 1-4z"],
  search: ["M11 19a8 8 0 1 0 0-16 8 8 0 0 0 0 16z", "M21 21l-4.35-4.35"],
  person: ["M20 21v-2a4 4 0 0 0-4-4H8a4 4 0 0 0-4 4v2", "M12 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8z"],
  plus: ["M12 5v14", "M5 12h14"],
  edit: ["M12 20h9", "M16.5 3.5a2.12 2.12 0 0 1 3 3L7 19l-4 1 1-4z"],
  archive: ["M21 8v13H3V8", "M1 3h22v5H1z", "M10 12h4"],
  reopen: ["M1 4v6h6", "M3.51 15a9 9 0 1 0 2.13-9.36L1 10"],
  trophy: ["M8 21h8", "M12 17v4", "M7 4h10v5a5 5 0 0 1-10 0z", "M17 5h3v2a3 3 0 0 1-3 3",
    "M7 5H4v2a3 3 0 0 0 3 3"],
  volume: ["M11 5 6 9H2v6h4l5 4V5z", "M15.54 8.46a5 5 0 0 1 0 7.07", "M19.07 4.93a10 10 0 0 1 0 14.14"],
  replies: ["M4 6h16", "M4 12h10", "M4 18h7", "M17 15l3 3-3 3"],
};

/**
 * Keep `list`'s children in step with `items`, one element per key: made
 * once (`make(item)`), refreshed in place (`fill(element, item)`) and moved
 * only when out of order, so focus on a row survives live updates. `cache`
 * is a Map (key -> element) the caller keeps between calls.
 */
export function keyedList(list, items, { key, make, fill, cache }) {
  const focused = document.activeElement;
  const wanted = new Set(items.map(key));
  for (const [k, el] of cache) {
    if (!wanted.has(k)) {
      el.remove();
      cache.delete(k);
    }
  }
  for (const child of [...list.children]) {
    if (!child.dataset.rowKey) child.remove(); // an empty-list message, say
  }
  items.forEach((item, index) => {
    const k = key(item);
    let el = cache.get(k);
    if (!el) {
      el = make(item);
      el.dataset.rowKey = String(k);
      cache.set(k, el);
    }
    fill(el, item);
    if (list.children[index] !== el) list.insertBefore(el, list.children[index] || null);
  });
  if (focused && focused !== document.activeElement && list.contains(focused)) focused.focus();
}

/** Arrow keys in a list or a tab list: the element the key moves to among
 * `items` (wrapping round with `wrap`), or null when the key is not an arrow
 * along `axis` ("vertical": up and down; "horizontal": left and right) or
 * the focus is on none of them. */
export function arrowTarget(event, items, { axis = "vertical", wrap = false } = {}) {
  const keys = axis === "vertical" ? ["ArrowUp", "ArrowDown"] : ["ArrowLeft", "ArrowRight"];
  const step = keys.indexOf(event.key);
  if (step < 0) return null;
  const index = items.indexOf(document.activeElement);
  if (index < 0) return null;
  event.preventDefault();
  const next = index + (step ? 1 : -1);
  if (wrap) return items[(next + items.length) % items.length];
  return items[next] || null;
}

/** A round avatar: initials on a colour of the name's own, or a person. */
export function avatar(name, className = "avatar") {
  const el = h("span", { className, attrs: { "aria-hidden": "true" } });
  return paintAvatar(el, name);
}

/** Redraw an avatar element for `name`. */
export function paintAvatar(el, name) {
  const letters = initials(name);
  el.replaceChildren(letters ? document.createTextNode(letters) : icon("person", "icon avatar-icon"));
  el.style.setProperty("--avatar-hue", String(hue(name || "")));
  return el;
}

/** Announce `text` to screen readers, politely (one shared live region). */
export function announce(text) {
  const region = document.getElementById("announcer");
  if (!region) return;
  // Clearing first makes a repeated text count as a change.
  region.textContent = "";
  window.setTimeout(() => {
    region.textContent = text;
  }, 50);
}
