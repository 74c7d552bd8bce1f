import assert from "node:assert/strict";
import { test } from "node:test";
import { chargeOutcome } from "../_shared/payment-provider.ts";
import { parsePaymentRecord } from "../_shared/payment-store.ts";

void test("the simulated provider charges pm_card_visa and declines pm_card_chargeDeclined", () => {
  assert.deepEqual(chargeOutcome("pm_card_visa"), { status: "succeeded" });
  assert.deepEqual(chargeOutcome("pm_card_chargeDeclined"), { status: "declined", reason: "card_declined" });
  assert.deepEqual(chargeOutcome("pm_card_chargeDeclinedInsufficientFunds"), { status: "declined", reason: "card_declined" });
});

void test("the simulated provider declines a method it does not know instead of charging it", () => {
  assert.deepEqual(chargeOutcome("pm_card_unknown"), { status: "declined", reason: "unknown_payment_method" });
});

void test("a stored value that is not a payment record is not read as one", () => {
  assert.equal(parsePaymentRecord({ orderId: "o", amountCents: 1, status: "succeeded" }), undefined);
  assert.equal(parsePaymentRecord({ paymentId: "p", orderId: "o", amountCents: 1, status: "maybe" }), undefined);
  assert.equal(parsePaymentRecord({ paymentId: "p", orderId: "o", amountCents: 1, status: "refunded" })?.status, "refunded");
});
