/* global document, EventSource */
// The live dashboard: server-sent snapshots from /dashboard/stream, rendered into plain tables.
"use strict";

const $ = (sel) => document.querySelector(sel);
const esc = (value) => String(value).replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
const ms = (value) => (value >= 100 ? value.toFixed(0) : value.toFixed(2));
const pct = (value) => `${(value * 100).toFixed(1)}%`;
const short = (hash) => (hash.length > 12 ? hash.slice(0, 12) : hash);

function renderFunctions(functions) {
  const body = $("#functions tbody");
  if (functions.length === 0) {
    body.innerHTML = '<tr><td colspan="10" class="empty">no functions answer $SRV.STATS</td></tr>';
    return;
  }
  const rows = [];
  for (const f of functions) {
    const skew = f.skew ? ' <span class="skew" title="instances run different versions or bundles">skew</span>' : "";
    rows.push(
      `<tr class="function" data-fn="${esc(f.name)}"><td><strong>${esc(f.name)}</strong> <span class="small">${f.instances.length} inst.</span>${skew}</td>` +
        `<td class="${f.versions.length > 1 ? "skew" : ""}">${esc(f.versions.join(", "))}</td>` +
        `<td class="${f.bundles.length > 1 ? "skew" : ""}"><code>${esc(f.bundles.map(short).join(", "))}</code></td>` +
        `<td class="num rps">${f.reqPerSec.toFixed(1)}</td><td class="num requests">${f.requests}</td>` +
        `<td class="num">${ms(f.p50Ms)}</td><td class="num">${ms(f.p99Ms)}</td>` +
        `<td class="num ${f.errorRate > 0 ? "err" : ""}">${pct(f.errorRate)}</td><td class="num">${f.inFlight}</td>` +
        `<td class="err">${esc(f.lastError)}</td></tr>`,
    );
    for (const i of f.instances) {
      rows.push(
        `<tr class="instance"><td><code title="${esc(i.id)}">…${esc(i.id.slice(-8))}</code></td><td>${esc(i.version)}</td><td><code>${esc(short(i.bundle))}</code></td>` +
          `<td class="num"></td><td class="num">${i.requests}</td><td class="num">${ms(i.p50Ms)}</td><td class="num">${ms(i.p99Ms)}</td>` +
          `<td class="num">${i.requests === 0 ? "" : pct(i.errors / i.requests)}</td><td class="num">${i.inFlight}</td><td class="err">${esc(i.lastError)}</td></tr>`,
      );
    }
  }
  body.innerHTML = rows.join("");
}

function renderEvents(events) {
  const body = $("#events tbody");
  if (events.length === 0) return;
  body.innerHTML = events
    .map(
      (e) =>
        `<tr><td class="num">${e.seq}</td><td>${esc(e.eventType)}</td><td><code>${esc(e.aggregateId.slice(0, 18))}</code></td>` +
        `<td>${esc(e.source)}</td><td><code>${esc(e.traceId.slice(0, 8))}</code></td><td class="small">${esc(e.occurredOn.slice(11, 19))}</td></tr>`,
    )
    .join("");
}

function renderSagas(sagas) {
  const cancelled = Object.entries(sagas.cancelled);
  const total = sagas.confirmed + cancelled.reduce((n, [, c]) => n + c, 0);
  if (total === 0) return;
  const bar = (n, cls) => `<span class="bar ${cls}" style="width:${Math.max(2, (n / total) * 160)}px"></span>`;
  const lines = [`<div id="saga-confirmed">${bar(sagas.confirmed, "")}confirmed <strong>${sagas.confirmed}</strong></div>`];
  for (const [reason, n] of cancelled) lines.push(`<div>${bar(n, "cancelled")}cancelled: ${esc(reason)} <strong>${n}</strong></div>`);
  $("#sagas").className = "";
  $("#sagas").innerHTML = lines.join("");
}

function render(snapshot) {
  renderFunctions(snapshot.functions);
  renderEvents(snapshot.events);
  renderSagas(snapshot.sagas);
  const status = $("#status");
  status.className = "status live";
  status.textContent = `live · ${snapshot.at.slice(11, 19)} UTC`;
}

function connect() {
  const source = new EventSource("/dashboard/stream");
  source.addEventListener("snapshot", (e) => render(JSON.parse(e.data)));
  source.onerror = () => {
    const status = $("#status");
    status.className = "status down";
    status.textContent = "disconnected, retrying…";
  };
}

connect();
