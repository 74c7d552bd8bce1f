/** Stock under contention: two instances, 100 concurrent orders on 10 units, and recovery of half-done reservations. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { NatsConnection } from "@nats-io/nats-core";
import { Kvm } from "@nats-io/kv";
import { jetstream } from "@nats-io/jetstream";
import { configFromEnv } from "../../runtime/config.ts";
import { startHost } from "../../runtime/host.ts";
import { createLogger } from "../../runtime/logger.ts";
import { Cleanup, eventually, natsClient, natsServer } from "../helpers/nats.ts";
import { send } from "../helpers/requests.ts";
import { TEST_JWT_SECRET, mintToken } from "../helpers/tokens.ts";
import verifyToken from "../../functions/verify_token/index.ts";
import putProduct from "../../functions/put_product/index.ts";
import checkInventory from "../../functions/check_inventory/index.ts";
import reserveStock from "../../functions/reserve_stock/index.ts";
import releaseStock from "../../functions/release_stock/index.ts";
import commitStock from "../../functions/commit_stock/index.ts";
import type { Reservation, StockRecord } from "../../functions/_shared/stock-types.ts";

process.env.AUTH_JWT_SECRET = TEST_JWT_SECRET;
process.env.NFN_SWEEP_INTERVAL_MS = "150";

void describe("inventory under contention and after crashes", () => {
  const hooks = new Cleanup();
  after(() => hooks.run());
  let nc: NatsConnection;
  let admin: string;
  const call = (fn: string, body: unknown, headers?: Record<string, string>) => send(nc, `fn.${fn}`, body, { headers, timeout: 30_000 });
  const available = async (sku: string) => {
    const r = await call("check_inventory", { items: [{ sku, quantity: 1 }] });
    return (r.body as { items: { available: number }[] }).items[0]?.available;
  };
  // What the sku record says now (check_inventory reads a local view, which may not have seen a write made behind its back yet).
  const recordedAvailable = async (sku: string) => {
    const rec = await record(sku);
    return (rec?.onHand ?? 0) - (rec?.reserved ?? 0);
  };
  const record = async (sku: string) => (await (await new Kvm(jetstream(nc)).open("inventory")).get(sku))?.json<StockRecord>();

  before(async () => {
    const server = await natsServer(hooks);
    const config = configFromEnv({ NATS_URL: server.url, LOG_LEVEL: "silent" });
    const defs = [verifyToken, putProduct, checkInventory, reserveStock, releaseStock, commitStock];
    // Two instances on two connections: the queue group spreads requests, KV compare-and-set keeps them honest.
    for (let i = 0; i < 2; i++) {
      const host = await startHost(defs, { config: { ...config, clientName: `inventory-${i}` }, log: createLogger({}, "silent") });
      hooks.after(() => host.stop(1000));
    }
    nc = await natsClient(hooks, server);
    admin = await mintToken({ sub: "admin-1", scope: "inventory:admin" });
  });

  void it("100 concurrent reservations of distinct orders on stock 10: exactly 10 succeed, 90 get 409, available 0", async () => {
    const sku = "aceite-picual-5l";
    const put = await call(
      "put_product",
      { sku, name: "Aceite picual 5 l", priceCents: 3490, onHand: 10 },
      { Authorization: `Bearer ${admin}` },
    );
    assert.equal(put.code, undefined);
    const replies = await Promise.all(
      Array.from({ length: 100 }, (_, i) => call("reserve_stock", { orderId: `race-${i}`, items: [{ sku, quantity: 1 }] })),
    );
    const codes = replies.map((r) => r.code ?? 200);
    assert.equal(codes.filter((c) => c === 200).length, 10, `codes: ${JSON.stringify(codes)}`);
    assert.equal(codes.filter((c) => c === 409).length, 90);
    assert.equal(await available(sku), 0);
    const rec = await record(sku);
    // Holds live in each order's reservation record, not in the sku's.
    const reservations = await new Kvm(jetstream(nc)).open("reservations");
    const held = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => (await reservations.get(`race-${i}`))?.json<Reservation>().status === "reserved"),
    );
    assert.deepEqual([rec?.onHand, rec?.reserved, held.filter(Boolean).length], [10, 10, 10]);
  });

  void it("commits and releases from both instances at once and conserves stock exactly", async () => {
    const sku = "queso-curado";
    await call("put_product", { sku, name: "Queso curado", priceCents: 1800, onHand: 40 }, { Authorization: `Bearer ${admin}` });
    const orders = Array.from({ length: 20 }, (_, i) => `mix-${i}`);
    await Promise.all(orders.map((orderId) => call("reserve_stock", { orderId, items: [{ sku, quantity: 2 }] })));
    // Even orders are sold, odd ones released; each twice at once, to race the two instances.
    const settle = (orderId: string, i: number) => call(i % 2 === 0 ? "commit_stock" : "release_stock", { orderId });
    const replies = await Promise.all(orders.flatMap((orderId, i) => [settle(orderId, i), settle(orderId, i)]));
    assert.deepEqual(
      replies.filter((r) => r.code !== undefined),
      [],
    );
    const rec = await record(sku);
    assert.deepEqual([rec?.onHand, rec?.sold, rec?.reserved], [20, 20, 0]);
  });

  void it("the sweeper finishes a reservation abandoned by a crash mid-way and returns its holds", async () => {
    const sku = "miel-de-azahar";
    await call("put_product", { sku, name: "Miel de azahar", priceCents: 900, onHand: 10 }, { Authorization: `Bearer ${admin}` });
    const kvm = new Kvm(jetstream(nc));
    const reservations = await kvm.create("reservations");
    const inventory = await kvm.open("inventory");
    // What a process leaves when it dies after its first hold: a pending record and one held line.
    const old = new Date(Date.now() - 120_000).toISOString();
    const crashed: Reservation = {
      orderId: "crashed-1",
      status: "pending",
      items: [{ sku, quantity: 4, priceCents: 900, currency: "EUR" }],
      expiresAt: new Date(Date.now() + 600_000).toISOString(),
      createdAt: old,
      updatedAt: old,
    };
    await reservations.create("crashed-1", JSON.stringify(crashed));
    const entry = await inventory.get(sku);
    const rec = entry?.json<StockRecord>();
    assert.ok(entry && rec);
    await inventory.update(
      sku,
      JSON.stringify({ ...rec, reserved: 4, marks: [{ o: "crashed-1", p: "h", q: 4, at: Date.now() - 120_000 }] }),
      entry.revision,
    );
    assert.equal(await recordedAvailable(sku), 6);

    await eventually(async () => (await available(sku)) === 10, 15_000, "the sweeper to release the abandoned reservation");
    const final = (await reservations.get("crashed-1"))?.json<Reservation>();
    assert.deepEqual([final?.status, final?.reason], ["released", "abandoned"]);
    assert.equal((await call("reserve_stock", { orderId: "crashed-1", items: [{ sku, quantity: 1 }] })).code, 409);
  });

  void it("the sweeper removes a hold whose order was already released", async () => {
    const sku = "aceitunas";
    await call("put_product", { sku, name: "Aceitunas", priceCents: 400, onHand: 5 }, { Authorization: `Bearer ${admin}` });
    await call("release_stock", { orderId: "late-1" });
    const inventory = await new Kvm(jetstream(nc)).open("inventory");
    const entry = await inventory.get(sku);
    const rec = entry?.json<StockRecord>();
    assert.ok(entry && rec);
    // A writer that placed its hold after the order was released (a stalled process waking up).
    await inventory.update(
      sku,
      JSON.stringify({ ...rec, reserved: 2, marks: [{ o: "late-1", p: "h", q: 2, at: Date.now() - 120_000 }] }),
      entry.revision,
    );
    assert.equal(await recordedAvailable(sku), 3);
    await eventually(async () => (await available(sku)) === 5, 15_000, "the sweeper to remove the orphan hold");
  });

  void it("the sweeper completes a commit that crashed after its decision: the leftover hold becomes a sale", async () => {
    const sku = "jamon-iberico";
    await call("put_product", { sku, name: "Jamón ibérico", priceCents: 29900, onHand: 4 }, { Authorization: `Bearer ${admin}` });
    const kvm = new Kvm(jetstream(nc));
    const reservations = await kvm.create("reservations");
    const inventory = await kvm.open("inventory");
    const old = new Date(Date.now() - 120_000).toISOString();
    const decided: Reservation = {
      orderId: "half-committed-1",
      status: "committed",
      items: [{ sku, quantity: 3, priceCents: 29900, currency: "EUR" }],
      expiresAt: new Date(Date.now() + 600_000).toISOString(),
      createdAt: old,
      updatedAt: old,
    };
    await reservations.create("half-committed-1", JSON.stringify(decided));
    const entry = await inventory.get(sku);
    const rec = entry?.json<StockRecord>();
    assert.ok(entry && rec);
    await inventory.update(
      sku,
      JSON.stringify({ ...rec, reserved: 3, marks: [{ o: "half-committed-1", p: "h", q: 3, at: Date.now() - 120_000 }] }),
      entry.revision,
    );
    const sold = await eventually(
      async () => {
        const now = await record(sku);
        return now?.reserved === 0 && now;
      },
      15_000,
      "the sweeper to settle the hold of the committed order",
    );
    assert.deepEqual([sold.onHand, sold.sold, sold.reserved], [1, 3, 0]);
  });
});
