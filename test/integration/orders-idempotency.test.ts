import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Cleanup } from "../helpers/nats.ts";
import { type Marketplace, readEvents, startMarketplace } from "../fixtures/marketplace.ts";

const bearer = (token: string, key?: string) => ({ Authorization: `Bearer ${token}`, ...(key ? { "Idempotency-Key": key } : {}) });

void describe("create_order with Idempotency-Key", () => {
  const hooks = new Cleanup();
  let m: Marketplace;
  after(() => hooks.run());
  before(async () => {
    m = await startMarketplace(hooks);
    await m.seed([{ sku: "aceite-hojiblanca-1l", priceCents: 1890, onHand: 100 }]);
  });

  void it("replays the identical reply for the same key and payload and runs nothing again", async () => {
    const key = randomUUID();
    const body = { items: [{ sku: "aceite-hojiblanca-1l", quantity: 2 }], paymentMethod: "pm_card_visa" };
    const first = await m.call("create_order", body, bearer(m.tokens.customer, key));
    assert.equal(first.code, undefined, first.errorHeader);
    const stockAfterFirst = await m.stock("aceite-hojiblanca-1l");
    // Same payload with its keys in another order is the same request.
    const second = await m.call("create_order", { paymentMethod: "pm_card_visa", items: body.items }, bearer(m.tokens.customer, key));
    assert.equal(second.code, undefined);
    assert.equal(second.msg.string(), first.msg.string());
    assert.deepEqual(await m.stock("aceite-hojiblanca-1l"), stockAfterFirst);
    const orderId = (first.body as { orderId: string }).orderId;
    assert.equal((await readEvents(m.nc, "events.order.created", (e) => e.aggregateId === orderId)).length, 1);
    assert.equal((await readEvents(m.nc, "events.payment.succeeded", (e) => e.aggregateId === orderId)).length, 1);
  });

  void it("answers 422 when the key is reused with a different payload", async () => {
    const key = randomUUID();
    await m.call(
      "create_order",
      { items: [{ sku: "aceite-hojiblanca-1l", quantity: 1 }], paymentMethod: "pm_card_visa" },
      bearer(m.tokens.customer, key),
    );
    const reply = await m.call(
      "create_order",
      { items: [{ sku: "aceite-hojiblanca-1l", quantity: 3 }], paymentMethod: "pm_card_visa" },
      bearer(m.tokens.customer, key),
    );
    assert.equal(reply.code, 422);
    assert.equal((reply.body as { error: { type: string } }).error.type, "IDEMPOTENCY_MISMATCH");
  });

  void it("lets concurrent repeats through only once: the others get 409 or the identical reply", async () => {
    const key = randomUUID();
    const body = { items: [{ sku: "aceite-hojiblanca-1l", quantity: 1 }], paymentMethod: "pm_card_visa" };
    const before = await m.stock("aceite-hojiblanca-1l");
    const replies = await Promise.all(Array.from({ length: 8 }, () => m.call("create_order", body, bearer(m.tokens.customer, key))));
    const ok = replies.filter((r) => r.code === undefined);
    assert.ok(ok.length >= 1);
    for (const r of replies) assert.ok(r.code === undefined || r.code === 409, `unexpected ${r.code} ${r.errorHeader}`);
    for (const r of ok) assert.equal(r.msg.string(), ok[0]?.msg.string());
    const after = await m.stock("aceite-hojiblanca-1l");
    assert.equal(after.sold, before.sold + 1, "one order, one sale");
  });

  void it("scopes keys per customer: the same key from another customer is another order", async () => {
    const key = randomUUID();
    const body = { items: [{ sku: "aceite-hojiblanca-1l", quantity: 1 }], paymentMethod: "pm_card_visa" };
    const mine = await m.call("create_order", body, bearer(m.tokens.customer, key));
    const theirs = await m.call("create_order", body, bearer(m.tokens.other, key));
    assert.equal(theirs.code, undefined);
    assert.notEqual((theirs.body as { orderId: string }).orderId, (mine.body as { orderId: string }).orderId);
    assert.equal((theirs.body as { customerId: string }).customerId, "customer-2");
  });

  void it("creates two orders for the same payload sent twice without a key", async () => {
    const body = { items: [{ sku: "aceite-hojiblanca-1l", quantity: 1 }], paymentMethod: "pm_card_visa" };
    const a = await m.call("create_order", body, bearer(m.tokens.customer));
    const b = await m.call("create_order", body, bearer(m.tokens.customer));
    assert.notEqual((a.body as { orderId: string }).orderId, (b.body as { orderId: string }).orderId);
  });
});
