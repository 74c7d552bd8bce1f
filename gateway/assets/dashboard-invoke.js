/* global document, fetch, crypto, performance, CSS */
// The invoke forms: one per public function, generated from its request schema and prefilled
// with a valid example; the reply or the error (code, type, message, details) shown below.
import { $, api, esc } from "./dashboard-common.js";
import { latencyChart } from "./dashboard-chart.js";

let functions = [];
let selected = "";
let onTrace = () => {};

/** Loads the public functions and draws the forms; `traceHandler(id)` opens an operation's trace. */
export async function initInvoke(traceHandler) {
  onTrace = traceHandler;
  const { status, body } = await api("/dashboard/functions");
  if (status !== 200) {
    $("#invoke").innerHTML = `<p class="empty">functions unavailable (${status})</p>`;
    return;
  }
  functions = body.functions;
  if (functions.length === 0) {
    $("#invoke").innerHTML = '<p class="empty">no public function is deployed</p>';
    return;
  }
  $("#fn-tabs").innerHTML = functions
    .map((f) => `<button type="button" class="tab" data-fn="${esc(f.name)}" title="${esc(f.description)}">${esc(f.name)}</button>`)
    .join("");
  for (const b of document.querySelectorAll("#fn-tabs .tab")) b.addEventListener("click", () => select(b.dataset.fn));
  select(functions[0].name);
}

/** Redraws the selected function's chart (called on every snapshot). */
export function refreshInvokeChart() {
  const box = $("#invoke-chart");
  if (box && selected)
    box.innerHTML = `<div class="chart-title">${esc(selected)} latency over the last 5 minutes (ms): <span class="legend"><i class="p50"></i>p50 <i class="p99"></i>p99</span></div>${latencyChart(selected, { width: 380, height: 80, points: 300, axis: true })}`;
}

function resolve(schema, root) {
  if (schema && typeof schema.$ref === "string" && schema.$ref.startsWith("#/$defs/") && root.$defs)
    return root.$defs[schema.$ref.slice(8)] ?? {};
  return schema ?? {};
}

function kindOf(schema) {
  if (Array.isArray(schema.enum)) return "enum";
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  if (type === "string") return "string";
  if (type === "integer" || type === "number") return "number";
  if (type === "boolean") return "boolean";
  return "json";
}

function fieldHtml(name, schema, required, value) {
  const id = esc(`field-${name}`);
  const kind = kindOf(schema);
  const hint = [schema.description, schema.pattern && `pattern ${schema.pattern}`, schema.minimum !== undefined && `≥ ${schema.minimum}`]
    .filter(Boolean)
    .join(" · ");
  let input;
  if (kind === "enum") {
    const options = (required ? [] : [""]).concat(schema.enum);
    input = `<select id="${id}" data-kind="enum">${options
      .map(
        (o) =>
          `<option value="${esc(JSON.stringify(o))}"${JSON.stringify(o) === JSON.stringify(value) ? " selected" : ""}>${esc(o === "" ? "(unset)" : o)}</option>`,
      )
      .join("")}</select>`;
  } else if (kind === "boolean") {
    input = `<select id="${id}" data-kind="enum">${(required ? [true, false] : ["", true, false])
      .map((o) => `<option value="${esc(JSON.stringify(o))}"${o === value ? " selected" : ""}>${o === "" ? "(unset)" : o}</option>`)
      .join("")}</select>`;
  } else if (kind === "json") {
    const text = value === undefined ? "" : JSON.stringify(value, null, 2);
    input = `<textarea id="${id}" data-kind="json" rows="${Math.min(8, Math.max(2, text.split("\n").length))}" spellcheck="false">${esc(text)}</textarea>`;
  } else {
    input = `<input id="${id}" data-kind="${kind}" type="${kind === "number" ? "number" : "text"}" value="${esc(value ?? "")}" spellcheck="false"/>`;
  }
  return `<label class="field"><span class="name">${esc(name)}${required ? '<b class="req">*</b>' : ""}</span>${input}<span class="hint">${esc(hint)}</span></label>`;
}

function select(name) {
  selected = name;
  const f = functions.find((x) => x.name === name);
  for (const b of document.querySelectorAll("#fn-tabs .tab")) b.classList.toggle("active", b.dataset.fn === name);
  const schema = f.requestSchema ?? {};
  const props = schema.properties && typeof schema.properties === "object" ? schema.properties : undefined;
  const required = Array.isArray(schema.required) ? schema.required : [];
  const example = f.example && typeof f.example === "object" ? f.example : {};
  const fields = props
    ? Object.entries(props)
        .map(([k, s]) => fieldHtml(k, resolve(s, schema), required.includes(k), example[k]))
        .join("")
    : fieldHtml("body", {}, true, f.example);
  const needsToken = f.auth && f.auth !== "none";
  $("#invoke-form").innerHTML =
    `<p class="desc"><strong>${esc(f.name)}</strong> <span class="small">v${esc(f.version)}</span> — ${esc(f.description)}</p>` +
    `<div class="fields">${fields}</div>` +
    `<details class="headers"${needsToken ? " open" : ""}><summary>headers${needsToken ? ` <span class="small">(needs a token${f.auth === "token" ? "" : `: ${esc(f.auth)}`})</span>` : ""}</summary>` +
    `<label class="field"><span class="name">Authorization</span><input id="hdr-auth" type="text" placeholder="Bearer eyJ…" spellcheck="false"/></label>` +
    `<label class="field"><span class="name">Idempotency-Key</span><input id="hdr-idem" type="text" spellcheck="false"/></label></details>` +
    `<div class="actions"><button type="submit" id="invoke-send">Invoke ${esc(f.name)}</button><code id="invoke-preview" class="preview"></code></div>`;
  $("#invoke-form").toggleAttribute("data-props", Boolean(props));
  $("#invoke-form").oninput = preview;
  preview();
  refreshInvokeChart();
}

