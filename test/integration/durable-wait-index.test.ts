import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { NatsConnection } from "@nats-io/nats-core";
import type { KV } from "@nats-io/kv";
import { configFromEnv } from "../../runtime/config.ts";
import { startHost, type Host } from "../../runtime/host.ts";
import { createLogger } from "../../runtime/logger.ts";
import { RunsAdmin, defineFunction } from "../../runtime/index.ts";
import { publishEvent, newEvent } from "../../runtime/events.ts";
import { createStateAccess } from "../../runtime/state.ts";
import { waitIndexStats } from "../../runtime/durable/wait-index.ts";
import { Cleanup, eventually, natsClient, natsServer } from "../helpers/nats.ts";
import { send } from "../helpers/requests.ts";

interface WaitInput {
  agg?: string;
  corr?: string;
  parcel?: string;
  waitMs: number;
}

/** Waits for `parcel.scanned` matching on whichever of aggregate id, correlation id or a data field it is given. */
const waitBy = defineFunction<WaitInput, { eventId: string | null }>({
  name: "wait_by",
  version: "1.0.0",
  description: "test: one durable wait for parcel.scanned, matched on the fields given",
  request: {
    type: "object",
    properties: {
      agg: { type: "string", maxLength: 64 },
      corr: { type: "string", maxLength: 64 },
      parcel: { type: "string", maxLength: 64 },
      waitMs: { type: "integer", minimum: 0, maximum: 600000 },
    },
    required: ["waitMs"],
    additionalProperties: false,
  },
  response: {
    type: "object",
    properties: { eventId: { type: ["string", "null"] } },
    required: ["eventId"],
    additionalProperties: false,
  },
  durable: { leaseMs: 2_000, pollMs: 200, events: ["parcel.scanned"] },
  async handler(input, ctx) {
    await ctx.step("start", () => true);
    const match = {
      ...(input.agg !== undefined ? { aggregateId: input.agg } : {}),
      ...(input.corr !== undefined ? { correlationId: input.corr } : {}),
      ...(input.parcel !== undefined ? { data: { parcel: input.parcel } } : {}),
    };
    const got = await ctx.waitForEvent("parcel.scanned", { match, timeoutMs: input.waitMs });
    return { eventId: got?.eventId ?? null };
  },
});

const origin = (correlationId: string) => ({
  correlationId,
  causationId: correlationId,
  source: "test",
  traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
});

