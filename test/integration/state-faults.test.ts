/** Stock state under faults: a reservation whose maker died is finished by the caller's retry; a store outage is 503. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { NatsConnection } from "@nats-io/nats-core";
import { Kvm } from "@nats-io/kv";
import { jetstream } from "@nats-io/jetstream";
import { configFromEnv } from "../../runtime/config.ts";
import { startHost } from "../../runtime/host.ts";
import { createLogger } from "../../runtime/logger.ts";
import { toFunctionError } from "../../runtime/errors.ts";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { freePort, startNatsServer } from "../../runtime/nats-server.ts";
import { Cleanup, eventually, natsClient, natsServer } from "../helpers/nats.ts";
import { send } from "../helpers/requests.ts";
import { TEST_JWT_SECRET, mintToken } from "../helpers/tokens.ts";
import verifyToken from "../../functions/verify_token/index.ts";
import putProduct from "../../functions/put_product/index.ts";
import reserveStock from "../../functions/reserve_stock/index.ts";
import commitStock from "../../functions/commit_stock/index.ts";
import type { Reservation, StockRecord } from "../../functions/_shared/stock-types.ts";

process.env.AUTH_JWT_SECRET = TEST_JWT_SECRET;
// The sweeper must not be the one finishing: the retry is.
process.env.NFN_SWEEP_INTERVAL_MS = "600000";

void describe("stock state under faults", () => {
  const hooks = new Cleanup();
  after(() => hooks.run());
  let nc: NatsConnection;
  let admin: string;
  const call = (fn: string, body: unknown, headers?: Record<string, string>) => send(nc, `fn.${fn}`, body, { headers, timeout: 20_000 });
  const kv = (bucket: string) => new Kvm(jetstream(nc)).open(bucket);
  const sku = async (name: string) => (await (await kv("inventory")).get(name))?.json<StockRecord>();

  before(async () => {
    const server = await natsServer(hooks);
    const config = configFromEnv({ NATS_URL: server.url, LOG_LEVEL: "silent" });
    const host = await startHost([verifyToken, putProduct, reserveStock, commitStock], { config, log: createLogger({}, "silent") });
    hooks.after(() => host.stop(1000));
    nc = await natsClient(hooks, server);
    admin = await mintToken({ sub: "admin-1", scope: "inventory:admin" });
  });

  const product = async (name: string, onHand: number) => {
    const r = await call("put_product", { sku: name, name, priceCents: 800, onHand }, { Authorization: `Bearer ${admin}` });
    assert.equal(r.code, undefined);
  };

  // What a maker leaves when its process (or its server) dies mid-way: a pending record whose lease
  // has just ended and, for `heldFirst`, the first of its two lines held on its sku.
  const leftBehind = async (orderId: string, a: string, b: string, heldFirst: boolean) => {
    const now = Date.now();
    const pending: Reservation = {
      orderId,
      status: "pending",
      items: [
        { sku: a, quantity: 2, priceCents: 0, currency: "" },
        { sku: b, quantity: 1, priceCents: 0, currency: "" },
      ],
      expiresAt: new Date(now + 900_000).toISOString(),
      createdAt: new Date(now - 7000).toISOString(),
      updatedAt: new Date(now - 7000).toISOString(),
      owner: "a-process-that-died",
      leaseUntil: now - 2000,
    };
    await (await kv("reservations")).create(orderId, JSON.stringify(pending));
    if (!heldFirst) return;
    const inventory = await kv("inventory");
    const entry = await inventory.get(a);
    const rec = entry?.json<StockRecord>();
    assert.ok(entry && rec);
    await inventory.update(
      a,
      JSON.stringify({ ...rec, reserved: rec.reserved + 2, marks: [{ o: orderId, p: "h", q: 2, at: now - 7000 }] }),
      entry.revision,
    );
  };

  for (const heldFirst of [true, false]) {
    void it(`a retry with the same orderId finishes a reservation its maker left ${heldFirst ? "half held" : "before any hold"}`, async () => {
      const [a, b] = [`fault-a-${heldFirst}`, `fault-b-${heldFirst}`];
      await product(a, 10);
      await product(b, 10);
      const orderId = `fault-order-${heldFirst}`;
      await leftBehind(orderId, a, b, heldFirst);
      const started = Date.now();
      const retry = await call("reserve_stock", {
        orderId,
        items: [
          { sku: a, quantity: 2 },
          { sku: b, quantity: 1 },
        ],
      });
      assert.equal(retry.code, undefined, JSON.stringify(retry.body));
      assert.equal((retry.body as { status: string }).status, "reserved");
      assert.ok(Date.now() - started < 10_000, "answered without waiting for the sweeper");
      // Held once each: the mark made the first line's repeat a no-op.
      assert.deepEqual([(await sku(a))?.reserved, (await sku(b))?.reserved], [2, 1]);
      // The marks are forgotten just after the reply.
      await eventually(async () => (await sku(a))?.marks.length === 0 && (await sku(b))?.marks.length === 0, 10_000, "the marks forgotten");
      assert.equal((await call("commit_stock", { orderId })).code, undefined);
      assert.deepEqual([(await sku(a))?.onHand, (await sku(a))?.reserved, (await sku(b))?.onHand], [8, 0, 9]);
    });
  }

  void it("a retry waits for a maker whose lease is still running instead of taking over", async () => {
    const a = "fault-live";
    await product(a, 10);
    const now = Date.now();
    const pending: Reservation = {
      orderId: "fault-live-1",
      status: "pending",
      items: [{ sku: a, quantity: 1, priceCents: 0, currency: "" }],
      expiresAt: new Date(now + 900_000).toISOString(),
      createdAt: new Date(now).toISOString(),
      updatedAt: new Date(now).toISOString(),
      owner: "a-slow-but-live-process",
      leaseUntil: now + 60_000,
    };
    await (await kv("reservations")).create("fault-live-1", JSON.stringify(pending));
    const r = await send(
      nc,
      "fn.reserve_stock",
      { orderId: "fault-live-1", items: [{ sku: a, quantity: 1 }] },
      {
        timeout: 20_000,
        headers: { "Nfn-Timeout-Ms": "500" },
      },
    );
    assert.equal(r.code, 503, "still being made: retry");
    assert.equal((await sku(a))?.reserved, 0);
  });

  void it("reservations in flight when nats-server is killed and restarted are finished by the callers' retries", async () => {
    const storeDir = mkdtempSync(join(tmpdir(), "nfn-fault-"));
    hooks.after(() => rmSync(storeDir, { recursive: true, force: true }));
    const port = await freePort();
    let server = await startNatsServer({ port, storeDir });
    hooks.after(() => server.stop());
    const config = configFromEnv({ NATS_URL: server.url, LOG_LEVEL: "silent" });
    const host = await startHost([verifyToken, putProduct, reserveStock], { config, log: createLogger({}, "silent") });
    hooks.after(() => host.stop(1000));
    const client = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    hooks.after(() => client.close());
    const r = (fn: string, body: unknown, headers?: Record<string, string>) =>
      send(client, `fn.${fn}`, body, { headers, timeout: 3000 }).catch((err: unknown) => ({ code: -1, err }));
    const put = await r(
      "put_product",
      { sku: "killed-oil", name: "Oil", priceCents: 500, onHand: 1000 },
      { Authorization: `Bearer ${admin}` },
    );
    assert.equal(put.code, undefined);
    const orders = Array.from({ length: 40 }, (_, i) => `killed-${i}`);
    // Every caller retries with its own orderId until it is answered (as the saga and the gateway's clients do).
    const outcomes = orders.map(async (orderId) => {
      for (const end = Date.now() + 40_000; Date.now() < end;) {
        const reply = await r("reserve_stock", { orderId, items: [{ sku: "killed-oil", quantity: 2 }] });
        if (reply.code === undefined) return 200;
        if (reply.code !== -1 && reply.code !== 503 && reply.code !== 504) return reply.code;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      return 0;
    });
    // Kill the server while those are in flight, then bring it back on the same port and store.
    server.process.kill("SIGKILL");
    await new Promise((resolve) => server.process.once("exit", resolve));
    server = await startNatsServer({ port, storeDir });
    const codes = await Promise.all(outcomes);
    assert.deepEqual([...new Set(codes)], [200], `outcomes: ${JSON.stringify(codes)}`);
    const rec = (await (await new Kvm(jetstream(client)).open("inventory")).get("killed-oil"))?.json<StockRecord>();
    assert.equal(rec?.reserved, 80, "every order held exactly once");
  });

  void it("maps a store that is briefly away to 503, never 500", () => {
    for (const err of [
      Object.assign(new Error("jetstream not enabled"), { name: "JetStreamNotEnabled" }),
      Object.assign(new Error("timeout"), { name: "TimeoutError" }),
      Object.assign(new Error("no responders"), { name: "NoRespondersError" }),
      Object.assign(new Error("JetStream system temporarily unavailable"), { code: 10008 }),
    ]) {
      assert.equal(toFunctionError(err).code, 503, err.message);
    }
    assert.equal(toFunctionError(new Error("a bug")).code, 500);
  });
});
