/** Local views against a real nats-server: kept current by a watch, read-through for fresh reads, lag in STATS and /metrics. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { NatsConnection } from "@nats-io/nats-core";
import { Kvm } from "@nats-io/kv";
import { jetstream } from "@nats-io/jetstream";
import { configFromEnv } from "../../runtime/config.ts";
import { startHost, type Host } from "../../runtime/host.ts";
import { createLogger } from "../../runtime/logger.ts";
import { createStateAccess } from "../../runtime/state.ts";
import { Cleanup, eventually, natsClient, natsServer } from "../helpers/nats.ts";
import { send } from "../helpers/requests.ts";
import { TEST_JWT_SECRET, mintToken } from "../helpers/tokens.ts";
import verifyToken from "../../functions/verify_token/index.ts";
import putProduct from "../../functions/put_product/index.ts";
import checkInventory from "../../functions/check_inventory/index.ts";

process.env.AUTH_JWT_SECRET = TEST_JWT_SECRET;

void describe("local views", () => {
  const hooks = new Cleanup();
  after(() => hooks.run());
  let nc: NatsConnection;
  let server: { url: string };
  let host: Host;

  before(async () => {
    server = await natsServer(hooks);
    const config = configFromEnv({ NATS_URL: server.url, LOG_LEVEL: "silent" });
    host = await startHost([verifyToken, putProduct, checkInventory], { config, log: createLogger({}, "silent"), opsPort: 0 });
    hooks.after(() => host.stop(1000));
    nc = await natsClient(hooks, server);
  });

  void it("follows writes made elsewhere, and a fresh read sees them at once", async () => {
    const kv = await new Kvm(jetstream(nc)).create("view_test");
    await kv.put("a", JSON.stringify({ n: 1 }));
    const state = createStateAccess(await natsClient(hooks, server), 1);
    const view = state.view<{ n: number }>("view_test");
    // Until its first load is done a view reads through to the server.
    assert.deepEqual(await view.get("a"), { n: 1 });
    await eventually(() => view.lag().ready, 5000, "the first load");
    await kv.put("a", JSON.stringify({ n: 2 }));
    // The server answers a fresh read with what it has now, whatever the watch has delivered.
    assert.deepEqual(await view.get("a", { fresh: true }), { n: 2 });
    await kv.put("b", JSON.stringify({ n: 3 }));
    await eventually(async () => (await view.get("b"))?.n === 3, 5000, "the watch to deliver b");
    await kv.delete("b");
    await eventually(async () => (await view.get("b")) === undefined, 5000, "the watch to deliver the delete");
    const lag = view.lag();
    assert.equal(lag.ready, true);
    assert.equal(lag.keys, 1);
    assert.equal(lag.pending, 0);
    assert.ok(lag.lag_ms >= 0);
  });

  void it("a value this instance wrote is read back at once, before the watch delivers it", async () => {
    const state = createStateAccess(await natsClient(hooks, server), 1);
    const view = state.view<{ n: number }>("view_own");
    const keyed = state.keyed<{ n: number }>("view_own");
    await view.get("x");
    for (let n = 1; n <= 20; n++) {
      await keyed.update("x", () => ({ write: { n }, result: undefined }));
      assert.equal((await view.get("x"))?.n, n);
    }
  });

  void it("check_inventory reads from the view and shows its lag in STATS data and /metrics", async () => {
    const admin = await mintToken({ sub: "admin-1", scope: "inventory:admin" });
    const put = await send(
      nc,
      "fn.put_product",
      { sku: "view-oil", name: "Oil", priceCents: 700, onHand: 9 },
      { headers: { Authorization: `Bearer ${admin}` } },
    );
    assert.equal(put.code, undefined);
    const check = await send(nc, "fn.check_inventory", { items: [{ sku: "view-oil", quantity: 2 }] });
    assert.deepEqual((check.body as { items: { available: number }[] }).items[0]?.available, 9);
    type Stats = { endpoints: { data: { views?: Record<string, { ready: boolean; lag_ms: number; pending: number }> } }[] };
    const inventory = await eventually(
      async () => {
        const stats = (await send(nc, "$SRV.STATS.check_inventory", "")).body as Stats;
        const v = stats.endpoints[0]?.data.views?.inventory;
        return v?.ready === true && v;
      },
      5000,
      "STATS to show the inventory view loaded",
    );
    assert.equal(typeof inventory.lag_ms, "number");
    const metrics = await (await fetch(`http://127.0.0.1:${host.ops?.port ?? 0}/metrics`)).text();
    assert.match(metrics, /nfn_view_lag_seconds\{bucket="inventory"\} [0-9.e-]+/);
    assert.match(metrics, /nfn_view_pending\{bucket="inventory"\} 0/);
  });
});
