import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { NatsConnection } from "@nats-io/nats-core";
import { configFromEnv } from "../../runtime/config.ts";
import { startHost, type Host } from "../../runtime/host.ts";
import { createLogger } from "../../runtime/logger.ts";
import { Cleanup, natsClient, natsServer } from "../helpers/nats.ts";
import { send } from "../helpers/requests.ts";
import { deadlineProbe, probe, relay } from "../fixtures/probe-functions.ts";

describe("runtime request pipeline", () => {
  let nc: NatsConnection;
  let host: Host;
  const hooks = new Cleanup();
  after(() => hooks.run());

  before(async () => {
    const server = await natsServer(hooks);
    const config = configFromEnv({ NATS_URL: server.url, LOG_LEVEL: "silent" });
    host = await startHost([probe, relay, deadlineProbe], { config, log: createLogger({}, "silent") });
    hooks.after(() => host.stop(1000));
    nc = await natsClient(hooks, server);
  });

  it("echoes a valid request", async () => {
    const reply = await send(nc, "fn.probe", { text: "hello" });
    assert.equal(reply.code, undefined);
    assert.deepEqual(reply.body, { text: "hello" });
  });

  it("answers a body that is not JSON with 400 and both error headers", async () => {
    const reply = await send(nc, "fn.probe", "{not json");
    assert.equal(reply.code, 400);
    assert.equal(reply.errorHeader, "request body is not valid JSON");
    assert.deepEqual(reply.body, { error: { code: 400, type: "VALIDATION", message: "request body is not valid JSON" } });
  });

  it("answers an empty body with 400", async () => {
    const reply = await send(nc, "fn.probe", "");
    assert.equal(reply.code, 400);
  });

  it("reports schema failures with JSON Pointer paths", async () => {
    const wrongType = await send(nc, "fn.probe", { sleepMs: -1 });
    assert.equal(wrongType.code, 400);
    assert.deepEqual((wrongType.body as { error: { details: unknown } }).error.details, [{ path: "/sleepMs", message: "must be >= 0" }]);
    const unknownField = await send(nc, "fn.probe", { surprise: 1 });
    assert.deepEqual((unknownField.body as { error: { details: unknown } }).error.details, [
      { path: "/surprise", message: "is not allowed" },
    ]);
    const missing = await send(nc, "fn.relay", { input: {} });
    assert.deepEqual((missing.body as { error: { details: unknown } }).error.details, [
      { path: "/target", message: "must have required property 'target'" },
    ]);
  });

  it("rejects a body over the limit with 413 and processes one of exactly the limit", async () => {
    const envelope = JSON.stringify({ blob: "" }).length;
    const exact = JSON.stringify({ blob: "x".repeat(probe.limits.maxPayload - envelope) });
    assert.equal(Buffer.byteLength(exact), probe.limits.maxPayload);
    const ok = await send(nc, "fn.probe", exact);
    assert.equal(ok.code, undefined);
    const over = await send(nc, "fn.probe", JSON.stringify({ blob: "x".repeat(probe.limits.maxPayload - envelope + 1) }));
    assert.equal(over.code, 413);
    assert.equal((over.body as { error: { type: string } }).error.type, "PAYLOAD_TOO_LARGE");
  });

  it("checks the size before parsing, so an oversized non-JSON body is 413 not 400", async () => {
    const reply = await send(nc, "fn.probe", "!".repeat(probe.limits.maxPayload + 1));
    assert.equal(reply.code, 413);
  });

  it("refuses prototype-poisoning keys, also when escaped", async () => {
    for (const body of ['{"__proto__":{"admin":true}}', '{"nested":{"constructor":{"prototype":{}}}}', '{"\\u005f_proto__":{}}']) {
      const reply = await send(nc, "fn.probe", body);
      assert.equal(reply.code, 400, body);
      assert.equal(({} as Record<string, unknown>).admin, undefined);
    }
  });

  it("refuses bodies nested deeper than 64 levels", async () => {
    const deep = `${"[".repeat(100)}${"]".repeat(100)}`;
    const reply = await send(nc, "fn.probe", `{"nested":${deep}}`);
    assert.equal(reply.code, 400);
    assert.match(reply.errorHeader ?? "", /nested deeper than 64/);
  });

  it("turns a synchronous throw into a generic 500 without internals and keeps serving", async () => {
    const reply = await send(nc, "fn.probe", { fail: "throw-sync" });
    assert.equal(reply.code, 500);
    assert.deepEqual(reply.body, { error: { code: 500, type: "INTERNAL", message: "internal error" } });
    assert.doesNotMatch(reply.msg.string(), /secret|at |\.ts/);
    assert.equal((await send(nc, "fn.probe", { text: "still here" })).code, undefined);
  });

  it("turns an async rejection into 500 and the process survives", async () => {
    const reply = await send(nc, "fn.probe", { fail: "reject-async" });
    assert.equal(reply.code, 500);
    assert.deepEqual(await send(nc, "fn.probe", { text: "alive" }).then((r) => r.body), { text: "alive" });
  });

  it("passes a FunctionError through with its code and details", async () => {
    const reply = await send(nc, "fn.probe", { fail: "conflict" });
    assert.equal(reply.code, 409);
    assert.equal(reply.errorHeader, "not enough stock");
    assert.deepEqual(reply.body, {
      error: { code: 409, type: "CONFLICT", message: "not enough stock", details: [{ sku: "x", requested: 2, available: 1 }] },
    });
  });

  it("answers 500 when the handler's reply breaks the response schema", async () => {
    const reply = await send(nc, "fn.probe", { fail: "bad-reply" });
    assert.equal(reply.code, 500);
  });

  it("answers a hung handler with 504 at its deadline and fires its abort signal", async () => {
    const started = Date.now();
    const reply = await send(nc, "fn.probe", { fail: "hang" });
    assert.equal(reply.code, 504);
    assert.equal((reply.body as { error: { type: string } }).error.type, "TIMEOUT");
    assert.ok(Date.now() - started >= probe.limits.timeoutMs - 50, "not before the deadline");
  });

  it("shortens the deadline to the caller's Nfn-Timeout-Ms", async () => {
    const reply = await send(nc, "fn.probe", { fail: "hang" }, { headers: { "Nfn-Timeout-Ms": "100" } });
    assert.equal(reply.code, 504);
    assert.match(reply.errorHeader ?? "", /within 100 ms/);
  });

  it("rejects at once with 429 when the in-flight limit is full", async () => {
    const limit = probe.limits.maxInFlight;
    const slow = Array.from({ length: limit }, () => send(nc, "fn.probe", { sleepMs: 600 }));
    const running = host.functions.get("probe");
    await waitFor(() => running?.stats?.inFlight === limit);
    const rejected = await send(nc, "fn.probe", { text: "one too many" });
    assert.equal(rejected.code, 429);
    assert.equal((rejected.body as { error: { type: string } }).error.type, "OVERLOADED");
    const replies = await Promise.all(slow);
    assert.ok(replies.every((r) => r.code === undefined));
  });

  it("carries a nested call's error code back to the caller", async () => {
    const reply = await send(nc, "fn.relay", { target: "probe", input: { fail: "conflict" } });
    assert.equal(reply.code, 409);
    assert.equal(reply.errorHeader, "not enough stock");
  });

  it("answers 503 when a nested call has no responders", async () => {
    const reply = await send(nc, "fn.relay", { target: "nobody_serves_this", input: {} });
    assert.equal(reply.code, 503);
    assert.equal((reply.body as { error: { type: string } }).error.type, "UNAVAILABLE");
  });

  it("gives a nested call no more time than the caller has left", async () => {
    const reply = await send(nc, "fn.relay", { target: "deadline_probe", input: {} }, { headers: { "Nfn-Timeout-Ms": "800" } });
    const inner = (reply.body as { result: { remainingMs: number } }).result.remainingMs;
    assert.ok(inner <= 800 && inner > 0, `nested call got ${inner} ms`);
  });

  it("answers 504 when a nested call runs past the caller's deadline", async () => {
    const reply = await send(nc, "fn.relay", { target: "probe", input: { sleepMs: 900 }, timeoutMs: 100 });
    assert.equal(reply.code, 504);
  });

  it("continues the caller's trace and correlation id through nested calls", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const reply = await send(
      nc,
      "fn.relay",
      { target: "deadline_probe", input: {} },
      {
        headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01`, "Nfn-Correlation-Id": "corr-1" },
      },
    );
    const inner = (reply.body as { result: { traceId: string; correlationId: string } }).result;
    assert.equal(inner.traceId, traceId);
    assert.equal(inner.correlationId, "corr-1");
  });
});

async function waitFor(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not reached");
    await new Promise((r) => setTimeout(r, 5));
  }
}
