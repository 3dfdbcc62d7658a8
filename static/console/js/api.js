// The JSON API (same origin, session cookie): history pages and details.

/** An API answer that was not 2xx: `reason` is fit to show an agent. */
export class ApiError extends Error {
  constructor(status, reason, code, details = null) {
    super(reason);
    this.status = status;
    this.reason = reason;
    this.code = code;
    this.details = details; // what the refusal names (a duplicate's leads...)
  }
}

/** A new client-made id (a UUID): a request sent twice with it is done once. */
export function clientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function csrfToken() {
  const match = /(?:^|;\s*)csrftoken=([^;]+)/.exec(document.cookie);
  return match ? decodeURIComponent(match[1]) : "";
}

async function request(method, url, body) {
  const options = {
    method,
    credentials: "same-origin",
    headers: { Accept: "application/json" },
  };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.headers["X-CSRFToken"] = csrfToken();
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, options);
  } catch {
    throw new ApiError(0, "The server cannot be reached.", "offline");
  }
  if (response.status === 401) {
    // The session ended: the login page brings the agent back here.
    window.location.assign(`/accounts/login/?next=${encodeURIComponent(location.pathname)}`);
    throw new ApiError(401, "Signed out.", "unauthenticated");
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = data && data.error;
    throw new ApiError(
      response.status,
      (error && error.reason) || `The server answered ${response.status}.`,
      error && error.code,
      (error && error.details) || null,
    );
  }
  return data;
}

export const getJSON = (url) => request("GET", url);
export const postJSON = (url, body) => request("POST", url, body);
export const deleteJSON = (url) => request("DELETE", url, {});

/** A page of a conversation's history, newest first; `before` pages back. */
export function history(conversationId, before) {
  const query = before ? `?before=${encodeURIComponent(before)}` : "";
  return getJSON(`/api/conversations/${conversationId}/messages${query}`);
}

/** The conversation in which this agent texts a number of a lead (made when
 * missing): POST /api/leads/<id>/conversations. */
export function openNumber(leadId, number) {
  return postJSON(`/api/leads/${leadId}/conversations`, { number });
}

/** A conversation with its lead's contacts, assignees and whether we may text. */
export function conversationDetails(conversationId) {
  return getJSON(`/api/conversations/${conversationId}`);
}
