// MMS images in the console: a message's images (or why they are not shown),
// and attaching images to a text from the composer (a phone's camera too).
//
// The server decides what each agent may see: an image comes with a `url`
// only for agents whose organisation has MMS on and who display images.
// Others are told that an image was sent. Nothing here parses HTML; file
// names and reasons are set as text.

import { ApiError, csrfToken } from "./api.js";
import { h } from "./dom.js";

// What carriers take (the server checks again): JPEG, PNG and GIF, 5 MB in
// one text, ten images at most.
export const ACCEPT = "image/jpeg,image/png,image/gif";
export const MAX_BYTES = 5 * 1024 * 1024;
export const MAX_IMAGES = 10;

const ICON_PATHS = {
  image: ["M3 5h18v14H3z", "M3 16l5-5 4 4 3-3 6 6", "M15.5 9.5h.01"],
  camera: ["M4 8h3l2-3h6l2 3h3v11H4z", "M12 17a3.5 3.5 0 1 0 0-7 3.5 3.5 0 0 0 0 7z"],
  download: ["M12 4v11", "M7 10l5 5 5-5", "M5 20h14"],
  remove: ["M6 6l12 12", "M18 6L6 18"],
  alert: ["M12 3l10 18H2z", "M12 10v4", "M12 17.5h.01"],
};

/** A small stroke icon of this module (dom.js's set has no image icons). */
function mmsIcon(name) {
  const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", "icon mms-icon");
  svg.setAttribute("aria-hidden", "true");
  for (const d of ICON_PATHS[name] || []) {
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}

export function sizeLabel(bytes) {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, "")} MB`;
  return `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

/** The images of a message, as its bubble shows them (null when none). */
export function attachmentsView(message) {
  const items = message.attachments || [];
  if (!items.length) return null;
  const fromLead = message.direction === "in";
  return h("div", { className: "attachments", dataset: { testid: "attachments" } },
    items.map((a) => attachmentView(a, fromLead)));
}

function attachmentView(a, fromLead) {
  if (a.status === "pending") {
    return h("div", { className: "attachment note-like", dataset: { testid: "attachment-pending" } },
      mmsIcon("image"), fromLead ? "Receiving an image…" : "Attaching an image…");
  }
  if (a.status === "rejected") {
    return h("div", {
      className: "attachment note-like rejected",
      dataset: { testid: "attachment-rejected" },
      attrs: { role: "note" },
    }, mmsIcon("alert"), `An attachment was not accepted: ${a.reason || "no reason given"}`);
  }
  if (!a.url) {
    // MMS is off for the organisation, or this agent does not display images.
    return h("div", { className: "attachment note-like", dataset: { testid: "attachment-hidden" } },
      mmsIcon("image"), fromLead ? "The lead sent an image" : "An image was sent");
  }
  const label = fromLead ? "Image from the lead" : "Image sent";
  const img = h("img", {
    src: a.url,
    alt: label,
    loading: "lazy",
    decoding: "async",
    className: "attachment-image",
    dataset: { testid: "attachment-image" },
  });
  return h("figure", { className: "attachment picture" },
    h("a", { href: a.url, target: "_blank", rel: "noopener", title: "Open the image" }, img),
    a.download_url ? h("a", {
      className: "attachment-download",
      href: a.download_url,
      download: "",
      dataset: { testid: "attachment-download" },
      attrs: { "aria-label": `Download the image${a.size ? ` (${sizeLabel(a.size)})` : ""}` },
    }, mmsIcon("download"), "Download") : null);
}

/**
 * The composer's image attacher: an "attach" button (files; a phone offers
 * its camera there too), a "camera" button on touch screens, and thumbnails
 * of what is attached, each removable.
 */
