import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Cleanup, eventually } from "../helpers/nats.ts";
import { mintToken } from "../helpers/tokens.ts";
import { type Marketplace, readStoredEvents, startMarketplace } from "../fixtures/marketplace.ts";

interface Order {
  orderId: string;
  customerId: string;
  status: string;
  cancelReason?: string;
  items: { sku: string; quantity: number; priceCents: number }[];
  totalCents: number;
  currency: string;
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

void describe("create_order and get_order", () => {
  const hooks = new Cleanup();
  let m: Marketplace;
  after(() => hooks.run());

  before(async () => {
    m = await startMarketplace(hooks);
    await m.seed([
      { sku: "aceite-picual-500ml", priceCents: 1250, onHand: 50 },
      { sku: "queso-cabra-250g", priceCents: 890, onHand: 5 },
      { sku: "miel-romero-1kg", priceCents: 1575, onHand: 20 },
    ]);
  });

  void it("confirms an order paid with pm_card_visa, priced from the catalog, and sells the stock", async () => {
    const before = await m.stock("aceite-picual-500ml");
    const reply = await m.call(
      "create_order",
      {
        items: [
          { sku: "aceite-picual-500ml", quantity: 2 },
          { sku: "miel-romero-1kg", quantity: 1 },
        ],
        paymentMethod: "pm_card_visa",
      },
      bearer(m.tokens.customer),
    );
    assert.equal(reply.code, undefined, reply.errorHeader);
    const order = reply.body as Order;
    assert.equal(order.status, "confirmed");
    assert.equal(order.customerId, "customer-1");
    assert.equal(order.totalCents, 2 * 1250 + 1575);
    assert.equal(order.currency, "EUR");
    assert.equal(order.cancelReason, undefined);
    const afterStock = await m.stock("aceite-picual-500ml");
    assert.deepEqual(afterStock, { onHand: before.onHand - 2, reserved: 0, sold: before.sold + 2 });

    const read = await m.call("get_order", { orderId: order.orderId }, bearer(m.tokens.customer));
    assert.deepEqual(read.body, order);
  });

  void it("cancels an order with a declined card as payment_declined and puts the stock back", async () => {
    const before = await m.stock("miel-romero-1kg");
    const reply = await m.call(
      "create_order",
      { items: [{ sku: "miel-romero-1kg", quantity: 3 }], paymentMethod: "pm_card_chargeDeclined" },
      bearer(m.tokens.customer),
    );
    const order = reply.body as Order;
    assert.equal(reply.code, undefined, reply.errorHeader);
    assert.equal(order.status, "cancelled");
    assert.equal(order.cancelReason, "payment_declined");
    assert.deepEqual(await m.stock("miel-romero-1kg"), before);
    const failed = await readStoredEvents(m.nc, "events.payment.failed", (e) => e.aggregateId === order.orderId);
    assert.equal(failed.length, 1);
  });

  void it("cancels an order for more than is on hand as out_of_stock without charging", async () => {
    const reply = await m.call(
      "create_order",
      { items: [{ sku: "queso-cabra-250g", quantity: 6 }], paymentMethod: "pm_card_visa" },
      bearer(m.tokens.customer),
    );
    const order = reply.body as Order;
    assert.equal(order.status, "cancelled");
    assert.equal(order.cancelReason, "out_of_stock");
    assert.deepEqual(await m.stock("queso-cabra-250g"), { onHand: 5, reserved: 0, sold: 0 });
    const payments = await readStoredEvents(m.nc, "events.payment.>", (e) => e.aggregateId === order.orderId);
    assert.equal(payments.length, 0);
  });

  void it("rejects an unknown sku with 404 and stores no order", async () => {
    const reply = await m.call(
      "create_order",
      { items: [{ sku: "no-such-thing", quantity: 1 }], paymentMethod: "pm_card_visa" },
      bearer(m.tokens.customer),
    );
    assert.equal(reply.code, 404);
    assert.match(reply.errorHeader ?? "", /no-such-thing/);
  });

  void it("rejects an order line with quantity 0 with 400 and a JSON Pointer path", async () => {
    const reply = await m.call(
      "create_order",
      { items: [{ sku: "queso-cabra-250g", quantity: 0 }], paymentMethod: "pm_card_visa" },
      bearer(m.tokens.customer),
    );
    assert.equal(reply.code, 400);
    const body = reply.body as { error: { type: string; details: { path: string }[] } };
    assert.equal(body.error.type, "VALIDATION");
    assert.equal(body.error.details[0]?.path, "/items/0/quantity");
  });

  void it("rejects unknown fields and an empty items list with 400", async () => {
    const extra = await m.call(
      "create_order",
      { items: [{ sku: "queso-cabra-250g", quantity: 1 }], paymentMethod: "pm_card_visa", discount: 100 },
      bearer(m.tokens.customer),
    );
    assert.equal(extra.code, 400);
    const empty = await m.call("create_order", { items: [], paymentMethod: "pm_card_visa" }, bearer(m.tokens.customer));
    assert.equal(empty.code, 400);
  });

  void it("answers 401 without a token, with an expired token and with a token signed by another secret", async () => {
    const body = { items: [{ sku: "queso-cabra-250g", quantity: 1 }], paymentMethod: "pm_card_visa" };
    assert.equal((await m.call("create_order", body)).code, 401);
    assert.equal((await m.call("create_order", body, bearer(await mintToken({ expiresInSec: -60 })))).code, 401);
    assert.equal((await m.call("create_order", body, bearer(await mintToken({ secret: "another-secret-another-secret-0123" })))).code, 401);
    assert.equal((await m.call("get_order", { orderId: randomUUID() })).code, 401);
  });

  void it("get_order answers 404 for an unknown order, 403 for another customer's and the order for orders:admin", async () => {
    const missing = await m.call("get_order", { orderId: randomUUID() }, bearer(m.tokens.customer));
    assert.equal(missing.code, 404);
    const placed = await m.call(
      "create_order",
      { items: [{ sku: "aceite-picual-500ml", quantity: 1 }], paymentMethod: "pm_card_visa" },
      bearer(m.tokens.customer),
    );
    const { orderId } = placed.body as Order;
    const foreign = await m.call("get_order", { orderId }, bearer(m.tokens.other));
    assert.equal(foreign.code, 403);
    assert.equal((foreign.body as { error: { type: string } }).error.type, "FORBIDDEN");
    const support = await m.call("get_order", { orderId }, bearer(m.tokens.support));
    assert.equal(support.code, undefined);
    assert.equal((support.body as Order).customerId, "customer-1");
  });

  void it("emits a confirmed order's events in saga order with one correlationId, the envelope of §5 and the caller's trace", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const reply = await m.call(
      "create_order",
      { items: [{ sku: "miel-romero-1kg", quantity: 1 }], paymentMethod: "pm_card_visa" },
      { ...bearer(m.tokens.customer), traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    );
    const { orderId } = reply.body as Order;
    const wanted = ["order.created", "stock.reserved", "payment.succeeded", "stock.committed", "order.confirmed"];
    const stored = await orderEvents(m, orderId, wanted);
    assert.deepEqual(
      stored.map((s) => s.event.eventType),
      wanted,
    );
    const correlationIds = new Set(stored.map((s) => s.event.metadata.correlationId));
    assert.equal(correlationIds.size, 1);
    for (const { event, traceparent } of stored) {
      assert.deepEqual(Object.keys(event).sort(), [
        "aggregateId",
        "eventData",
        "eventId",
        "eventType",
        "eventVersion",
        "metadata",
        "occurredOn",
      ]);
      assert.match(event.eventId, /^[0-9a-f-]{36}$/);
      assert.equal(event.eventVersion, 1);
      assert.ok(!Number.isNaN(Date.parse(event.occurredOn)));
      assert.deepEqual(Object.keys(event.metadata).sort(), ["causationId", "correlationId", "source"]);
      assert.equal(traceparent?.split("-")[1], traceId);
    }
    assert.equal(stored[0]?.event.metadata.source, "create_order");
    assert.equal(stored[2]?.event.metadata.source, "process_payment");
  });

  void it("emits a declined order's events in compensation order and notifies the customer of the cancellation", async () => {
    const reply = await m.call(
      "create_order",
      { items: [{ sku: "aceite-picual-500ml", quantity: 1 }], paymentMethod: "pm_card_chargeDeclined" },
      bearer(m.tokens.customer),
    );
    const { orderId } = reply.body as Order;
    const wanted = ["order.created", "stock.reserved", "payment.failed", "stock.released", "order.cancelled"];
    const stored = await orderEvents(m, orderId, wanted);
    assert.deepEqual(
      stored.map((s) => s.event.eventType),
      wanted,
    );
    assert.equal((stored[4]?.event.eventData as { cancelReason?: string }).cancelReason, "payment_declined");
    assert.equal(new Set(stored.map((s) => s.event.metadata.correlationId)).size, 1);
    const sent = await eventually(
      async () => {
        const events = await readStoredEvents(m.nc, "events.notification.sent", (e) => e.aggregateId === orderId);
        return events.length > 0 && events;
      },
      10_000,
      "notification.sent",
    );
    assert.equal((sent[0]?.event.eventData as { about?: string }).about, "order.cancelled");
  });

  void it("notifies the customer once when an order is confirmed", async () => {
    const reply = await m.call(
      "create_order",
      { items: [{ sku: "miel-romero-1kg", quantity: 1 }], paymentMethod: "pm_card_visa" },
      bearer(m.tokens.customer),
    );
    const { orderId } = reply.body as Order;
    const sent = await eventually(
      async () => {
        const events = await readStoredEvents(m.nc, "events.notification.sent", (e) => e.aggregateId === orderId);
        return events.length > 0 && events;
      },
      10_000,
      "notification.sent",
    );
    assert.equal(sent.length, 1);
    assert.equal((sent[0]?.event.eventData as { about?: string }).about, "order.confirmed");
  });
});

/** The stored events of one order whose types are in `wanted`, in stream order, once all have arrived. */
function orderEvents(m: Marketplace, orderId: string, wanted: string[]) {
  return eventually(
    async () => {
      const all = await readStoredEvents(
        m.nc,
        "events.>",
        (e) => e.aggregateId === orderId || (e.eventData as { orderId?: unknown }).orderId === orderId,
      );
      const saga = all.filter((s) => wanted.includes(s.event.eventType));
      return saga.length >= wanted.length && saga;
    },
    5000,
    `the events of order ${orderId}`,
  );
}
