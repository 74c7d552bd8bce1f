import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { NatsConnection } from "@nats-io/nats-core";
import type { KV } from "@nats-io/kv";
import { configFromEnv } from "../../runtime/config.ts";
import { startHost, type Host } from "../../runtime/host.ts";
import { createLogger } from "../../runtime/logger.ts";
import { RunsAdmin, defineFunction, kvKey } from "../../runtime/index.ts";
import { publishEvent, newEvent } from "../../runtime/events.ts";
import { createStateAccess } from "../../runtime/state.ts";
import { Cleanup, eventually, natsClient, natsServer } from "../helpers/nats.ts";
import { send } from "../helpers/requests.ts";
import { EFFECTS_BUCKET, durableFunctions } from "../fixtures/durable-functions.ts";

const notDurable = defineFunction({
  name: "not_durable",
  version: "1.0.0",
  description: "calls ctx.step without declaring durable",
  request: { type: "object" },
  response: { type: "object" },
  async handler(_input, ctx) {
    return ctx.step("x", () => ({}));
  },
});

describe("durable steps (ctx.step, sleep, waitForEvent, the journal)", () => {
  const hooks = new Cleanup();
  let nc: NatsConnection;
  let host: Host;
  let admin: RunsAdmin;
  let effects: KV;
  after(() => hooks.run());

  before(async () => {
    const server = await natsServer(hooks);
    const config = configFromEnv({ NATS_URL: server.url, LOG_LEVEL: "silent" });
    host = await startHost([...durableFunctions, notDurable], { config, log: createLogger({}, "silent") });
    hooks.after(() => host.stop(1000));
    nc = await natsClient(hooks, server);
    admin = await RunsAdmin.open(nc);
    effects = await createStateAccess(nc, 1).kv(EFFECTS_BUCKET);
  });

  const effectsOf = async (id: string) => {
    const out: string[] = [];
    for await (const key of await effects.keys(`*.${kvKey(id)}.>`)) out.push(key);
    return out.sort();
  };

  it("runs four steps once and replays the identical reply for the same Idempotency-Key without running them again", async () => {
    const headers = { "Idempotency-Key": "order-a1" };
    const first = await send(nc, "fn.durable_order", { qty: 3, effects: true }, { headers });
    assert.equal(first.code, undefined, JSON.stringify(first.body));
    const body = first.body as { invocationId: string; totalCents: number; paymentId: string };
    assert.equal(body.invocationId, "order-a1");
    assert.equal(body.totalCents, 750);
    assert.match(body.paymentId, /^pay_step-/);
    const again = await send(nc, "fn.durable_order", { qty: 3, effects: true }, { headers });
    assert.deepEqual(again.body, first.body);
    assert.deepEqual(await effectsOf("order-a1"), [
      "fx.order-a1.charge",
      "fx.order-a1.confirm",
      "fx.order-a1.price",
      "fx.order-a1.reserve",
    ]);
    const shown = await admin.show("order-a1");
    assert.equal(shown.status, "done");
    assert.deepEqual(
      shown.steps.map((s) => [s.name, s.status, s.attempts]),
      [
        ["price", "done", 1],
        ["reserve", "done", 1],
        ["charge", "done", 1],
        ["confirm", "done", 1],
      ],
    );
    // The open index holds only open invocations.
    await eventually(async () => (await admin.journal.openIds("durable_order")).length === 0, 5000, "the open index to empty");
  });

  it("refuses the same Idempotency-Key with a different payload (422) and a key over 64 characters (400)", async () => {
    const headers = { "Idempotency-Key": "order-a2" };
    assert.equal((await send(nc, "fn.durable_order", { qty: 1 }, { headers })).code, undefined);
    const other = await send(nc, "fn.durable_order", { qty: 2 }, { headers });
    assert.equal(other.code, 422);
    const long = await send(nc, "fn.durable_order", { qty: 1 }, { headers: { "Idempotency-Key": "k".repeat(65) } });
    assert.equal(long.code, 400);
    assert.ok(!JSON.stringify(long.body).includes("k".repeat(65)));
  });

  it("keys an invocation by any Idempotency-Key text, dots and wildcards included, through kvKey", async () => {
    const key = "ord/1.*>";
    const reply = await send(nc, "fn.durable_order", { qty: 1 }, { headers: { "Idempotency-Key": key } });
    assert.equal((reply.body as { invocationId: string }).invocationId, key);
    assert.equal((await admin.show(key)).status, "done");
  });

  it("gives every request without a key its own invocation", async () => {
    const [a, b] = await Promise.all([send(nc, "fn.durable_order", { qty: 1 }), send(nc, "fn.durable_order", { qty: 1 })]);
    const ids = [a, b].map((r) => (r.body as { invocationId: string }).invocationId);
    assert.notEqual(ids[0], ids[1]);
    assert.match(ids[0] ?? "", /^[0-9a-f-]{36}$/);
  });

  it("answers ctx.step in a function that is not durable with a generic 500", async () => {
    const reply = await send(nc, "fn.not_durable", {});
    assert.equal(reply.code, 500);
    assert.equal((reply.body as { error: { message: string } }).error.message, "internal error");
  });

  it("fails loudly when a resumed invocation meets another step than its journal holds", async () => {
    const id = "mismatch-1";
    const now = Date.now();
    await admin.journal.createOpen({
      v: 1,
      id,
      fn: "durable_order",
      status: "running",
      inputHash: "x",
      input: { qty: 1 },
      correlationId: id,
      createdAt: now,
      owner: "gone:1",
      leaseUntil: now - 1,
      runs: 1,
    });
    await admin.journal.createStep("durable_order", id, {
      v: 1,
      n: 0,
      name: "quote",
      kind: "step",
      status: "done",
      result: {},
      startedAt: now,
      ms: 1,
      attempts: 1,
    });
    const shown = await eventually(
      async () => {
        const s = await admin.show(id);
        return s.status === "failed" ? s : undefined;
      },
      10_000,
      "the mismatch to fail the invocation",
    );
    assert.equal(shown.error?.code, 500);
    assert.match(shown.error?.message ?? "", /journal mismatch at step 0: the journal has "quote", the code now runs "price"/);
  });

  it("sleeps durably: a short sleep still replies to the waiting caller, a long one replies 202 and finishes later", async () => {
    const short = await send(nc, "fn.durable_sleeper", { sleepMs: 200 }, { headers: { "Idempotency-Key": "sleep-short" } });
    assert.deepEqual(short.body, { slept: true, event: null });
    const long = await send(
      nc,
      "fn.durable_sleeper",
      { sleepMs: 1500 },
      { headers: { "Idempotency-Key": "sleep-long", "Nfn-Timeout-Ms": "400" } },
    );
    assert.equal(long.code, 202);
    const details = (long.body as { error: { details: { invocationId: string; status: string }[] } }).error.details;
    assert.equal(details[0]?.invocationId, "sleep-long");
    // "waiting" once it suspended; "running" when the machine is so slow that the first step outlasts 400 ms.
    assert.ok(["waiting", "running"].includes(details[0]?.status ?? ""));
    await eventually(async () => (await admin.show("sleep-long")).status === "done", 10_000, "the long sleep to end");
    const shown = await admin.show("sleep-long");
    assert.deepEqual(
      shown.steps.map((s) => [s.kind, s.status]),
      [
        ["step", "done"],
        ["sleep", "done"],
        ["step", "done"],
      ],
    );
    const replay = await send(nc, "fn.durable_sleeper", { sleepMs: 1500 }, { headers: { "Idempotency-Key": "sleep-long" } });
    assert.deepEqual(replay.body, { slept: true, event: null });
  });

  it("waits for a matching domain event, ignoring one for another aggregate", async () => {
    const reply = await send(
      nc,
      "fn.durable_sleeper",
      { sleepMs: 0, waitFor: "pay-7" },
      { headers: { "Idempotency-Key": "wait-1", "Nfn-Timeout-Ms": "300" } },
    );
    assert.equal(reply.code, 202);
    await eventually(async () => (await admin.show("wait-1")).wake?.kind === "event", 5000, "the wait to be registered");
    const js = createStateAccess(nc, 1).js;
    const origin = {
      correlationId: "c",
      causationId: "c",
      source: "test",
      traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    };
    await publishEvent(js, newEvent("payment.settled", "pay-other", {}, origin), origin.traceparent);
    const wanted = newEvent("payment.settled", "pay-7", {}, origin);
    await publishEvent(js, wanted, origin.traceparent);
    await eventually(async () => (await admin.show("wait-1")).status === "done", 10_000, "the wait to end");
    const again = await send(nc, "fn.durable_sleeper", { sleepMs: 0, waitFor: "pay-7" }, { headers: { "Idempotency-Key": "wait-1" } });
    assert.deepEqual(again.body, { slept: true, event: wanted.eventId });
  });

  it("sees an event its own earlier step published before the wait was registered", async () => {
    const reply = await send(nc, "fn.durable_selfwait", { ref: "self-1" }, { headers: { "Idempotency-Key": "self-1" } });
    assert.equal(reply.code, undefined, JSON.stringify(reply.body));
    const settled = (await admin.show("self-1")).steps[0]?.result;
    assert.deepEqual(reply.body, { eventId: settled });
  });

  it("cancels a waiting invocation: its compensation runs once and it ends cancelled", async () => {
    const reply = await send(
      nc,
      "fn.durable_cancellable",
      { ref: "never" },
      { headers: { "Idempotency-Key": "cancel-1", "Nfn-Timeout-Ms": "300" } },
    );
    assert.equal(reply.code, 202);
    await eventually(async () => (await admin.show("cancel-1")).status === "waiting", 5000, "the invocation to wait");
    await admin.cancel("cancel-1");
    await eventually(async () => (await admin.show("cancel-1")).status === "cancelled", 10_000, "the cancel to finish");
    assert.deepEqual(await effectsOf("cancel-1"), ["fx.cancel-1.release", "fx.cancel-1.reserve"]);
    const shown = await admin.show("cancel-1");
    assert.deepEqual(
      shown.steps.map((s) => s.name),
      ["reserve", "event:payment.settled", "undo:reserve"],
    );
    const repeat = await send(nc, "fn.durable_cancellable", { ref: "never" }, { headers: { "Idempotency-Key": "cancel-1" } });
    assert.equal(repeat.code, 409);
  });

  it("retries a failed invocation: finished steps are not run again, the failed one is", async () => {
    const headers = { "Idempotency-Key": "flaky-1" };
    const failed = await send(nc, "fn.durable_flaky", { n: 1 }, { headers });
    assert.equal(failed.code, 503);
    assert.equal((await send(nc, "fn.durable_flaky", { n: 1 }, { headers })).code, 503, "a failed invocation replays its error");
    await effects.put(`allow.${kvKey("flaky-1")}`, "1");
    await admin.retry("flaky-1");
    await eventually(async () => (await admin.show("flaky-1")).status === "done", 10_000, "the retry to finish");
    assert.deepEqual(await effectsOf("flaky-1"), ["fx.flaky-1.first", "fx.flaky-1.gate"]);
    assert.deepEqual((await send(nc, "fn.durable_flaky", { n: 1 }, { headers })).body, { ok: true });
  });
});
