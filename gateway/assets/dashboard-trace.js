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
  const durable = renderRuns(body.durable);
  if (body.steps.length === 0) {
    out.innerHTML =
      `<p class="empty">no request or event recorded for <code>${esc(id)}</code> (read ${body.window.scanned} events between ${clock(body.window.fromMs)} and ${clock(body.window.untilMs)})</p>` +
      durable;
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
    `<table class="trace"><thead><tr><th class="num">at (ms)</th><th>step</th><th>timeline</th><th class="num">duration</th><th class="num">gap (ms)</th></tr></thead><tbody>${rows.join("")}</tbody></table>` +
    durable;
  // Positions are set through the DOM, not inline style attributes, so a strict CSP still allows them.
  for (const row of out.querySelectorAll("tr.step")) {
    const s = body.steps[Number(row.dataset.i)];
    const bar = row.querySelector(".bar");
    bar.style.left = `${(s.offsetMs / total) * 100}%`;
    bar.style.width = s.durationMs !== undefined ? `${Math.max(0.8, (s.durationMs / total) * 100)}%` : "";
  }
}

const statusPill = (status) =>
  `<span class="pill ${status === "done" ? "ok" : status === "failed" || status === "cancelled" ? "bad" : "warn"}">${esc(status)}</span>`;
const errorText = (e) => (e ? `${e.code} ${esc(e.type)}${e.message ? `: ${esc(e.message)}` : ""}` : "");
// Journal contents reach the page only for an admin viewer; the server leaves them out otherwise.
const json = (v) => (v === undefined ? "" : `<code class="small">${esc(JSON.stringify(v).slice(0, 200))}</code>`);

/** The durable invocations of a trace, each step as `nfn runs show` prints it. */
function renderRuns(durable) {
  if (!durable) return "";
  const note = durable.unavailable ? `<p class="small">durable steps: ${esc(durable.unavailable)}</p>` : "";
  return (
    note +
    durable.runs
      .map((r) => {
        const head =
          `<h3 class="run-head">durable invocation <code>${esc(r.id ?? "(id hidden)")}</code> of ${esc(r.fn)} ${statusPill(r.status)}` +
          ` <span class="small">runs ${r.runs} · created ${clock(r.createdAt)}${r.endedAt ? ` · ended ${clock(r.endedAt)}` : ""}</span></h3>`;
        const wake = r.wake
          ? `<p class="small wake">${r.wake.kind === "sleep" ? "sleeping" : `waiting for ${esc(r.wake.eventType)} ${json(r.wake.match)}`} until ${clock(r.wake.at)}</p>`
          : "";
        const rows = r.steps.map(
          (s) =>
            `<tr class="run-step" data-kind="${esc(s.kind)}"><td class="num">${s.n}</td><td>${esc(s.name)}</td><td>${esc(s.kind)}</td><td>${statusPill(s.status)}</td>` +
            `<td class="num">${ms(s.ms)} ms</td><td class="num">${s.attempts}</td>` +
            `<td>${s.error ? `<span class="err">${errorText(s.error)}</span>` : json(s.result)}${s.wakeAt ? ` <span class="small">until ${clock(s.wakeAt)}</span>` : ""}</td></tr>`,
        );
        const more = r.moreSteps ? `<p class="small">more steps than shown: nfn runs show has them all</p>` : "";
        const outcome = r.error
          ? `<p class="err small">${errorText(r.error)}</p>`
          : r.result !== undefined
            ? `<p class="small">result ${json(r.result)}</p>`
            : "";
        return (
          `<div class="run">${head}${wake}<table class="run-steps"><thead><tr><th class="num">#</th><th>step</th><th>kind</th><th>status</th>` +
          `<th class="num">duration</th><th class="num">attempts</th><th>result or error</th></tr></thead><tbody>${rows.join("")}</tbody></table>${more}${outcome}</div>`
        );
      })
      .join("")
  );
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
