/* global document, fetch, sessionStorage, TextDecoder */
// Shared by the dashboard modules: DOM helpers, formatting, and calls that carry the admin token.

/** The first element matching `sel`. */
export const $ = (sel, root = document) => root.querySelector(sel);
/** Text made safe to put into HTML. */
export const esc = (value) => String(value ?? "").replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
/** Milliseconds, with two decimals under 100. */
export const ms = (value) => (value >= 100 ? value.toFixed(0) : value.toFixed(2));
/** A share as a percentage. */
export const pct = (value) => `${(value * 100).toFixed(1)}%`;
/** The first 12 characters of a hash. */
export const short = (hash) => (hash.length > 12 ? hash.slice(0, 12) : hash);
/** HH:MM:SS.mmm of an epoch-ms or ISO time. */
export const clock = (t) => new Date(t).toISOString().slice(11, 23);

const TOKEN_KEY = "nfn-dashboard-token";

/** The admin token the viewer pasted (kept for this tab only). */
export function adminToken() {
  return sessionStorage.getItem(TOKEN_KEY) ?? "";
}

/** Remembers (or, with "", forgets) the admin token. */
export function setAdminToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** Headers for a dashboard call: the admin token when there is one. */
export function authHeaders(extra = {}) {
  const token = adminToken();
  return token ? { ...extra, authorization: `Bearer ${token}` } : extra;
}

/** GETs or POSTs a dashboard route; resolves to {status, body}. */
export async function api(path, options = {}) {
  const res = await fetch(path, { ...options, headers: authHeaders(options.headers) });
  const text = await res.text();
  let body = text;
  try {
    body = JSON.parse(text);
  } catch {
    // leave the text
  }
  return { status: res.status, body };
}

/**
 * Follows a server-sent event stream with fetch (EventSource cannot send a token), calling
 * `onEvent(name, data)` per event; resolves when the stream ends, rejects on a refused status.
 */
export async function followStream(path, onEvent) {
  const res = await fetch(path, { headers: authHeaders({ accept: "text/event-stream" }) });
  if (!res.ok || !res.body) {
    const err = new Error(`stream refused with ${res.status}`);
    err.status = res.status;
    throw err;
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = "message";
      const data = [];
      for (const line of frame.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
      }
      if (data.length > 0) onEvent(name, data.join("\n"));
    }
  }
}
