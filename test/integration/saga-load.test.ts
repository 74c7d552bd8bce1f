import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Cleanup, eventually } from "../helpers/nats.ts";
import { type Marketplace, readEvents, startMarketplace } from "../fixtures/marketplace.ts";

const ORDERS = 1000;
const IN_FLIGHT = 50;
const SKUS = Array.from({ length: 8 }, (_, i) => ({ sku: `jaen-load-${i}`, priceCents: 100 * (i + 1), onHand: 180 }));

interface Order {
  orderId: string;
  status: string;
  cancelReason?: string;
  items: { sku: string; quantity: number }[];
}

// A deterministic spread of orders: 1-3 lines of 1-3 units, every third-ish card declined (30 %).
function orderFor(i: number) {
  const lines = 1 + (i % 3);
  const items = Array.from({ length: lines }, (_, j) => ({ sku: SKUS[(i + j * 3) % SKUS.length]?.sku ?? "", quantity: 1 + ((i + j) % 3) }));
  return { items, paymentMethod: i % 10 < 3 ? "pm_card_chargeDeclined" : "pm_card_visa" };
}

void describe("1,000 concurrent create_order with 30 % declined cards", () => {
  const hooks = new Cleanup();
  let m: Marketplace;
  after(() => hooks.run());
  before(async () => {
    m = await startMarketplace(hooks);
    await m.seed(SKUS);
  });

  void it(
    "settles every order as confirmed or cancelled, conserves stock exactly and leaves no reservation",
    { timeout: 240_000 },
    async () => {
      const replies: Order[] = new Array<Order>(ORDERS);
      let next = 0;
      const worker = async () => {
        for (let i = next++; i < ORDERS; i = next++) {
          const reply = await m.call("create_order", orderFor(i), { Authorization: `Bearer ${m.tokens.customer}` }, 60_000);
          assert.equal(reply.code, undefined, `order ${i}: ${reply.code} ${reply.errorHeader}`);
          replies[i] = reply.body as Order;
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, worker));

      assert.equal(replies.filter(Boolean).length, ORDERS);
      const confirmed = replies.filter((o) => o.status === "confirmed");
      const cancelled = replies.filter((o) => o.status === "cancelled");
      assert.equal(confirmed.length + cancelled.length, ORDERS);
      const declinedCards = replies.filter((_, i) => orderFor(i).paymentMethod === "pm_card_chargeDeclined");
      assert.equal(declinedCards.length, 300);
      for (const o of declinedCards) assert.equal(o.status, "cancelled", "a declined card never confirms an order");
      assert.ok(declinedCards.some((o) => o.cancelReason === "payment_declined"));
      assert.ok(
        cancelled.every((o) => o.cancelReason === "payment_declined" || o.cancelReason === "out_of_stock"),
        "every cancellation has a reason",
      );
      assert.ok(
        cancelled.some((o) => o.cancelReason === "out_of_stock"),
        "demand exceeds stock, so some orders run out",
      );

      const soldBySku = new Map<string, number>();
      for (const o of confirmed) for (const l of o.items) soldBySku.set(l.sku, (soldBySku.get(l.sku) ?? 0) + l.quantity);
      for (const { sku, onHand } of SKUS) {
        const s = await m.stock(sku);
        assert.equal(s.reserved, 0, `${sku}: nothing left reserved`);
        assert.equal(s.onHand + s.sold, onHand, `${sku}: onHand + sold is what was stocked`);
        assert.equal(s.sold, soldBySku.get(sku) ?? 0, `${sku}: sold equals the confirmed orders' lines`);
      }
      const charges = await readEvents(m.nc, "events.payment.succeeded");
      assert.equal(charges.length, confirmed.length, "one charge per confirmed order, none for the cancelled");
      // Open orders are open create_order invocations in the durable journal.
      const open = await m.host.state.kv("durable_runs");
      await eventually(
        async () => {
          const keys = [];
          for await (const k of await open.keys("open.create_order.>")) keys.push(k);
          return keys.length === 0;
        },
        10_000,
        "no open orders",
      );
    },
  );
});
