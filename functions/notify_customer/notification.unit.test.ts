import assert from "node:assert/strict";
import { test } from "node:test";
import { notificationKey, notificationText } from "../_shared/notification-store.ts";

void test("a confirmation tells the customer the total in euros", () => {
  assert.equal(
    notificationText("order.confirmed", { orderId: "o-1", totalCents: 2575, currency: "EUR" }),
    "Your order o-1 is confirmed (25.75 EUR). Thank you for shopping local in Jaén!",
  );
});

void test("a cancellation tells the customer why, in words", () => {
  assert.match(notificationText("order.cancelled", { orderId: "o-2", cancelReason: "payment_declined" }), /cancelled: payment declined\./);
});

void test("one notification key per order and event type", () => {
  assert.equal(notificationKey("o-1", "order.confirmed"), "o-1.order.confirmed");
  assert.notEqual(notificationKey("o-1", "order.confirmed"), notificationKey("o-1", "order.cancelled"));
});
