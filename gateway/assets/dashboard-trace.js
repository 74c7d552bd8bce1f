/* global document */
// The trace of one operation (a waterfall of its requests and events) and the dead-letter stream.
import { $, api, clock, esc, ms } from "./dashboard-common.js";

// Offsets from event times are whole milliseconds: no decimals for those.
const t = (v) => (Number.isInteger(v) ? String(v) : ms(v));

/** Loads and draws the trace of a correlation id or trace id. */
export async function showTrace(id) {
  $("#trace-id").value = id;
  $("#trace").scrollIntoView({ behavior: "smooth", block: "start" });
  const out = $("#trace-view");
  out.innerHTML = '<p class="empty">reading…</p>';
  const { status, body } = await api(`/dashboard/trace/${encodeURIComponent(id)}`);
  if (status !== 200) {
    out.innerHTML = `<p class="err">${esc(body?.error?.message ?? `trace refused (${status})`)}</p>`;
    return;
  }
  if (body.steps.length === 0) {
    out.innerHTML = `<p class="empty">nothing recorded for <code>${esc(id)}</code> (read ${body.window.scanned} events between ${clock(body.window.fromMs)} and ${clock(body.window.untilMs)})</p>`;
    return;
  }
  const total = Math.max(body.totalMs, 1);
  const rows = body.steps.map((s, i) => {
    const what =
      s.kind === "request"
        ? `<span class="kind req">request</span> POST /fn/${esc(s.fn)} <span class="pill ${s.status < 300 ? "ok" : s.status >= 500 ? "bad" : "warn"}">${s.status}</span>`
        : `<span class="kind ev">event</span> ${esc(s.eventType)} <span class="small">from ${esc(s.fn || "?")}</span>`;
    const agg = s.aggregateId ? ` <code class="small">${esc(s.aggregateId.slice(0, 40))}</code>` : "";
    return (
      `<tr class="step" data-i="${i}"><td class="num small">+${t(s.offsetMs)}</td><td>${what}${agg}</td>` +
      `<td class="waterfall"><div class="lane"><div class="bar ${s.kind}"></div></div></td>` +
      `<td class="num">${s.durationMs !== undefined ? `${ms(s.durationMs)} ms` : ""}</td><td class="num small">${i === 0 ? "" : `+${t(s.gapMs)}`}</td></tr>`
    );
  });
  out.innerHTML =
    `<p class="small">${body.steps.length} steps in ${ms(body.totalMs)} ms · read ${body.window.scanned} events` +
    `${body.window.truncated ? " (bound reached: older or later steps may be missing)" : ""}</p>` +
    `<table class="trace"><thead><tr><th class="num">at (ms)</th><th>step</th><th>timeline</th><th class="num">duration</th><th class="num">gap (ms)</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
  // Positions are set through the DOM, not inline style attributes, so a strict CSP still allows them.
  for (const row of out.querySelectorAll("tr.step")) {
    const s = body.steps[Number(row.dataset.i)];
    const bar = row.querySelector(".bar");
    bar.style.left = `${(s.offsetMs / total) * 100}%`;
    bar.style.width = s.durationMs !== undefined ? `${Math.max(0.8, (s.durationMs / total) * 100)}%` : "";
  }
}

/** Loads and draws the dead letters; `admin` enables replay. */
export async function loadDlq(admin) {
  const { status, body } = await api("/dashboard/dlq?limit=50");
  const box = $("#dlq-body");
  if (status !== 200) {
    box.innerHTML = `<tr><td colspan="7" class="err">${esc(body?.error?.message ?? `refused (${status})`)}</td></tr>`;
    return;
  }
  $("#dlq-total").textContent = `${body.total} parked`;
  if (body.letters.length === 0) {
    box.innerHTML = '<tr><td colspan="7" class="empty">no parked events</td></tr>';
    return;
  }
  box.innerHTML = body.letters
    .map(
      (l) =>
        `<tr data-seq="${l.seq}"><td class="num">${l.seq}</td><td>${esc(l.function)}</td><td>${esc(l.eventType)}</td>` +
        `<td class="num">${l.deliveries}</td><td class="err">${esc(l.error ?? (l.errorCode ? String(l.errorCode) : "hidden"))}</td>` +
        `<td class="small">${esc(l.failedAt.slice(11, 19))}</td>` +
        `<td><button type="button" class="replay" data-seq="${l.seq}"${admin ? "" : ' disabled title="replay needs an admin token"'}>replay</button></td></tr>`,
    )
    .join("");
  for (const b of box.querySelectorAll("button.replay")) {
    b.addEventListener("click", async () => {
      b.disabled = true;
      const r = await api(`/dashboard/dlq/${b.dataset.seq}/replay`, { method: "POST" });
      $("#dlq-note").textContent =
        r.status === 200 ? `replayed #${r.body.seq} on ${r.body.subject}` : `replay refused: ${r.body?.error?.message ?? r.status}`;
      await loadDlq(admin);
    });
  }
}

/** Wires the trace form. */
export function initTrace() {
  $("#trace-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const id = $("#trace-id").value.trim();
    if (id) void showTrace(id);
  });
  document.addEventListener("click", (e) => {
    const link = e.target.closest?.("[data-trace]");
    if (link) void showTrace(link.dataset.trace);
  });
}
