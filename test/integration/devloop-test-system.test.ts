/** startTestSystem: a real system a test file drives as a caller would (invoke, tokens, KV, events), and contractTests on a definition. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { connect } from "@nats-io/transport-node";
import { type TestSystem, contractTests, startTestSystem } from "nats-functions/testing";
import { defineFunction } from "nats-functions";

const dir = join(import.meta.dirname, "../../functions");

describe("startTestSystem", () => {
  let sys: TestSystem;
  before(async () => {
    sys = await startTestSystem({ dir });
  });
  after(() => sys.stop());

  it("invoke returns the value, or the contract error with its JSON Pointer details", async () => {
    const ok = await sys.invoke("check_inventory", { items: [{ sku: "NOPE-1", quantity: 1 }] });
    assert.deepEqual(ok.value, { available: false, items: [{ sku: "NOPE-1", requested: 1, available: 0, ok: false }] });
    const bad = await sys.invoke("check_inventory", { items: [{ sku: "NOPE-1", quantity: 0 }] });
    assert.equal(bad.error?.code, 400);
    assert.equal(bad.error?.type, "VALIDATION");
    assert.deepEqual((bad.error?.details as { path: string }[] | undefined)?.[0]?.path, "/items/0/quantity");
    const missing = await sys.invoke("no_such_function", {});
    assert.equal(missing.error?.code, 503, "no responders");
  });

  it("token() is accepted by the served functions with its scopes, and refused without them", async () => {
    const product = { sku: "TEST-SYS-1", name: "Prueba", priceCents: 100, onHand: 3 };
    const refused = await sys.invoke("put_product", product, { token: await sys.token("alice", ["orders:write"]) });
    assert.equal(refused.error?.code, 403);
    const unauthenticated = await sys.invoke("put_product", product);
    assert.equal(unauthenticated.error?.code, 401);
    const put = await sys.invoke("put_product", product, { token: await sys.token("admin", ["inventory:admin"]) });
    assert.equal(put.error, undefined, JSON.stringify(put.error));
  });

  it("kv() reads the functions' buckets and events() lists the stored domain events, filtered by type", async () => {
    const token = await sys.token("bob", ["orders:write"]);
    const order = await sys.invoke(
      "create_order",
      { items: [{ sku: "TEST-SYS-1", quantity: 1 }], paymentMethod: "pm_card_visa" },
      { token },
    );
    const { orderId, status } = order.value as { orderId: string; status: string };
    assert.equal(status, "confirmed");
    const confirmed = await sys.events("order.confirmed");
    assert.ok(confirmed.some((e) => e.aggregateId === orderId));
    assert.ok(confirmed.every((e) => e.eventType === "order.confirmed"));
    assert.ok((await sys.events()).length > confirmed.length, "all events when no type is given");
    const keys: string[] = [];
    for await (const k of await (await sys.kv("inventory")).keys()) keys.push(k);
    assert.ok(keys.length > 0);
  });

  it("stop() takes the server down with it", async () => {
    const other = await startTestSystem({ functions: [echo] });
    await other.stop();
    await assert.rejects(connect({ servers: other.natsUrl, timeout: 1000, maxReconnectAttempts: 0 }));
  });
});

const echo = defineFunction<{ text: string }, { text: string }>({
  name: "echo_contract",
  version: "1.0.0",
  description: "echoes",
  request: { type: "object", additionalProperties: false, required: ["text"], properties: { text: { type: "string", maxLength: 20 } } },
  response: { type: "object", additionalProperties: false, required: ["text"], properties: { text: { type: "string" } } },
  handler: async (input) => ({ text: input.text }),
});

// A definition (not a path), with examples given in the options instead of the schema.
contractTests(echo, { examples: [{ text: "hola" }, { text: "" }] });
