/** Bounded stock storage: tombstones and reservations of orders that never went on expire with the reservations bucket's max_age. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { NatsConnection } from "@nats-io/nats-core";
import { jetstreamManager } from "@nats-io/jetstream";
import { configFromEnv } from "../../runtime/config.ts";
import { startHost } from "../../runtime/host.ts";
import { createLogger } from "../../runtime/logger.ts";
import { Cleanup, eventually, natsClient, natsServer } from "../helpers/nats.ts";
import { send } from "../helpers/requests.ts";
import releaseStock from "../../functions/release_stock/index.ts";

// Read when the bucket is created (the first release below).
process.env.NFN_RESERVATIONS_MAX_AGE = "2s";

void describe("stock storage is bounded", () => {
  const hooks = new Cleanup();
  after(() => hooks.run());
  let nc: NatsConnection;

  before(async () => {
    const server = await natsServer(hooks);
    const host = await startHost([releaseStock], {
      config: configFromEnv({ NATS_URL: server.url, LOG_LEVEL: "silent" }),
      log: createLogger({}, "silent"),
    });
    hooks.after(() => host.stop(1000));
    nc = await natsClient(hooks, server);
  });

  void it("a flood of releases for orders that never existed leaves nothing once the retention has passed", async () => {
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, i) => send(nc, "fn.release_stock", { orderId: `never-${i}` }, { timeout: 10_000 })),
    );
    assert.deepEqual([...new Set(replies.map((r) => r.code))], [undefined]);
    const jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info("KV_reservations");
    assert.equal(info.config.max_age, 2e9);
    assert.ok(info.config.max_bytes > 0);
    assert.equal(info.state.messages, 200, "one tombstone per order");
    await eventually(async () => (await jsm.streams.info("KV_reservations")).state.bytes === 0, 15_000, "the tombstones to expire");
  });
});
