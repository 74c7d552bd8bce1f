/* global document, setTimeout */
// The live dashboard: snapshots streamed from /dashboard/stream, rendered into plain tables, with
// the invoke forms, the trace of one operation, latency charts and the dead-letter stream.
import { $, adminToken, api, clock, esc, followStream, ms, pct, setAdminToken, short } from "./dashboard-common.js";
import { addSnapshot, latencyChart, loadLatency } from "./dashboard-chart.js";
import { initInvoke, refreshInvokeChart, sendInvoke } from "./dashboard-invoke.js";
import { initTrace, loadDlq, showTrace } from "./dashboard-trace.js";

let admin = false;

function renderFunctions(functions) {
  const body = $("#functions tbody");
  if (functions.length === 0) {
    body.innerHTML = '<tr><td colspan="11" class="empty">no functions answer $SRV.STATS</td></tr>';
    return;
  }
  const rows = [];
  for (const f of functions) {
    const skew = f.skew ? ' <span class="skew" title="instances run different versions or bundles">skew</span>' : "";
    rows.push(
      `<tr class="function" data-fn="${esc(f.name)}"><td><strong>${esc(f.name)}</strong> <span class="small" title="${esc(f.instances.map((i) => i.id).join(" "))}">${f.instances.length} inst.</span>${skew}</td>` +
        `<td class="${f.versions.length > 1 ? "skew" : ""}">${esc(f.versions.join(", "))}</td>` +
        `<td class="${f.bundles.length > 1 ? "skew" : ""}"><code>${esc(f.bundles.map(short).join(", "))}</code></td>` +
        `<td class="num rps">${f.reqPerSec.toFixed(1)}</td><td class="num requests">${f.requests}</td>` +
        `<td class="num">${ms(f.p50Ms)}</td><td class="num">${ms(f.p99Ms)}</td><td class="latency">${latencyChart(f.name)}</td>` +
        `<td class="num ${f.errorRate > 0 ? "err" : ""}">${pct(f.errorRate)}</td><td class="num">${f.inFlight}</td>` +
        `<td class="err"><span class="clip" title="${esc(f.lastError)}">${esc(f.lastError)}</span></td></tr>`,
    );
    // One instance says nothing its function's row does not: list instances only when there are several.
    for (const i of f.instances.length > 1 ? f.instances : []) {
      rows.push(
        `<tr class="instance"><td><code title="${esc(i.id)}">…${esc(i.id.slice(-8))}</code></td><td>${esc(i.version)}</td><td><code>${esc(short(i.bundle))}</code></td>` +
          `<td class="num"></td><td class="num">${i.requests}</td><td class="num">${ms(i.p50Ms)}</td><td class="num">${ms(i.p99Ms)}</td><td></td>` +
          `<td class="num">${i.requests === 0 ? "" : pct(i.errors / i.requests)}</td><td class="num">${i.inFlight}</td><td class="err"><span class="clip" title="${esc(i.lastError)}">${esc(i.lastError)}</span></td></tr>`,
      );
    }
  }
  body.innerHTML = rows.join("");
}

function renderEvents(events) {
  const body = $("#events tbody");
  if (events.length === 0) return;
  body.innerHTML = events
    .map((e) => {
      const key = e.correlationId || e.traceId;
      const trace = key ? `<button type="button" class="link" data-trace="${esc(key)}">${esc(e.traceId.slice(0, 8))}</button>` : "";
      return (
        `<tr><td class="num">${e.seq}</td><td>${esc(e.eventType)}</td><td><code>${esc(e.aggregateId.slice(0, 18)) || '<span class="small">hidden</span>'}</code></td>` +
        `<td>${esc(e.source)}</td><td>${trace}</td><td class="small">${esc(e.occurredOn.slice(11, 19))}</td></tr>`
      );
    })
    .join("");
}

function renderRequests(requests) {
  const body = $("#requests tbody");
  if (!requests || requests.length === 0) return;
  body.innerHTML = requests
    .slice(0, 12)
    .map((r) => {
      const cls = r.status < 300 ? "ok" : r.status >= 500 ? "bad" : "warn";
      const key = r.correlationId || r.traceId;
      return (
        `<tr><td class="small">${clock(r.at).slice(0, 8)}</td><td>${esc(r.fn)}</td><td><span class="pill ${cls}">${r.status}</span></td>` +
        `<td class="num">${ms(r.durationMs)}</td><td>${key ? `<button type="button" class="link" data-trace="${esc(key)}">${esc(key.slice(0, 8))}</button>` : ""}</td></tr>`
      );
    })
    .join("");
}

function renderSagas(sagas) {
  const cancelled = Object.entries(sagas.cancelled);
  const total = sagas.confirmed + cancelled.reduce((n, [, c]) => n + c, 0);
  if (total === 0) return;
  const line = (n, cls, label, id = "") =>
    `<div${id ? ` id="${id}"` : ""}><span class="bar ${cls}" data-share="${n / total}"></span>${label} <strong>${n}</strong></div>`;
  const lines = [line(sagas.confirmed, "", "confirmed", "saga-confirmed")];
  for (const [reason, n] of cancelled) lines.push(line(n, "cancelled", `cancelled: ${esc(reason)}`));
  $("#sagas").className = "";
  $("#sagas").innerHTML = lines.join("");
  for (const bar of document.querySelectorAll("#sagas .bar")) bar.style.width = `${Math.max(2, Number(bar.dataset.share) * 160)}px`;
}

function render(snapshot) {
  addSnapshot(snapshot);
  renderFunctions(snapshot.functions);
  renderEvents(snapshot.events);
  renderRequests(snapshot.requests);
  renderSagas(snapshot.sagas);
  refreshInvokeChart();
  const status = $("#status");
  status.className = "status live";
  status.textContent = `live · ${snapshot.at.slice(11, 19)} UTC`;
}

function renderViewer(state, note = "") {
  const badge = $("#viewer");
  badge.className = `viewer ${state}`;
  badge.textContent = state === "admin" ? "admin" : state === "refused" ? "token needed" : "public view: ids and error texts hidden";
  $("#token-note").textContent = note;
  $("#sign-out").hidden = !adminToken();
}

async function whoAmI() {
  const { status, body } = await api("/dashboard/snapshot");
  if (status === 200) {
    admin = body.full === true;
    renderViewer(admin ? "admin" : "public");
    return true;
  }
  admin = false;
  renderViewer("refused", body?.error?.message ?? `refused (${status})`);
  return false;
}

async function connect() {
  for (;;) {
    try {
      await followStream("/dashboard/stream", (name, data) => name === "snapshot" && render(JSON.parse(data)));
    } catch (err) {
      if (err.status === 401 || err.status === 403) return;
    }
    const status = $("#status");
    status.className = "status down";
    status.textContent = "disconnected, retrying…";
    await new Promise((r) => setTimeout(r, 2000));
  }
}

async function start() {
  if (!(await whoAmI())) return;
  const latency = await api("/dashboard/latency");
  if (latency.status === 200) loadLatency(latency.body.samples);
  initTrace();
  $("#invoke-form").addEventListener("submit", sendInvoke);
  await initInvoke(showTrace);
  await loadDlq(admin);
  void connect();
}

$("#token-form").addEventListener("submit", (e) => {
  e.preventDefault();
  setAdminToken($("#token-input").value.trim());
  document.location.reload();
});
$("#sign-out").addEventListener("click", () => {
  setAdminToken("");
  document.location.reload();
});
$("#dlq-refresh").addEventListener("click", () => void loadDlq(admin));
void start();
