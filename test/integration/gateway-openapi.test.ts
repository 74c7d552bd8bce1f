/** OpenAPI 3.1 generated live from $SRV.INFO, checked with a real OpenAPI validator, and the /docs page. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import { type GatewaySystem, gatewaySystem } from "../fixtures/gateway-system.ts";
import { gatewayFunctions } from "../fixtures/gateway-functions.ts";
import { compileValidator } from "../../runtime/validation.ts";

let sys: GatewaySystem;
type Doc = Record<string, unknown> & { paths: Record<string, { post: Record<string, unknown> }> };

async function openapi(): Promise<Doc> {
  const res = await fetch(`${sys.gateway.url}/openapi.json`);
  assert.equal(res.status, 200);
  return (await res.json()) as Doc;
}

// Every local $ref in the document must name something that exists in it.
function unresolvedRefs(doc: unknown): string[] {
  const missing: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (typeof node !== "object" || node === null) return;
    for (const [key, value] of Object.entries(node)) {
      if (key === "$ref" && typeof value === "string") {
        const target = value
          .slice(2)
          .split("/")
          .reduce<unknown>((n, k) => (typeof n === "object" && n !== null ? (n as Record<string, unknown>)[k] : undefined), doc);
        if (target === undefined) missing.push(value);
      } else walk(value);
    }
  };
  walk(doc);
  return missing;
}

describe("gateway: OpenAPI and /docs", () => {
  before(async () => {
    sys = await gatewaySystem();
  });
  after(() => sys.stop());

  test("GET /openapi.json is a valid OpenAPI 3.1 document with one operation per deployed function", async () => {
    const doc = await openapi();
    const result = await new Validator().validate(doc);
    assert.deepEqual(result.errors, undefined, JSON.stringify(result.errors));
    assert.equal(result.valid, true);
    assert.equal(doc.openapi, "3.1.0");
    assert.deepEqual(Object.keys(doc.paths).sort(), gatewayFunctions.map((f) => `/fn/${f.name}`).sort());
    assert.deepEqual(unresolvedRefs(doc), []);
  });

  test("carries each function's advertised request schema, and $defs still resolve inside the document", async () => {
    const doc = await openapi();
    const schemas = (doc.components as { schemas: Record<string, Record<string, unknown>> }).schemas;
    assert.deepEqual(schemas.gw_echo_request, gatewayFunctions[0]?.request);
    assert.deepEqual(schemas.gw_order_request_outcome, { enum: ["confirmed", "out_of_stock", "payment_declined"] });
    assert.deepEqual((schemas.gw_order_request?.properties as Record<string, unknown>).outcome, {
      $ref: "#/components/schemas/gw_order_request_outcome",
    });
  });

  test("gives an example request per function that the function's own schema accepts", async () => {
    const doc = await openapi();
    for (const def of gatewayFunctions) {
      const op = doc.paths[`/fn/${def.name}`]?.post as { requestBody: { content: Record<string, { example: unknown }> } };
      const example = op.requestBody.content["application/json"]?.example;
      assert.equal(compileValidator(def.request)(example), undefined, `example of ${def.name}: ${JSON.stringify(example)}`);
    }
    const echo = doc.paths["/fn/gw_echo"]?.post as { requestBody: { content: Record<string, { example: unknown }> } };
    const res = await sys.post("gw_echo", echo.requestBody.content["application/json"]?.example);
    assert.equal(res.status, 200);
  });

  test("serves /docs and every asset from the gateway itself, with no CDN", async () => {
    const res = await fetch(`${sys.gateway.url}/docs`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /text\/html/);
    const html = await res.text();
    assert.match(html, /src="\/assets\/docs\.js"/);
    for (const file of ["docs.html", "docs.js", "dashboard.html", "dashboard.js", "dashboard.css"]) {
      const text = readFileSync(new URL(`../../gateway/assets/${file}`, import.meta.url), "utf8");
      assert.doesNotMatch(text, /(src|href)="(https?:)?\/\//, `${file} must not load anything from another host`);
      assert.equal((await fetch(`${sys.gateway.url}/assets/${file}`)).status, 200, file);
    }
  });
});