export class ImagePicker {
  /**
   * @param {object} options
   * @param {() => boolean} options.available  whether MMS is on for the organisation
   * @param {() => void} options.onChange  the attached images changed
   * @param {(reason: string) => void} options.onProblem  a file was refused here
   */
  constructor({ available, onChange, onProblem }) {
    this.available = available;
    this.onChange = onChange;
    this.onProblem = onProblem;
    this.files = []; // [{file, url}]
    this.disabled = false;
    const input = (extra) => h("input", {
      type: "file",
      accept: ACCEPT,
      hidden: true,
      className: "image-input",
      onchange: (event) => {
        this.add([...event.target.files]);
        event.target.value = "";
      },
      ...extra,
    });
    this.fileInput = input({ multiple: true, dataset: { testid: "image-input" } });
    // `capture` opens the camera straight away on phones.
    this.cameraInput = input({ attrs: { capture: "environment" }, dataset: { testid: "camera-input" } });
    this.attachButton = h("button", {
      type: "button",
      className: "icon-button attach-button",
      title: "Attach an image",
      dataset: { testid: "attach-image" },
      attrs: { "aria-label": "Attach an image" },
      onclick: () => this.fileInput.click(),
    }, mmsIcon("image"));
    this.cameraButton = h("button", {
      type: "button",
      className: "icon-button camera-button",
      title: "Take a photo",
      attrs: { "aria-label": "Take a photo" },
      onclick: () => this.cameraInput.click(),
    }, mmsIcon("camera"));
    this.buttons = h("div", { className: "attach-buttons" },
      this.attachButton, this.cameraButton, this.fileInput, this.cameraInput);
    this.strip = h("ul", {
      className: "attached",
      hidden: true,
      dataset: { testid: "attached" },
      attrs: { "aria-label": "Images to send" },
    });
    this.render();
  }

  count() {
    return this.files.length;
  }

  add(files) {
    for (const file of files) {
      if (this.files.length >= MAX_IMAGES) {
        this.onProblem(`Attach at most ${MAX_IMAGES} images to one text.`);
        break;
      }
      if (!ACCEPT.split(",").includes(file.type)) {
        this.onProblem(`${file.name}: only JPEG, PNG or GIF images can be sent.`);
        continue;
      }
      const total = this.files.reduce((n, f) => n + f.file.size, 0) + file.size;
      if (total > MAX_BYTES) {
        this.onProblem(`${file.name} is ${sizeLabel(file.size)}: carriers take ${sizeLabel(MAX_BYTES)} in one text.`);
        continue;
      }
      this.files.push({ file, url: URL.createObjectURL(file) });
    }
    this.render();
    this.onChange();
  }

  remove(entry) {
    this.files = this.files.filter((f) => f !== entry);
    URL.revokeObjectURL(entry.url);
    this.render();
    this.onChange();
  }

  /** Hand the attached images over for sending (their previews stay valid
   * until `release`), leaving the picker empty. */
  take() {
    const taken = this.files;
    this.files = [];
    this.render();
    return taken;
  }

  /** Put images back after a failed send: nothing is lost. */
  restore(entries) {
    this.files = entries.concat(this.files).slice(0, MAX_IMAGES);
    this.render();
    this.onChange();
  }

  release(entries) {
    for (const entry of entries) URL.revokeObjectURL(entry.url);
  }

  setDisabled(disabled) {
    this.disabled = disabled;
    this.render();
  }

  render() {
    const on = Boolean(this.available());
    const touch = window.matchMedia("(pointer: coarse)").matches;
    this.buttons.hidden = !on;
    this.attachButton.disabled = this.disabled;
    this.cameraButton.disabled = this.disabled;
    this.cameraButton.hidden = !touch;
    this.strip.hidden = !on || !this.files.length;
    this.strip.replaceChildren(...this.files.map((entry) => h("li", { className: "attached-item" },
      h("img", { src: entry.url, alt: entry.file.name, className: "attached-thumb" }),
      h("button", {
        type: "button",
        className: "attached-remove",
        title: `Remove ${entry.file.name}`,
        attrs: { "aria-label": `Remove ${entry.file.name}` },
        onclick: () => this.remove(entry),
      }, mmsIcon("remove")))));
  }
}

/** Send a text with images (POST multipart, CSRF-protected); the message as
 * stored, or ApiError with a reason fit to show. */
export async function sendMms(conversationId, { text, entries, clientId, category, schedule }) {
  const form = new FormData();
  form.append("body", text);
  form.append("client_id", clientId);
  if (category) form.append("category", String(category));
  if (schedule) form.append("schedule", "true");
  for (const entry of entries) form.append("image", entry.file, entry.file.name);
  let response;
  try {
    response = await fetch(`/api/conversations/${conversationId}/mms`, {
      method: "POST",
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: form,
    });
  } catch {
    throw new ApiError(0, "The server cannot be reached: the images were not sent.", "offline");
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = data && data.error;
    const reason = (error && error.reason) ||
      (response.status === 413 ? "The images are too large to send." : `The server answered ${response.status}.`);
    throw new ApiError(response.status, reason, error && error.code);
  }
  return data.message;
}
