/* global document, fetch, location */
// Renders /openapi.json as a readable reference with a curl example per function; no external assets.
"use strict";

const esc = (value) => String(value).replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);

function resolve(doc, node) {
  if (node && typeof node.$ref === "string" && node.$ref.startsWith("#/")) {
    return node.$ref
      .slice(2)
      .split("/")
      .reduce((n, key) => (n ? n[key] : undefined), doc);
  }
  return node;
}

function curl(origin, path, op, example) {
  const lines = [`curl -sS -X POST ${origin}${path}`, `  -H 'content-type: application/json'`];
  if (op.security) lines.push(`  -H "Authorization: Bearer $TOKEN"`);
  lines.push(`  -d '${JSON.stringify(example).replace(/'/g, "'\\''")}'`);
  return lines.join(" \\\n");
}

async function main() {
  const target = document.getElementById("operations");
  const doc = await (await fetch("/openapi.json")).json();
  const origin = (doc.servers && doc.servers[0] && doc.servers[0].url) || location.origin;
  const sections = [];
  for (const [path, item] of Object.entries(doc.paths || {})) {
    const op = item.post;
    const media = op.requestBody.content["application/json"];
    const ok = op.responses["200"].content["application/json"];
    const errors = Object.keys(op.responses).filter((c) => c !== "200");
    sections.push(`<section id="${esc(op.operationId)}">
      <h2><span class="method">POST</span><code>${esc(path)}</code></h2>
      <p>${esc(op.summary)}</p><p class="small">${esc(op.description)}</p>
      ${op.security ? `<p class="small">Needs <code>Authorization: Bearer &lt;jwt&gt;</code>${op.security[0].bearer.length ? ` with scopes <code>${esc(op.security[0].bearer.join(" "))}</code>` : ""}.</p>` : ""}
      <h3 class="small">Example request</h3><pre>${esc(curl(origin, path, op, media.example))}</pre>
      <details><summary>Request schema</summary><pre>${esc(JSON.stringify(resolve(doc, media.schema), null, 2))}</pre></details>
      <details><summary>Response schema</summary><pre>${esc(JSON.stringify(resolve(doc, ok.schema), null, 2))}</pre></details>
      <p class="small">Errors: ${errors.map((c) => `<code>${esc(c)}</code>`).join(" ")} with body <code>{"error": {"code", "type", "message", "details?"}}</code></p>
    </section>`);
  }
  target.innerHTML = sections.length ? sections.join("") : '<p class="empty">no functions are deployed</p>';
}

main().catch((err) => {
  document.getElementById("operations").innerHTML = `<p class="err">could not load /openapi.json: ${esc(err.message)}</p>`;
});
