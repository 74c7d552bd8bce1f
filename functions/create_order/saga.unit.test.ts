import assert from "node:assert/strict";
import { test } from "node:test";
import { fingerprint, isRevisionConflict, stableUuid } from "../_shared/saga-ids.ts";
import { orderView, type OrderRecord } from "../_shared/order-record.ts";
import { resolveDurableOptions } from "../../runtime/durable/options.ts";
import createOrder from "./index.ts";

void test("stableUuid gives the same RFC 9562 version-8 UUID for the same parts and another for other parts", () => {
  const a = stableUuid("order", "customer-1", "key-1");
  assert.equal(a, stableUuid("order", "customer-1", "key-1"));
  assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.notEqual(a, stableUuid("order", "customer-2", "key-1"));
  // Parts are separated, so shifting text between them changes the id.
  assert.notEqual(stableUuid("ab", "c"), stableUuid("a", "bc"));
});

void test("fingerprint ignores object key order but not values or array order", () => {
  const a = { items: [{ sku: "x", quantity: 1 }], paymentMethod: "pm_card_visa" };
  assert.equal(fingerprint(a), fingerprint({ paymentMethod: "pm_card_visa", items: [{ quantity: 1, sku: "x" }] }));
  assert.notEqual(fingerprint(a), fingerprint({ ...a, paymentMethod: "pm_card_amex" }));
  assert.notEqual(fingerprint({ items: [1, 2] }), fingerprint({ items: [2, 1] }));
});

void test("isRevisionConflict recognises JetStream's wrong-last-sequence error and nothing else", () => {
  assert.equal(isRevisionConflict(Object.assign(new Error("wrong last sequence: 7"), { code: 10071 })), true);
  assert.equal(isRevisionConflict(new Error("timeout")), false);
  assert.equal(isRevisionConflict("wrong last sequence"), false);
});

void test("the order view carries cancelReason only when cancelled and never the internal fields", () => {
  const record: OrderRecord = {
    orderId: "o-1",
    customerId: "c-1",
    status: "cancelled",
    cancelReason: "payment_declined",
    items: [{ sku: "x", quantity: 1, priceCents: 100 }],
    totalCents: 100,
    currency: "EUR",
    paymentMethod: "pm_card_chargeDeclined",
    requestFingerprint: "f",
    idempotencyKey: "k",
    createdAt: "2026-11-23T00:00:00.000Z",
    updatedAt: "2026-11-23T00:00:01.000Z",
  };
  const view = orderView(record);
  assert.equal(view.cancelReason, "payment_declined");
  assert.equal("step" in view || "paymentMethod" in view || "requestFingerprint" in view || "idempotencyKey" in view, false);
  assert.equal("cancelReason" in orderView({ ...record, status: "confirmed", cancelReason: undefined }), false);
});

void test("takeover settings default to a 15 s lease and 1 s polls and refuse a value that is not a positive integer", () => {
  const durable = createOrder.durable ?? true;
  assert.deepEqual(pick(resolveDurableOptions("create_order", durable, {})), { leaseMs: 15_000, pollMs: 1_000, transientErrors: "resume" });
  assert.deepEqual(pick(resolveDurableOptions("create_order", durable, { NFN_DURABLE_LEASE_MS: "200", NFN_DURABLE_POLL_MS: "500" })), {
    leaseMs: 200,
    pollMs: 500,
    transientErrors: "resume",
  });
  assert.throws(() => resolveDurableOptions("create_order", durable, { NFN_DURABLE_LEASE_MS: "soon" }), /NFN_DURABLE_LEASE_MS=soon/);
});

void test("create_order scopes an Idempotency-Key per customer: its invocation id is the order id of (customer, key)", () => {
  const options = resolveDurableOptions("create_order", createOrder.durable ?? true, {});
  const caller = { sub: "customer-1", scopes: [], claims: {} };
  assert.equal(options.invocationId?.("key-1", caller), stableUuid("order", "customer-1", "key-1"));
  assert.notEqual(options.invocationId?.("key-1", caller), options.invocationId?.("key-1", { ...caller, sub: "customer-2" }));
});

function pick(o: { leaseMs: number; pollMs: number; transientErrors: string }) {
  return { leaseMs: o.leaseMs, pollMs: o.pollMs, transientErrors: o.transientErrors };
}