function readBody() {
  const f = functions.find((x) => x.name === selected);
  const schema = f.requestSchema ?? {};
  const required = Array.isArray(schema.required) ? schema.required : [];
  const read = (el) => {
    const kind = el.dataset.kind;
    const raw = el.value;
    if (kind === "enum") return raw === '""' ? undefined : JSON.parse(raw);
    if (raw === "") return undefined;
    if (kind === "number") return Number.isFinite(Number(raw)) ? Number(raw) : raw;
    if (kind === "json") return JSON.parse(raw);
    return raw;
  };
  if (!$("#invoke-form").hasAttribute("data-props")) return read($("#field-body"));
  const body = {};
  for (const name of Object.keys(schema.properties)) {
    const value = read($(`#field-${CSS.escape(name)}`));
    if (value !== undefined || required.includes(name)) body[name] = value ?? "";
  }
  return body;
}

function preview() {
  try {
    $("#invoke-preview").textContent = JSON.stringify(readBody());
    $("#invoke-preview").classList.remove("err");
  } catch (err) {
    $("#invoke-preview").textContent = `not JSON: ${err.message}`;
    $("#invoke-preview").classList.add("err");
  }
}

/** Sends the form; wired to the form's submit. */
export async function sendInvoke(event) {
  event.preventDefault();
  let body;
  try {
    body = readBody();
  } catch (err) {
    renderReply({ status: 0, text: `the form is not valid JSON: ${err.message}` });
    return;
  }
  const correlationId = crypto.randomUUID();
  const headers = { "content-type": "application/json", "nfn-correlation-id": correlationId };
  const auth = $("#hdr-auth")?.value.trim();
  const idem = $("#hdr-idem")?.value.trim();
  if (auth) headers.authorization = auth.startsWith("Bearer ") ? auth : `Bearer ${auth}`;
  if (idem) headers["idempotency-key"] = idem;
  $("#invoke-send").disabled = true;
  const started = performance.now();
  try {
    const res = await fetch(`/fn/${encodeURIComponent(selected)}`, { method: "POST", headers, body: JSON.stringify(body) });
    renderReply({ status: res.status, text: await res.text(), ms: performance.now() - started, correlationId, fn: selected });
  } catch (err) {
    renderReply({ status: 0, text: String(err) });
  } finally {
    $("#invoke-send").disabled = false;
  }
}

// A 202 names the durable invocation that goes on: its steps are one click away (the trace looks it up by id).
function runLink(json) {
  const first = json?.error?.code === 202 && Array.isArray(json.error.details) ? json.error.details[0] : undefined;
  const id = first && typeof first.invocationId === "string" ? first.invocationId : "";
  return /^[A-Za-z0-9._:-]{1,64}$/.test(id)
    ? `<button type="button" class="link" id="reply-run" data-trace="${esc(id)}">steps of invocation ${esc(id)} →</button>`
    : "";
}

function renderReply({ status, text, ms: took, correlationId, fn }) {
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const cls = status >= 200 && status < 300 ? "ok" : status >= 500 || status === 0 ? "bad" : "warn";
  const head =
    `<div class="reply-head"><span class="pill ${cls}" id="reply-status">${status || "failed"}</span>` +
    (fn ? `<span>${esc(fn)}</span>` : "") +
    (took !== undefined ? `<span class="small">${took.toFixed(1)} ms</span>` : "") +
    (correlationId
      ? `<button type="button" class="link" id="reply-trace" data-id="${esc(correlationId)}">trace this operation →</button>`
      : "") +
    runLink(json) +
    `</div>`;
  let detail = "";
  const error = json && json.error;
  if (error && typeof error === "object") {
    const rows = Array.isArray(error.details)
      ? error.details
          .map((d) =>
            d && typeof d === "object"
              ? `<tr><td><code>${esc(d.path ?? "")}</code></td><td>${esc(d.message ?? JSON.stringify(d))}</td></tr>`
              : "",
          )
          .join("")
      : "";
    detail =
      `<div class="error-box" id="reply-error"><strong>${esc(error.code)} ${esc(error.type)}</strong> ${esc(error.message)}</div>` +
      (rows ? `<table class="details"><thead><tr><th>path</th><th>problem</th></tr></thead><tbody>${rows}</tbody></table>` : "");
  }
  const pretty = json === undefined ? text : JSON.stringify(json, null, 2);
  $("#invoke-reply").innerHTML = `${head}${detail}<pre id="reply-body">${esc(pretty)}</pre>`;
  $("#reply-trace")?.addEventListener("click", (e) => onTrace(e.currentTarget.dataset.id));
}
