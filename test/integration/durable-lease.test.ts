import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { configFromEnv } from "../../runtime/config.ts";
import { startHost } from "../../runtime/host.ts";
import { createLogger } from "../../runtime/logger.ts";
import { RunsAdmin, kvKey } from "../../runtime/index.ts";
import { createStateAccess } from "../../runtime/state.ts";
import { Cleanup, eventually, natsClient, natsServer } from "../helpers/nats.ts";
import { send } from "../helpers/requests.ts";
import { EFFECTS_BUCKET, durableOrder } from "../fixtures/durable-functions.ts";

describe("durable lease: a live run is never taken over", () => {
  const hooks = new Cleanup();
  let nc: NatsConnection;
  after(() => hooks.run());

  before(async () => {
    const server = await natsServer(hooks);
    // Two instances on two connections, both polling for invocations to take over.
    for (let i = 0; i < 2; i++) {
      const conn = await connect({ servers: server.url });
      hooks.after(() => conn.close());
      const host = await startHost([durableOrder], {
        nc: conn,
        config: configFromEnv({ NATS_URL: server.url }),
        log: createLogger({}, "silent"),
      });
      hooks.after(() => host.stop(1000));
    }
    nc = await natsClient(hooks, server);
  });

  it(
    "keeps a step that runs three leases long on its instance (heartbeat): one run, one effect per step",
    { timeout: 60_000 },
    async () => {
      // The fixture's lease is 2 s; the first step holds 6 s while the other instance polls every 200 ms.
      const reply = await send(
        nc,
        "fn.durable_order",
        { qty: 1, effects: true, holdMs: 6_000 },
        { headers: { "Idempotency-Key": "lease-1" }, timeout: 25_000 },
      );
      assert.equal(reply.code, undefined, JSON.stringify(reply.body));
      const admin = await RunsAdmin.open(nc);
      const shown = await eventually(async () => {
        const s = await admin.show("lease-1");
        return s.status === "done" ? s : undefined;
      });
      assert.equal(shown.runs, 1, "no other instance took it over");
      const effects = await createStateAccess(nc, 1).kv(EFFECTS_BUCKET);
      const keys: string[] = [];
      for await (const key of await effects.keys(`*.${kvKey("lease-1")}.>`)) keys.push(key);
      assert.equal(keys.filter((k) => k.startsWith("dup.")).length, 0);
      assert.equal(keys.length, 4);
    },
  );

  it(
    "cancels a running invocation: the owner adopts the cancel on its heartbeat and stops before the next step",
    { timeout: 60_000 },
    async () => {
      const pending = send(
        nc,
        "fn.durable_order",
        { qty: 1, effects: true, holdMs: 3_000 },
        { headers: { "Idempotency-Key": "lease-cancel" }, timeout: 25_000 },
      );
      const admin = await RunsAdmin.open(nc);
      await eventually(
        async () => (await admin.show("lease-cancel").catch(() => undefined))?.status === "running",
        5000,
        "the run to start",
      );
      await admin.cancel("lease-cancel");
      const reply = await pending;
      assert.equal(reply.code, 409, JSON.stringify(reply.body));
      const shown = await admin.show("lease-cancel");
      assert.equal(shown.status, "cancelled");
      assert.deepEqual(
        shown.steps.map((s) => s.name),
        ["price"],
      );
    },
  );

  it("gives a concurrent repeat the same reply, whichever instance it reaches", { timeout: 60_000 }, async () => {
    const headers = { "Idempotency-Key": "lease-twice" };
    const [a, b] = await Promise.all([
      send(nc, "fn.durable_order", { qty: 2, holdMs: 500 }, { headers, timeout: 25_000 }),
      send(nc, "fn.durable_order", { qty: 2, holdMs: 500 }, { headers, timeout: 25_000 }),
    ]);
    // The repeat reaches either instance: the running one waits for its own run, the other for the announced end.
    assert.equal(a.code, undefined, JSON.stringify(a.body));
    assert.equal(b.code, undefined, JSON.stringify(b.body));
    assert.deepEqual(a.body, b.body);
  });
});