describe("durable waits are found by key, not by offering each event to every open invocation", () => {
  const hooks = new Cleanup();
  let nc: NatsConnection;
  let host: Host;
  let config: ReturnType<typeof configFromEnv>;
  let admin: RunsAdmin;
  let runs: KV;
  after(() => hooks.run());

  before(async () => {
    const server = await natsServer(hooks);
    config = configFromEnv({ NATS_URL: server.url, LOG_LEVEL: "silent" });
    host = await startHost([waitBy], { config, log: createLogger({}, "silent") });
    hooks.after(() => host.stop(1000));
    nc = await natsClient(hooks, server);
    admin = await RunsAdmin.open(nc);
    runs = admin.journal.kv;
  });

  const indexKeys = async (): Promise<string[]> => {
    const out: string[] = [];
    for await (const key of await runs.keys("wait.wait_by.>")) out.push(key);
    return out;
  };
  const start = async (id: string, input: WaitInput) => {
    const reply = await send(nc, "fn.wait_by", input, { headers: { "Idempotency-Key": id, "Nfn-Timeout-Ms": "2000" } });
    assert.equal(reply.code, 202, JSON.stringify(reply.body));
  };
  const publish = (type: string, aggregateId: string, data: Record<string, unknown>, correlationId: string) => {
    const event = newEvent(type, aggregateId, data, origin(correlationId));
    return publishEvent(createStateAccess(nc, 1).js, event, origin(correlationId).traceparent).then(() => event);
  };

  it("wakes exactly the one waiter of 40 whose aggregate id matches, reading one index key", async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `agg-wait-${i}`);
    // Ten at a time, so that a loaded machine still answers each with its 202 within the deadline.
    for (let i = 0; i < ids.length; i += 10)
      await Promise.all(ids.slice(i, i + 10).map((id, j) => start(id, { agg: `parcel-${i + j}`, waitMs: 120_000 })));
    await eventually(async () => (await indexKeys()).length === 40, 15_000, "all 40 waits to be filed in the index");
    const before = { ...waitIndexStats };
    const wanted = await publish("parcel.scanned", "parcel-17", {}, "corr-agg");
    await eventually(async () => (await admin.show("agg-wait-17")).status === "done", 10_000, "the matching wait to end");
    assert.equal(waitIndexStats.lookups - before.lookups, 1, "one lookup for one event");
    assert.equal(waitIndexStats.keysRead - before.keysRead, 1, "the lookup touched only the matching waiter's key");
    const reply = await send(nc, "fn.wait_by", { agg: "parcel-17", waitMs: 120_000 }, { headers: { "Idempotency-Key": "agg-wait-17" } });
    assert.deepEqual(reply.body, { eventId: wanted.eventId });
    await eventually(async () => (await indexKeys()).length === 39, 5_000, "the ended wait to leave the index");
    const others = await admin.list({ fn: "wait_by", status: "waiting" });
    assert.equal(others.length, 39, "every other invocation still waits");
    // Every one of the 40 first replies was a 202: an error reply on the wire, counted as accepted too.
    const stats = (await nc.request("$SRV.STATS.wait_by", "", { timeout: 5000 })).json<{
      endpoints: { num_errors: number; last_error: string; data: { accepted: number } }[];
    }>().endpoints[0];
    assert.equal(stats?.num_errors, 40);
    assert.match(stats?.last_error ?? "", /^202:/);
    assert.equal(stats?.data.accepted, 40);
    // The rest are cancelled so they leave the index before the next case.
    await Promise.all(ids.filter((id) => id !== "agg-wait-17").map((id) => admin.cancel(id)));
    // 39 cancels at once end through the recovery loop's passes: generous on a loaded machine.
    await eventually(async () => (await indexKeys()).length === 0, 60_000, "the cancelled waits to leave the index");
  });

  it("finds a wait by correlation id, and one on data fields only, and never wakes one for another type or value", async () => {
    await start("corr-wait", { corr: "op-42", waitMs: 120_000 });
    await start("data-wait", { parcel: "P-9", waitMs: 120_000 });
    await start("data-other", { parcel: "P-10", waitMs: 120_000 });
    await eventually(async () => (await indexKeys()).length === 3, 10_000, "three waits to be filed");
    assert.ok((await indexKeys()).some((k) => k.includes(".c.op-42.")));
    assert.equal((await indexKeys()).filter((k) => k.includes(".any._.")).length, 2);
    await publish("parcel.lost", "x", { parcel: "P-9" }, "op-42"); // another type: no consumer of the function sees it
    const before = { ...waitIndexStats };
    const event = await publish("parcel.scanned", "whatever", { parcel: "P-9" }, "op-42");
    await eventually(async () => (await admin.show("corr-wait")).status === "done", 10_000, "the correlation wait to end");
    await eventually(async () => (await admin.show("data-wait")).status === "done", 10_000, "the data wait to end");
    assert.equal((await admin.show("data-other")).status, "waiting");
    // The correlation waiter and both data-only waiters: the index cannot narrow waits that name neither id.
    assert.equal(waitIndexStats.keysRead - before.keysRead, 3);
    assert.deepEqual(
      (await send(nc, "fn.wait_by", { corr: "op-42", waitMs: 120_000 }, { headers: { "Idempotency-Key": "corr-wait" } })).body,
      {
        eventId: event.eventId,
      },
    );
    await admin.cancel("data-other");
    await eventually(async () => (await indexKeys()).length === 0, 10_000, "the index to empty");
  });

  it("an event with huge ids finds no waiter and holds up nothing: the next matching event still wakes its waiter", async () => {
    await start("after-huge", { agg: "parcel-after-huge", waitMs: 120_000 });
    await eventually(async () => (await indexKeys()).length === 1, 10_000, "the wait to be filed");
    const huge = "h".repeat(8000);
    const before = { ...waitIndexStats };
    await publish("parcel.scanned", huge, { parcel: huge }, huge);
    await eventually(async () => waitIndexStats.lookups > before.lookups, 10_000, "the huge event to be looked up");
    assert.equal(waitIndexStats.keysRead - before.keysRead, 0);
    const event = await publish("parcel.scanned", "parcel-after-huge", {}, "op-after-huge");
    await eventually(async () => (await admin.show("after-huge")).status === "done", 10_000, "the wait to end");
    const reply = await send(
      nc,
      "fn.wait_by",
      { agg: "parcel-after-huge", waitMs: 120_000 },
      { headers: { "Idempotency-Key": "after-huge" } },
    );
    assert.deepEqual(reply.body, { eventId: event.eventId });
    await eventually(async () => (await indexKeys()).length === 0, 5_000, "the index to empty");
  });

  it("a wait that times out returns null and leaves the index", async () => {
    const first = await send(nc, "fn.wait_by", { agg: "never-comes", waitMs: 400 }, { headers: { "Idempotency-Key": "timeout-wait" } });
    // Within the caller's deadline (5 s by default) the reply is the outcome; on a slow machine it may be 202.
    if (first.code === 202)
      await eventually(async () => (await admin.show("timeout-wait")).status === "done", 10_000, "the wait to time out");
    const reply = await send(nc, "fn.wait_by", { agg: "never-comes", waitMs: 400 }, { headers: { "Idempotency-Key": "timeout-wait" } });
    assert.deepEqual(reply.body, { eventId: null });
    assert.equal((await admin.show("timeout-wait")).steps[1]?.name, "event:parcel.scanned");
    await eventually(async () => (await indexKeys()).length === 0, 5_000, "the timed-out wait to leave the index");
  });

  it("sweeps the key of a wait whose invocation ended without removing it", async () => {
    await runs.put("wait.wait_by.parcel=2Escanned.a.ghost.gone-1.1", JSON.stringify({ v: 1, at: 0 }));
    const before = { ...waitIndexStats };
    await publish("parcel.scanned", "ghost", {}, "ghost-op");
    await eventually(async () => (await indexKeys()).length === 0, 10_000, "the stale key to be swept");
    assert.ok(waitIndexStats.keysRead - before.keysRead >= 1);
  });
  it("another instance wakes a wait the stopped instance suspended", async () => {
    await start("moved-wait", { agg: "parcel-moved", waitMs: 120_000 });
    await eventually(async () => (await indexKeys()).length === 1, 10_000, "the wait to be filed");
    const other = await startHost([waitBy], { config, log: createLogger({}, "silent") });
    hooks.after(() => other.stop(1000));
    await host.stop(1000);
    const event = await publish("parcel.scanned", "parcel-moved", {}, "op-moved");
    await eventually(async () => (await admin.show("moved-wait")).status === "done", 15_000, "the other instance to end the wait");
    const reply = await send(nc, "fn.wait_by", { agg: "parcel-moved", waitMs: 120_000 }, { headers: { "Idempotency-Key": "moved-wait" } });
    assert.deepEqual(reply.body, { eventId: event.eventId });
  });
});
