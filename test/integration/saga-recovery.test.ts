import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { OrderRecord } from "../../functions/_shared/order-record.ts";
import { Journal } from "../../runtime/durable/journal.ts";
import type { StepRecord } from "../../runtime/durable/records.ts";
import { Cleanup, eventually } from "../helpers/nats.ts";
import { type Marketplace, readEvents, startMarketplace } from "../fixtures/marketplace.ts";

const SKU = "queso-curado-1kg";
const STEPS = ["place", "reserve", "pay"] as const;

void describe("create_order takeover (orders left pending by a crash: an open invocation whose lease expired)", () => {
  const hooks = new Cleanup();
  let m: Marketplace;
  let journal: Journal;
  after(() => hooks.run());
  before(async () => {
    m = await startMarketplace(hooks, { env: { NFN_DURABLE_POLL_MS: "150", NFN_DURABLE_LEASE_MS: "300" } });
    await m.seed([{ sku: SKU, priceCents: 2200, onHand: 10 }]);
    journal = await Journal.open(m.nc, m.host.state);
  });

  // An order as a process that died after `done` steps left it: pending, its invocation open with a lease 10 s expired.
  async function strand(done: number, orderId = randomUUID(), paymentId = "pay_stranded"): Promise<string> {
    const stale = Date.now() - 10_000;
    const order: OrderRecord = {
      orderId,
      customerId: "customer-1",
      status: "pending",
      items: [{ sku: SKU, quantity: 2, priceCents: 2200 }],
      totalCents: 4400,
      currency: "EUR",
      paymentMethod: "pm_card_visa",
      requestFingerprint: "stranded",
      createdAt: new Date(stale).toISOString(),
      updatedAt: new Date(stale).toISOString(),
    };
    const results: unknown[] = [order, { ok: true }, { ok: true, paymentId }];
    const created = await journal.createOpen({
      v: 1,
      id: orderId,
      fn: "create_order",
      status: "running",
      inputHash: "stranded",
      input: { items: [{ sku: SKU, quantity: 2 }], paymentMethod: "pm_card_visa" },
      caller: { sub: "customer-1", scopes: ["orders:write"], claims: {} },
      correlationId: randomUUID(),
      createdAt: stale,
      owner: "a-dead-instance",
      leaseUntil: stale,
      runs: 1,
    });
    assert.ok(created !== undefined);
    for (let n = 0; n < done; n++) {
      const step: StepRecord = {
        v: 1,
        n,
        name: STEPS[n] ?? "",
        kind: "step",
        status: "done",
        result: results[n],
        startedAt: stale,
        ms: 1,
        attempts: 1,
      };
      await journal.createStep("create_order", orderId, step);
    }
    if (done > 0) await (await m.host.state.kv("orders")).put(orderId, JSON.stringify(order));
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
    const orderId = await strand(1);
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
    await strand(2, orderId);
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
    await strand(3, orderId, (paid.body as { paymentId: string }).paymentId);
    const final = await settled(orderId);
    assert.equal(final.status, "cancelled");
    assert.equal(final.cancelReason, "reservation_expired");
    const payment = (await (await m.host.state.kv("payments")).get(orderId))?.json<{ status: string }>();
    assert.equal(payment?.status, "refunded");
    assert.equal((await readEvents(m.nc, "events.payment.refunded", (e) => e.aggregateId === orderId)).length, 1);
    assert.deepEqual(await m.stock(SKU), before);
  });

  void it("finishes an invocation left open before its order was stored, and removes it from the open index", async () => {
    const orderId = await strand(0);
    await eventually(async () => (await journal.getOpen("create_order", orderId)) === undefined, 15_000, "open entry removed");
    assert.equal((await settled(orderId)).status, "confirmed");
  });
});
