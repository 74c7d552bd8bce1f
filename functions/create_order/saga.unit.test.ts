import assert from "node:assert/strict";
import { test } from "node:test";
import { fingerprint, isRevisionConflict, stableUuid } from "../_shared/saga-ids.ts";
import { orderView, type OrderRecord } from "../_shared/order-record.ts";
import { recoverySettings } from "./recovery-settings.ts";

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
    step: "done",
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

void test("recovery settings default to 15 s / 30 s and refuse a value that is not a positive integer", () => {
  assert.deepEqual(recoverySettings({}), { everyMs: 15_000, graceMs: 30_000 });
  assert.deepEqual(recoverySettings({ NFN_ORDER_RECOVERY_EVERY_MS: "200", NFN_ORDER_RECOVERY_GRACE_MS: "500" }), {
    everyMs: 200,
    graceMs: 500,
  });
  assert.throws(() => recoverySettings({ NFN_ORDER_RECOVERY_GRACE_MS: "soon" }), /NFN_ORDER_RECOVERY_GRACE_MS=soon/);
});
