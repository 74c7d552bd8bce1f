/** put_product, check_inventory, reserve/release/commit_stock and the expiry sweeper against a real nats-server. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { NatsConnection } from "@nats-io/nats-core";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { configFromEnv } from "../../runtime/config.ts";
import { startHost, type Host } from "../../runtime/host.ts";
import { createLogger } from "../../runtime/logger.ts";
import type { DomainEvent } from "../../runtime/types.ts";
import { Cleanup, eventually, natsClient, natsServer } from "../helpers/nats.ts";
import { send, type Reply } from "../helpers/requests.ts";
import { TEST_JWT_SECRET, mintToken } from "../helpers/tokens.ts";
import verifyToken from "../../functions/verify_token/index.ts";
import putProduct from "../../functions/put_product/index.ts";
import checkInventory from "../../functions/check_inventory/index.ts";
import reserveStock from "../../functions/reserve_stock/index.ts";
import releaseStock from "../../functions/release_stock/index.ts";
import commitStock from "../../functions/commit_stock/index.ts";

// Read by the functions when they start and on every sweep.
process.env.AUTH_JWT_SECRET = TEST_JWT_SECRET;
process.env.NFN_SWEEP_INTERVAL_MS = "150";
process.env.NFN_LOW_STOCK_THRESHOLD = "5";

type Body = Record<string, unknown>;
const errorOf = (r: Reply) => (r.body as { error: { code: number; type: string; message: string; details?: Body[] } }).error;

void describe("inventory: products, reservations, commits, releases and expiry", () => {
  const hooks = new Cleanup();
  after(() => hooks.run());
  let nc: NatsConnection;
  let host: Host;
  let admin: string;
  let n = 0;
  const uniqueSku = (prefix: string) => `${prefix}-${++n}`;
  const call = (fn: string, body: unknown, headers?: Record<string, string>) => send(nc, `fn.${fn}`, body, { headers, timeout: 20_000 });
  const ok = async (fn: string, body: unknown, headers?: Record<string, string>): Promise<Body> => {
    const r = await call(fn, body, headers);
    assert.equal(r.code, undefined, `${fn} failed: ${JSON.stringify(r.body)}`);
    return r.body as Body;
  };
  const product = (sku: string, onHand: number, priceCents = 1250) =>
    ok("put_product", { sku, name: `Aceite ${sku}`, priceCents, onHand }, { Authorization: `Bearer ${admin}` });
  const stock = async (sku: string) => {
    const reply = await ok("check_inventory", { items: [{ sku, quantity: 1 }] });
    return (reply.items as Body[])[0]?.available as number;
  };
  const events = async (aggregateId: string): Promise<DomainEvent[]> => {
    const jsm = await jetstreamManager(nc);
    const total = (await jsm.streams.info("EVENTS")).state.messages;
    const consumer = await jetstream(nc).consumers.get("EVENTS");
    const out: DomainEvent[] = [];
    for await (const m of await consumer.fetch({ max_messages: total, expires: 2000 })) {
      const e = m.json<DomainEvent>();
      if (e.aggregateId === aggregateId) out.push(e);
      if (m.info.pending === 0) break;
    }
    return out;
  };

  before(async () => {
    const server = await natsServer(hooks);
    const config = configFromEnv({ NATS_URL: server.url, LOG_LEVEL: "silent" });
    host = await startHost([verifyToken, putProduct, checkInventory, reserveStock, releaseStock, commitStock], {
      config,
      log: createLogger({}, "silent"),
    });
    hooks.after(() => host.stop(1000));
    nc = await natsClient(hooks, server);
    admin = await mintToken({ sub: "admin-1", scope: "inventory:admin" });
  });

  void it("creates a product with put_product and keeps its reserved units on an upsert", async () => {
    const sku = uniqueSku("oil");
    assert.deepEqual(await product(sku, 10), {
      sku,
      name: `Aceite ${sku}`,
      priceCents: 1250,
      currency: "EUR",
      onHand: 10,
      reserved: 0,
      available: 10,
    });
    await ok("reserve_stock", { orderId: `o-${sku}`, items: [{ sku, quantity: 4 }] });
    const updated = await product(sku, 20, 1300);
    assert.equal(updated.reserved, 4);
    assert.equal(updated.available, 16);
    assert.equal(updated.priceCents, 1300);
  });

  void it("refuses to lower onHand below what is reserved with 409", async () => {
    const sku = uniqueSku("cheese");
    await product(sku, 5);
    await ok("reserve_stock", { orderId: `o-${sku}`, items: [{ sku, quantity: 3 }] });
    const r = await call("put_product", { sku, name: "x", priceCents: 1, onHand: 2 }, { Authorization: `Bearer ${admin}` });
    assert.equal(r.code, 409);
    assert.equal(await stock(sku), 2);
  });

  void it("answers put_product without a token with 401 and with a customer token with 403", async () => {
    const body = { sku: uniqueSku("x"), name: "x", priceCents: 1, onHand: 1 };
    assert.equal((await call("put_product", body)).code, 401);
    const customer = await mintToken({ sub: "customer-9", scope: "orders:write" });
    const forbidden = await call("put_product", body, { Authorization: `Bearer ${customer}` });
    assert.equal(forbidden.code, 403);
    assert.equal(errorOf(forbidden).type, "FORBIDDEN");
  });

  void it("rejects unknown fields, negative prices and bad skus with 400 and JSON Pointer paths", async () => {
    const auth = { Authorization: `Bearer ${admin}` };
    const extra = await call("put_product", { sku: "a", name: "x", priceCents: 1, onHand: 1, colour: "green" }, auth);
    assert.deepEqual([extra.code, errorOf(extra).details], [400, [{ path: "/colour", message: "is not allowed" }]]);
    const price = await call("put_product", { sku: "a", name: "x", priceCents: -1, onHand: 1 }, auth);
    assert.deepEqual([price.code, errorOf(price).details?.[0]?.path], [400, "/priceCents"]);
    const sku = await call("check_inventory", { items: [{ sku: "bad sku!", quantity: 1 }] });
    assert.deepEqual([sku.code, errorOf(sku).details?.[0]?.path], [400, "/items/0/sku"]);
  });

  void it("rejects an order line with quantity 0 or over 10000, and an empty or 101-line list, with 400", async () => {
    const line = { sku: "a", quantity: 1 };
    for (const [items, path] of [
      [[{ sku: "a", quantity: 0 }], "/items/0/quantity"],
      [[{ sku: "a", quantity: 10_001 }], "/items/0/quantity"],
      [[], "/items"],
      [Array.from({ length: 101 }, () => line), "/items"],
    ] as const) {
      const r = await call("reserve_stock", { orderId: "o-400", items });
      assert.equal(r.code, 400);
      assert.equal(errorOf(r).details?.[0]?.path, path);
    }
  });

  void it("answers a reserve_stock body over 64 KiB with 413", async () => {
    const r = await call("reserve_stock", { orderId: "o-413", items: [{ sku: "x".repeat(70_000), quantity: 1 }] });
    assert.equal(r.code, 413);
  });

  void it("check_inventory reports each line with its price, and an unknown sku as ok false with 0 available", async () => {
    const sku = uniqueSku("ham");
    await product(sku, 3, 4500);
    const reply = await ok("check_inventory", {
      items: [
        { sku, quantity: 2 },
        { sku: "no-such-sku", quantity: 1 },
      ],
    });
    assert.equal(reply.available, false);
    assert.deepEqual(reply.items, [
      { sku, requested: 2, available: 3, ok: true, priceCents: 4500, currency: "EUR", name: `Aceite ${sku}` },
      { sku: "no-such-sku", requested: 1, available: 0, ok: false },
    ]);
  });

  void it("reserves all lines, replies with prices and expiresAt, and emits stock.reserved with the contract envelope", async () => {
    const [a, b] = [uniqueSku("oil"), uniqueSku("honey")];
    await product(a, 10, 900);
    await product(b, 10, 650);
    const orderId = `o-${a}`;
    const before = Date.now();
    const reply = await ok(
      "reserve_stock",
      {
        orderId,
        items: [
          { sku: a, quantity: 2 },
          { sku: b, quantity: 1 },
        ],
        ttlSeconds: 60,
      },
      { "Nfn-Correlation-Id": `corr-${orderId}` },
    );
    assert.equal(reply.status, "reserved");
    assert.deepEqual(reply.items, [
      { sku: a, quantity: 2, priceCents: 900, currency: "EUR" },
      { sku: b, quantity: 1, priceCents: 650, currency: "EUR" },
    ]);
    const expires = Date.parse(reply.expiresAt as string);
    assert.ok(expires >= before + 59_000 && expires <= Date.now() + 61_000, `expiresAt ${String(reply.expiresAt)}`);
    assert.equal(await stock(a), 8);
    const [event] = await eventually(async () => (await events(orderId)).length > 0 && events(orderId), 5000, "stock.reserved");
    assert.ok(event);
    assert.equal(event.eventType, "stock.reserved");
    assert.equal(event.aggregateId, orderId);
    assert.equal(event.eventVersion, 1);
    assert.match(event.eventId, /^[0-9a-f-]{36}$/);
    assert.ok(!Number.isNaN(Date.parse(event.occurredOn)));
    assert.equal(event.metadata.source, "reserve_stock");
    assert.equal(event.metadata.correlationId, `corr-${orderId}`);
    assert.equal(typeof event.metadata.causationId, "string");
    assert.deepEqual(event.eventData, {
      orderId,
      items: [
        { sku: a, quantity: 2 },
        { sku: b, quantity: 1 },
      ],
      expiresAt: reply.expiresAt,
    });
  });

  void it("is all or nothing: a short line reserves nothing and 409 lists the short lines", async () => {
    const [a, b] = [uniqueSku("oil"), uniqueSku("wine")];
    await product(a, 10);
    await product(b, 1);
    const r = await call("reserve_stock", {
      orderId: `o-${a}`,
      items: [
        { sku: a, quantity: 5 },
        { sku: b, quantity: 3 },
      ],
    });
    assert.equal(r.code, 409);
    assert.equal(errorOf(r).type, "CONFLICT");
    assert.deepEqual(errorOf(r).details, [{ sku: b, requested: 3, available: 1 }]);
    assert.equal(await stock(a), 10);
    assert.equal(await stock(b), 1);
  });

  void it("stores skus and orderIds with dots and colons, which KV keys cannot hold as they are", async () => {
    const sku = `.aove.${++n}.`;
    await product(sku, 5);
    const orderId = `web:2026.${n}`;
    assert.equal((await ok("reserve_stock", { orderId, items: [{ sku, quantity: 2 }] })).status, "reserved");
    assert.equal(await stock(sku), 3);
    assert.deepEqual(await ok("commit_stock", { orderId }), { orderId, status: "committed" });
  });

  void it("answers an unknown sku with 404 and reserves nothing", async () => {
    const sku = uniqueSku("oil");
    await product(sku, 10);
    const r = await call("reserve_stock", {
      orderId: `o-${sku}`,
      items: [
        { sku, quantity: 1 },
        { sku: "ghost-sku", quantity: 1 },
      ],
    });
    assert.equal(r.code, 404);
    assert.equal(await stock(sku), 10);
  });

  void it("returns the same reservation for the same orderId and never reserves twice", async () => {
    const sku = uniqueSku("olives");
    await product(sku, 10);
    const first = await ok("reserve_stock", { orderId: `o-${sku}`, items: [{ sku, quantity: 3 }] });
    const again = await ok("reserve_stock", { orderId: `o-${sku}`, items: [{ sku, quantity: 3 }] });
    assert.deepEqual(again, first);
    assert.equal(await stock(sku), 7);
  });

  void it("reserves once when the same orderId is sent 20 times at once", async () => {
    const sku = uniqueSku("saffron");
    await product(sku, 50);
    const replies = await Promise.all(
      Array.from({ length: 20 }, () => call("reserve_stock", { orderId: `o-${sku}`, items: [{ sku, quantity: 4 }] })),
    );
    assert.deepEqual(
      replies.map((r) => r.code),
      replies.map(() => undefined),
    );
    assert.equal(new Set(replies.map((r) => JSON.stringify(r.body))).size, 1);
    assert.equal(await stock(sku), 46);
  });

  void it("emits inventory.low_stock when a reservation takes available to the threshold or below", async () => {
    const sku = uniqueSku("truffle");
    await product(sku, 8);
    await ok("reserve_stock", { orderId: `o-${sku}`, items: [{ sku, quantity: 4 }] });
    const [low] = await eventually(async () => (await events(sku)).length > 0 && events(sku), 5000, "inventory.low_stock");
    assert.equal(low?.eventType, "inventory.low_stock");
    assert.deepEqual(low?.eventData, { sku, available: 4, onHand: 8, reserved: 4, threshold: 5 });
  });

  void it("release gives the stock back, is idempotent and emits stock.released once", async () => {
    const sku = uniqueSku("oil");
    await product(sku, 10);
    const orderId = `o-${sku}`;
    await ok("reserve_stock", { orderId, items: [{ sku, quantity: 6 }] });
    assert.deepEqual(await ok("release_stock", { orderId }), { orderId, status: "released", reason: "requested" });
    assert.deepEqual(await ok("release_stock", { orderId }), { orderId, status: "released", reason: "requested" });
    assert.equal(await stock(sku), 10);
    const released = await eventually(
      async () => (await events(orderId)).filter((e) => e.eventType === "stock.released"),
      5000,
      "stock.released",
    );
    assert.equal(released.length, 1);
    assert.deepEqual(released[0]?.eventData, { orderId, items: [{ sku, quantity: 6 }], reason: "requested" });
    const again = await call("reserve_stock", { orderId, items: [{ sku, quantity: 1 }] });
    assert.equal(again.code, 409);
  });

  void it("a release before the reserve makes a later reserve for that order fail with 409", async () => {
    const sku = uniqueSku("oil");
    await product(sku, 10);
    const orderId = `o-${sku}`;
    assert.deepEqual(await ok("release_stock", { orderId }), { orderId, status: "released", reason: "released_before_reserve" });
    const r = await call("reserve_stock", { orderId, items: [{ sku, quantity: 1 }] });
    assert.equal(r.code, 409);
    assert.match(errorOf(r).message, /released before it was reserved/);
    assert.equal(await stock(sku), 10);
  });

  void it("commit turns the reservation into a sale, is idempotent, and emits stock.committed", async () => {
    const sku = uniqueSku("cheese");
    await product(sku, 10);
    const orderId = `o-${sku}`;
    await ok("reserve_stock", { orderId, items: [{ sku, quantity: 3 }] });
    assert.deepEqual(await ok("commit_stock", { orderId }), { orderId, status: "committed" });
    assert.deepEqual(await ok("commit_stock", { orderId }), { orderId, status: "committed" });
    const after = await product(sku, 7);
    assert.deepEqual([after.onHand, after.reserved, after.available], [7, 0, 7]);
    const committed = await eventually(
      async () => (await events(orderId)).filter((e) => e.eventType === "stock.committed"),
      5000,
      "stock.committed",
    );
    assert.equal(committed.length, 1);
    assert.equal((await call("release_stock", { orderId })).code, 409);
  });

  void it("answers commit_stock for an order without a reservation with 404, and after a release with 409", async () => {
    const missing = await call("commit_stock", { orderId: "o-never-reserved" });
    assert.deepEqual([missing.code, errorOf(missing).type], [404, "NOT_FOUND"]);
    const sku = uniqueSku("oil");
    await product(sku, 10);
    await ok("reserve_stock", { orderId: `o-${sku}`, items: [{ sku, quantity: 1 }] });
    await ok("release_stock", { orderId: `o-${sku}` });
    assert.equal((await call("commit_stock", { orderId: `o-${sku}` })).code, 409);
  });

  void it("releases an expired reservation and emits stock.released with reason expired", async () => {
    const sku = uniqueSku("melon");
    await product(sku, 10);
    const orderId = `o-${sku}`;
    await ok("reserve_stock", { orderId, items: [{ sku, quantity: 7 }], ttlSeconds: 1 });
    assert.equal(await stock(sku), 3);
    await eventually(async () => (await stock(sku)) === 10, 10_000, "the sweeper to release the expired reservation");
    const released = await eventually(
      async () => (await events(orderId)).find((e) => e.eventType === "stock.released"),
      5000,
      "stock.released",
    );
    assert.equal((released.eventData as Body).reason, "expired");
    assert.equal((await call("commit_stock", { orderId })).code, 409);
  });
});
