/**
 * Ids are data: schema-valid ids that are not valid KV keys, or that name Object.prototype
 * members, never give 500, never share a record, and never let one customer read another's order.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Cleanup, eventually } from "../helpers/nats.ts";
import { mintToken } from "../helpers/tokens.ts";
import { type Marketplace, readEvents, startMarketplace } from "../fixtures/marketplace.ts";
import { kvKey } from "../../runtime/index.ts";

// Each passes the orderId pattern ^[A-Za-z0-9._:-]{1,128}$; as raw KV keys most are invalid or alias a prototype member.
const HOSTILE_IDS = ["a:b", ".x", "x.", "a..b", "__proto__", "toString", "constructor", "valueOf", "hasOwnProperty", "a.b", "A.B"];

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const errorOf = (body: unknown) => (body as { error: { type: string; message: string } }).error;

void describe("hostile but schema-valid ids against a served marketplace", () => {
  const hooks = new Cleanup();
  let m: Marketplace;
  after(() => hooks.run());
  before(async () => {
    m = await startMarketplace(hooks);
    await m.seed([{ sku: "aceite-ids-1l", priceCents: 1250, onHand: 50 }]);
  });

  void it("get_order answers 404 (never 500) for every hostile id, for a customer and for support", async () => {
    for (const orderId of HOSTILE_IDS) {
      for (const token of [m.tokens.customer, m.tokens.support]) {
        const reply = await m.call("get_order", { orderId }, bearer(token));
        assert.equal(reply.code, 404, `${orderId}: ${reply.errorHeader}`);
        assert.equal(errorOf(reply.body).type, "NOT_FOUND");
      }
    }
  });

  void it("process_payment charges each hostile id once under its own encoded key, and a repeat replays it", async () => {
    const kv = await m.host.state.kv("payments");
    const paymentIds = new Set<string>();
    for (const orderId of HOSTILE_IDS) {
      const body = { orderId, amountCents: 700, currency: "EUR", method: "pm_card_visa" };
      const first = await m.call("process_payment", body);
      assert.equal(first.code, undefined, `${orderId}: ${first.errorHeader}`);
      const paid = first.body as { paymentId: string; orderId: string };
      assert.equal(paid.orderId, orderId);
      paymentIds.add(paid.paymentId);
      assert.deepEqual((await m.call("process_payment", body)).body, first.body, `${orderId} replays`);
      const stored = (await kv.get(kvKey(orderId)))?.json<{ orderId: string }>();
      assert.equal(stored?.orderId, orderId, `${orderId} is stored under kvKey(${orderId})`);
    }
    assert.equal(paymentIds.size, HOSTILE_IDS.length, "no two ids share a payment record");
    // A declined card on a hostile id is a 402, not a 500.
    const declined = await m.call("process_payment", {
      orderId: "b:c..d",
      amountCents: 1,
      currency: "EUR",
      method: "pm_card_chargeDeclined",
    });
    assert.equal(declined.code, 402, declined.errorHeader);
  });

  void it("create_order with hostile Idempotency-Keys confirms each order once, and replays it", async () => {
    for (const key of ["__proto__", "a..b", ".x", "toString", "k:1"]) {
      const body = { items: [{ sku: "aceite-ids-1l", quantity: 1 }], paymentMethod: "pm_card_visa" };
      const headers = { ...bearer(m.tokens.customer), "Idempotency-Key": key };
      const first = await m.call("create_order", body, headers);
      assert.equal(first.code, undefined, `${key}: ${first.errorHeader}`);
      const order = first.body as { orderId: string; status: string };
      assert.equal(order.status, "confirmed");
      assert.deepEqual((await m.call("create_order", body, headers)).body, first.body, `${key} replays`);
      const read = await m.call("get_order", { orderId: order.orderId }, bearer(m.tokens.customer));
      assert.equal(read.code, undefined, read.errorHeader);
    }
  });
});

void describe("get_order's owner check", () => {
  const hooks = new Cleanup();
  let m: Marketplace;
  let orderId: string;
  after(() => hooks.run());
  before(async () => {
    m = await startMarketplace(hooks);
    await m.seed([{ sku: "queso-owner-250g", priceCents: 800, onHand: 20 }]);
    const reply = await m.call(
      "create_order",
      { items: [{ sku: "queso-owner-250g", quantity: 2 }], paymentMethod: "pm_card_visa" },
      bearer(m.tokens.customer),
    );
    assert.equal(reply.code, undefined, reply.errorHeader);
    orderId = (reply.body as { orderId: string }).orderId;
  });

  void it("lets the customer (customer-1) and support (orders:admin) read the order", async () => {
    for (const token of [m.tokens.customer, m.tokens.support]) {
      const reply = await m.call("get_order", { orderId }, bearer(token));
      assert.equal(reply.code, undefined, reply.errorHeader);
      assert.equal((reply.body as { customerId: string }).customerId, "customer-1");
    }
  });

  void it("refuses with 403 every token that only resembles the owner or the admin scope", async () => {
    const lookalikes = await Promise.all([
      mintToken({ sub: "customer-2", scope: "orders:write" }),
      mintToken({ sub: "Customer-1", scope: "orders:write" }), // case
      mintToken({ sub: "CUSTOMER-1" }),
      mintToken({ sub: "customer-1 " }), // trailing space
      mintToken({ sub: " customer-1" }),
      mintToken({ sub: "customer-1\u0000" }),
      mintToken({ sub: "customer-2", scope: "Orders:Admin" }), // scope case
      mintToken({ sub: "customer-2", scope: "orders:admin:x" }),
      mintToken({ sub: "customer-2", scope: "xorders:admin" }),
      mintToken({ sub: "customer-2", scope: "orders:read orders:*" }),
      mintToken({ sub: "customer-2", claims: { scp: ["orders:admin"], roles: ["orders:admin"] } }),
      mintToken({ sub: "customer-2", claims: { scope: ["orders:admin"] } }), // an array where a string is expected
      mintToken({ sub: "customer-2", claims: { customerId: "customer-1" } }),
    ]);
    for (const [i, token] of lookalikes.entries()) {
      const reply = await m.call("get_order", { orderId }, bearer(token));
      assert.equal(reply.code, 403, `lookalike token ${i}: ${reply.errorHeader}`);
      assert.doesNotMatch(JSON.stringify(reply.body), /customer-1|queso|800/, "a 403 tells nothing about the order");
    }
  });

  void it("never replays another customer's order through create_order's Idempotency-Key", async () => {
    const body = { items: [{ sku: "queso-owner-250g", quantity: 1 }], paymentMethod: "pm_card_visa" };
    const mine = await m.call("create_order", body, { ...bearer(m.tokens.customer), "Idempotency-Key": "shared-key" });
    const theirs = await m.call("create_order", body, { ...bearer(m.tokens.other), "Idempotency-Key": "shared-key" });
    assert.equal(mine.code, undefined, mine.errorHeader);
    assert.equal(theirs.code, undefined, theirs.errorHeader);
    const [a, b] = [mine.body, theirs.body] as { orderId: string; customerId: string }[];
    assert.notEqual(a?.orderId, b?.orderId);
    assert.equal(b?.customerId, "customer-2");
    assert.equal((await m.call("get_order", { orderId: a?.orderId }, bearer(m.tokens.other))).code, 403);
  });

  void it("refuses tokens without a usable subject with 401", async () => {
    for (const token of [await mintToken({ sub: "" }), await mintToken({ sub: null, scope: "orders:admin" })]) {
      assert.equal((await m.call("get_order", { orderId }, bearer(token))).code, 401);
    }
  });

  void it("never finds the order under an id that differs in case or by an encoding alias", async () => {
    const aliases: [string, number][] = [
      [orderId.toUpperCase(), 404],
      [`${orderId}.`, 404],
      [`${orderId}:x`, 404],
      [orderId.replace(/-/g, "."), 404],
      [orderId.replace(/-/g, "_"), 404],
      [kvKey(`${orderId}:`), 400], // an encoded key is not an id: "=" fails the schema
    ];
    for (const [alias, code] of aliases) {
      const reply = await m.call("get_order", { orderId: alias }, bearer(m.tokens.support));
      assert.equal(reply.code, code, `${alias}: ${reply.errorHeader}`);
    }
  });

  void it("create_order without scope orders:write is refused with 403 and stores nothing", async () => {
    const readOnly = await mintToken({ sub: "customer-7", scope: "orders:read" });
    const before = (await jetstreamManager(m.nc).then((j) => j.streams.info("KV_orders"))).state.messages;
    const reply = await m.call(
      "create_order",
      { items: [{ sku: "queso-owner-250g", quantity: 1 }], paymentMethod: "pm_card_visa" },
      { ...bearer(readOnly), "Idempotency-Key": "no-scope" },
    );
    assert.equal(reply.code, 403);
    assert.match(reply.errorHeader ?? "", /orders:write/);
    const after = (await jetstreamManager(m.nc).then((j) => j.streams.info("KV_orders"))).state.messages;
    assert.equal(after, before, "no order was stored");
    assert.deepEqual(await m.stock("queso-owner-250g"), { onHand: 16, reserved: 0, sold: 4 });
  });
});

void describe("Nfn-Correlation-Id", () => {
  const hooks = new Cleanup();
  let m: Marketplace;
  after(() => hooks.run());
  before(async () => {
    m = await startMarketplace(hooks);
  });

  const pay = (orderId: string, correlationId: string) =>
    m.call(
      "process_payment",
      { orderId, amountCents: 5, currency: "EUR", method: "pm_card_visa" },
      { "Nfn-Correlation-Id": correlationId },
    );

  void it("keeps a safe id and replaces a long or unsafe one with a fresh UUID in the events", async () => {
    const cases: [string, boolean][] = [
      ["req-42:checkout.v1_A", true],
      ["x".repeat(64), true],
      ["x".repeat(65), false],
      ["y".repeat(8000), false],
      ["a b", false],
      ["<script>", false],
      ["ü", false],
    ];
    for (const [correlationId, kept] of cases) {
      const orderId = randomUUID();
      assert.equal((await pay(orderId, correlationId)).code, undefined);
      const [event] = await eventually(async () => {
        const found = await readEvents(m.nc, "events.payment.succeeded", (e) => e.aggregateId === orderId);
        return found.length > 0 && found;
      });
      const seen = event?.metadata.correlationId ?? "";
      if (kept) assert.equal(seen, correlationId);
      else assert.match(seen, /^[0-9a-f-]{36}$/, `${correlationId.slice(0, 20)} was replaced`);
    }
  });

  void it("replaces an unsafe correlation id carried by an event that triggers a function", async () => {
    // notify_customer runs on order.confirmed; whoever can publish on events.> chose this envelope.
    const orderId = `ev-${randomUUID()}`;
    const envelope = {
      eventId: randomUUID(),
      eventType: "order.confirmed",
      aggregateId: orderId,
      eventVersion: 1,
      occurredOn: new Date().toISOString(),
      eventData: { orderId, customerId: "customer-1", totalCents: 100, currency: "EUR" },
      metadata: { correlationId: "z".repeat(8000), causationId: "x", source: "outside" },
    };
    await jetstream(m.nc).publish("events.order.confirmed", JSON.stringify(envelope));
    const [sent] = await eventually(async () => {
      const found = await readEvents(m.nc, "events.notification.sent", (e) => e.aggregateId === orderId);
      return found.length > 0 && found;
    }, 10_000);
    assert.match(sent?.metadata.correlationId ?? "", /^[0-9a-f-]{36}$/);
  });
});
