import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { OrderRecord } from "../../functions/_shared/order-record.ts";
import { Cleanup, eventually } from "../helpers/nats.ts";
import { type Marketplace, readEvents, startMarketplace } from "../fixtures/marketplace.ts";

const SKU = "queso-curado-1kg";

void describe("create_order recovery timer (orders left pending by a crash)", () => {
  const hooks = new Cleanup();
  let m: Marketplace;
  after(() => hooks.run());
  before(async () => {
    m = await startMarketplace(hooks, { env: { NFN_ORDER_RECOVERY_EVERY_MS: "150", NFN_ORDER_RECOVERY_GRACE_MS: "300" } });
    await m.seed([{ sku: SKU, priceCents: 2200, onHand: 10 }]);
  });

  // An order as a process that died at `step` left it: pending, untouched for 10 s, listed as open.
  async function strand(step: OrderRecord["step"], orderId = randomUUID()): Promise<string> {
    const stale = new Date(Date.now() - 10_000).toISOString();
    const order: OrderRecord = {
      orderId,
      customerId: "customer-1",
      status: "pending",
      step,
      items: [{ sku: SKU, quantity: 2, priceCents: 2200 }],
      totalCents: 4400,
      currency: "EUR",
      paymentMethod: "pm_card_visa",
      requestFingerprint: "stranded",
      createdAt: stale,
      updatedAt: stale,
    };
    await (await m.host.state.kv("orders_open")).put(orderId, String(Date.now() - 10_000));
    await (await m.host.state.kv("orders")).put(orderId, JSON.stringify(order));
    return orderId;
  }

  const settled = (orderId: string) =>
    eventually(
      async () => {
        const o = (await (await m.host.state.kv("orders")).get(orderId))?.json<OrderRecord>();
        return o && o.status !== "pending" && o;
      },
      15_000,
      `order ${orderId} to settle`,
    );

  void it("confirms an order stranded before its reservation, charging it once", async () => {
    const before = await m.stock(SKU);
    const orderId = await strand("created");
    const order = await settled(orderId);
    assert.equal(order.status, "confirmed");
    assert.deepEqual(await m.stock(SKU), { onHand: before.onHand - 2, reserved: 0, sold: before.sold + 2 });
    assert.equal((await readEvents(m.nc, "events.payment.succeeded", (e) => e.aggregateId === orderId)).length, 1);
    assert.equal((await readEvents(m.nc, "events.order.confirmed", (e) => e.aggregateId === orderId)).length, 1);
  });

  void it("cancels an order whose reservation was released before payment as reservation_expired, without a charge", async () => {
    const orderId = randomUUID();
    const reserved = await m.call("reserve_stock", { orderId, items: [{ sku: SKU, quantity: 2 }] });
    assert.equal(reserved.code, undefined, reserved.errorHeader);
    assert.equal((await m.call("release_stock", { orderId })).code, undefined);
    const before = await m.stock(SKU);
    await strand("reserved", orderId);
    const final = await settled(orderId);
    assert.equal(final.status, "cancelled");
    assert.equal(final.cancelReason, "reservation_expired");
    assert.equal(await (await m.host.state.kv("payments")).get(orderId), null, "nothing was charged");
    assert.deepEqual(await m.stock(SKU), before);
  });

  void it("refunds and cancels a paid order whose reservation was released before the commit", async () => {
    const orderId = randomUUID();
    assert.equal((await m.call("reserve_stock", { orderId, items: [{ sku: SKU, quantity: 2 }] })).code, undefined);
    const paid = await m.call("process_payment", { orderId, amountCents: 4400, currency: "EUR", method: "pm_card_visa" });
    assert.equal(paid.code, undefined, paid.errorHeader);
    assert.equal((await m.call("release_stock", { orderId })).code, undefined);
    const before = await m.stock(SKU);
    await strand("paid", orderId);
    const final = await settled(orderId);
    assert.equal(final.status, "cancelled");
    assert.equal(final.cancelReason, "reservation_expired");
    const payment = (await (await m.host.state.kv("payments")).get(orderId))?.json<{ status: string }>();
    assert.equal(payment?.status, "refunded");
    assert.equal((await readEvents(m.nc, "events.payment.refunded", (e) => e.aggregateId === orderId)).length, 1);
    assert.deepEqual(await m.stock(SKU), before);
  });

  void it("drops an open-index entry whose order was never stored", async () => {
    const orderId = randomUUID();
    const open = await m.host.state.kv("orders_open");
    await open.put(orderId, String(Date.now() - 10_000));
    await eventually(async () => (await open.get(orderId))?.operation !== "PUT", 15_000, "index entry removed");
  });
});
