import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Cleanup } from "../helpers/nats.ts";
import { type Marketplace, readEvents, startMarketplace } from "../fixtures/marketplace.ts";
import processPayment from "../../functions/process_payment/index.ts";
import verifyToken from "../../functions/verify_token/index.ts";

void describe("process_payment (simulated provider, idempotent per orderId)", () => {
  const hooks = new Cleanup();
  let m: Marketplace;
  after(() => hooks.run());
  before(async () => {
    m = await startMarketplace(hooks, { functions: [verifyToken, processPayment] });
  });

  void it("charges pm_card_visa once: a repeat returns the same paymentId and emits payment.succeeded once", async () => {
    const orderId = randomUUID();
    const body = { orderId, amountCents: 2500, currency: "EUR", method: "pm_card_visa" };
    const [first, second] = await Promise.all([m.call("process_payment", body), m.call("process_payment", body)]);
    const third = await m.call("process_payment", body);
    assert.equal(first.code, undefined, first.errorHeader);
    const paid = first.body as { paymentId: string; status: string; orderId: string };
    assert.equal(paid.status, "succeeded");
    assert.equal(paid.orderId, orderId);
    assert.deepEqual(second.body, first.body);
    assert.deepEqual(third.body, first.body);
    const events = await readEvents(m.nc, "events.payment.succeeded", (e) => e.aggregateId === orderId);
    assert.equal(events.length, 1);
    assert.equal((events[0]?.eventData as { amountCents?: number }).amountCents, 2500);
  });

  void it("declines pm_card_chargeDeclined with 402 PAYMENT_DECLINED and emits payment.failed", async () => {
    const orderId = randomUUID();
    const reply = await m.call("process_payment", { orderId, amountCents: 100, currency: "EUR", method: "pm_card_chargeDeclined" });
    assert.equal(reply.code, 402);
    assert.equal((reply.body as { error: { type: string } }).error.type, "PAYMENT_DECLINED");
    assert.equal(reply.msg.headers?.get("Nats-Service-Error-Code"), "402");
    const again = await m.call("process_payment", { orderId, amountCents: 100, currency: "EUR", method: "pm_card_chargeDeclined" });
    assert.equal(again.code, 402);
    assert.equal((await readEvents(m.nc, "events.payment.failed", (e) => e.aggregateId === orderId)).length, 1);
  });

  void it("declines an unknown payment method with 402 instead of charging it", async () => {
    const reply = await m.call("process_payment", { orderId: randomUUID(), amountCents: 100, currency: "EUR", method: "pm_card_madeup" });
    assert.equal(reply.code, 402);
  });

  void it("refuses a second payment for the same order with a different amount with 422", async () => {
    const orderId = randomUUID();
    assert.equal((await m.call("process_payment", { orderId, amountCents: 100, currency: "EUR", method: "pm_card_visa" })).code, undefined);
    const other = await m.call("process_payment", { orderId, amountCents: 999, currency: "EUR", method: "pm_card_visa" });
    assert.equal(other.code, 422);
  });

  void it("keeps the idempotency key a charge was made with: the same key replays it, another key gets 422, a bad key 400", async () => {
    const orderId = randomUUID();
    const body = { orderId, amountCents: 300, currency: "EUR", method: "pm_card_visa" };
    const first = await m.call("process_payment", { ...body, idempotencyKey: "step-key-a" });
    assert.equal(first.code, undefined, first.errorHeader);
    assert.deepEqual((await m.call("process_payment", { ...body, idempotencyKey: "step-key-a" })).body, first.body);
    const other = await m.call("process_payment", { ...body, idempotencyKey: "step-key-b" });
    assert.equal(other.code, 422, "another key is another charge, refused");
    assert.doesNotMatch(other.errorHeader ?? "", /step-key/, "the stored key is not echoed");
    assert.equal((await m.call("process_payment", { ...body, idempotencyKey: "a.b>*" })).code, 400);
    assert.equal((await readEvents(m.nc, "events.payment.succeeded", (e) => e.aggregateId === orderId)).length, 1);
  });

  void it("rejects a negative amount, a lower-case currency and a missing method with 400", async () => {
    const orderId = randomUUID();
    assert.equal((await m.call("process_payment", { orderId, amountCents: -1, currency: "EUR", method: "pm_card_visa" })).code, 400);
    assert.equal((await m.call("process_payment", { orderId, amountCents: 1, currency: "eur", method: "pm_card_visa" })).code, 400);
    assert.equal((await m.call("process_payment", { orderId, amountCents: 1, currency: "EUR" })).code, 400);
  });
});
