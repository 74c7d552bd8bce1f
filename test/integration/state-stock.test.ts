/** The stock model at scale and against hostile ids: a hot sku's record stays small, ids are data, replays leak nothing. */
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
import type { StockRecord } from "../../functions/_shared/stock-types.ts";

process.env.AUTH_JWT_SECRET = TEST_JWT_SECRET;

void describe("stock state: O(1) records and ids that are data", () => {
  const hooks = new Cleanup();
  after(() => hooks.run());
  let nc: NatsConnection;
  let admin: string;
  const call = (fn: string, body: unknown, headers?: Record<string, string>) => send(nc, `fn.${fn}`, body, { headers, timeout: 30_000 });
  const entry = async (sku: string) => (await (await new Kvm(jetstream(nc)).open("inventory")).get(sku)) ?? undefined;
  // The record once the marks of the last replies are forgotten (that write follows the reply).
  const settled = (sku: string) =>
    eventually(
      async () => {
        const e = await entry(sku);
        return e && e.json<StockRecord>().marks.length === 0 ? e : undefined;
      },
      10_000,
      `the marks of ${sku} forgotten`,
    );
  const product = async (sku: string, onHand: number, priceCents = 500) => {
    const r = await call("put_product", { sku, name: sku, priceCents, onHand }, { Authorization: `Bearer ${admin}` });
    assert.equal(r.code, undefined, JSON.stringify(r.body));
  };

  before(async () => {
    const server = await natsServer(hooks);
    const config = configFromEnv({ NATS_URL: server.url, LOG_LEVEL: "silent" });
    const defs = [verifyToken, putProduct, checkInventory, reserveStock, releaseStock, commitStock];
    for (let i = 0; i < 2; i++) {
      const host = await startHost(defs, { config: { ...config, clientName: `stock-${i}` }, log: createLogger({}, "silent") });
      hooks.after(() => host.stop(1000));
    }
    nc = await natsClient(hooks, server);
    admin = await mintToken({ sub: "admin-1", scope: "inventory:admin" });
  });

  const reserveMany = async (sku: string, from: number, to: number, inFlight: number) => {
    let next = from;
    const codes: number[] = [];
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        for (let i = next++; i < to; i = next++) {
          const r = await call("reserve_stock", { orderId: `hot-${sku}-${i}`, items: [{ sku, quantity: 1 }] });
          codes.push(r.code ?? 200);
        }
      }),
    );
    return codes;
  };

  void it("keeps a hot sku's record the same size with 100 or 2,000 reservations open", async () => {
    const sku = "hot-oil";
    await product(sku, 100_000);
    const codes100 = await reserveMany(sku, 0, 100, 32);
    const at100 = await settled(sku);
    const codes = await reserveMany(sku, 100, 2000, 64);
    const at2000 = await settled(sku);
    assert.deepEqual([...new Set([...codes100, ...codes])], [200]);
    const rec = at2000?.json<StockRecord>();
    assert.deepEqual([rec?.onHand, rec?.reserved, rec?.marks.length], [100_000, 2000, 0]);
    assert.ok(at100 && at2000);
    // Only the digits of the totals may differ.
    assert.ok(at2000.length <= at100.length + 4, `record grew from ${at100.length} to ${at2000.length} bytes`);
    assert.ok(at2000.length < 400, `record is ${at2000.length} bytes`);
  });

  void it("treats orderIds like __proto__ and toString as plain ids: reserved, committed, totals stay numbers", async () => {
    const sku = "proto-honey";
    await product(sku, 10);
    const ids = ["toString", "__proto__", "constructor", "valueOf", "hasOwnProperty"];
    for (const orderId of ids) {
      const r = await call("reserve_stock", { orderId, items: [{ sku, quantity: 1 }] });
      assert.equal(r.code, undefined, `${orderId}: ${JSON.stringify(r.body)}`);
      assert.equal((r.body as { status: string }).status, "reserved");
    }
    assert.deepEqual([(await entry(sku))?.json<StockRecord>().reserved, (await entry(sku))?.json<StockRecord>().onHand], [5, 10]);
    for (const orderId of ids) assert.equal((await call("commit_stock", { orderId })).code, undefined, orderId);
    const rec = (await entry(sku))?.json<StockRecord>();
    assert.deepEqual([rec?.onHand, rec?.reserved, rec?.sold], [5, 0, 5]);
    // The product can still be sold.
    assert.equal((await call("reserve_stock", { orderId: "after-proto", items: [{ sku, quantity: 5 }] })).code, undefined);
  });

  void it("answers a replay naming other lines with 409 and none of the order's lines or prices", async () => {
    const sku = "secret-saffron";
    await product(sku, 10, 13_480);
    const mine = await call("reserve_stock", { orderId: "victim-1", items: [{ sku, quantity: 3 }] });
    assert.equal(mine.code, undefined);
    const probe = await call("reserve_stock", { orderId: "victim-1", items: [{ sku: "anything", quantity: 1 }] });
    assert.equal(probe.code, 409);
    const text = JSON.stringify(probe.body);
    assert.doesNotMatch(text, /13480|secret-saffron|"quantity"/);
    // The victim's own replay still gets its reservation.
    assert.deepEqual((await call("reserve_stock", { orderId: "victim-1", items: [{ sku, quantity: 3 }] })).body, mine.body);
  });

  void it("a release while the reservation is being made ends it released, never reserved", async () => {
    const sku = "racing-olives";
    await product(sku, 100);
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) => [
        call("reserve_stock", { orderId: `race-rel-${i}`, items: [{ sku, quantity: 2 }] }),
        call("release_stock", { orderId: `race-rel-${i}` }),
      ]).flat(),
    );
    assert.deepEqual(
      replies.filter((_, i) => i % 2 === 1).map((r) => r.code),
      replies.filter((_, i) => i % 2 === 1).map(() => undefined),
    );
    const rec = (await entry(sku))?.json<StockRecord>();
    assert.equal(rec?.reserved, 0, "every reservation ends released");
    for (let i = 0; i < 20; i++) {
      assert.equal((await call("commit_stock", { orderId: `race-rel-${i}` })).code, 409);
    }
  });
});
