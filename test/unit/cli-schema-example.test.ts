/** `nfn schema --example` builds a payload that each function's own request schema accepts. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { exampleFor } from "../../cli/lib/schema-example.ts";
import { findFunctionSources, loadFunctionModule } from "../../runtime/loader.ts";
import { compileValidator } from "../../runtime/validation.ts";
import { deadlineProbe, probe, relay } from "../fixtures/probe-functions.ts";

describe("schema --example", () => {
  const sources = findFunctionSources(join(import.meta.dirname, "../../functions"));

  for (const [name, file] of sources) {
    it(`builds a valid example request for ${name}`, async () => {
      const def = await loadFunctionModule(file);
      const example = exampleFor(def.request);
      assert.equal(compileValidator(def.request)(example), undefined, `${name}: ${JSON.stringify(example)}`);
    });
  }

  it("builds valid examples for the probe fixtures", () => {
    for (const def of [probe, relay, deadlineProbe])
      assert.equal(compileValidator(def.request)(exampleFor(def.request)), undefined, def.name);
  });

  it("uses a domain-flavoured value when a hinted property fits the pattern, and a fallback when it does not", () => {
    const schema = {
      type: "object",
      required: ["sku", "orderId"],
      properties: { sku: { type: "string", pattern: "^[A-Z-]+$" }, orderId: { type: "string", pattern: "^[0-9]+$" } },
    };
    assert.deepEqual(exampleFor(schema), { sku: "EUR", orderId: "0" });
  });

  it("respects const, enum, oneOf, formats and minItems", () => {
    const schema = {
      type: "object",
      required: ["kind", "mode", "when", "email", "tags", "either"],
      properties: {
        kind: { const: "order" },
        mode: { enum: ["fast", "slow"] },
        when: { type: "string", format: "date-time" },
        email: { type: "string", format: "email" },
        tags: { type: "array", minItems: 2, items: { type: "string", minLength: 3 } },
        either: { oneOf: [{ type: "integer", minimum: 5 }, { type: "string" }] },
      },
    };
    const example = exampleFor(schema) as Record<string, unknown>;
    assert.equal(compileValidator(schema)(example), undefined, JSON.stringify(example));
    assert.deepEqual([example.kind, example.mode, (example.tags as unknown[]).length, example.either], ["order", "fast", 2, 5]);
  });
});
