/** Retries: ctx.call repeats 429 and a local no-responders 503 within the deadline, never a timeout or a replied 503. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { eventually } from "../helpers/nats.ts";
import { type GatewaySystem, gatewaySystem } from "../fixtures/gateway-system.ts";
import { gwLate, releaseGwBusy } from "../fixtures/gateway-functions.ts";
import { requestFunction } from "../../runtime/client/index.ts";
import { FunctionError } from "../../runtime/errors.ts";
import { opsHooks } from "../../runtime/ops/hooks.ts";
import { DEFAULT_RETRY, withRetry } from "../../runtime/ops/retry.ts";

let sys: GatewaySystem;
const statsOf = (fn: string) => sys.host.functions.get(fn)?.stats?.toJSON();
const relay = (target: string, input: unknown) => sys.post("gw_relay", { target, input });

describe("retries", () => {
  before(async () => {
    sys = await gatewaySystem();
  });
  after(() => sys.stop());

  test("with tracing and metrics off the runtime installs no hooks", () => {
    assert.equal(process.env.OTEL_EXPORTER_OTLP_ENDPOINT, undefined);
    assert.deepEqual(Object.keys(opsHooks), []);
  });

  test("ctx.call retries a 429, then reports the overloaded dependency as 503 so nobody repeats the caller", async () => {
    const holding = sys.post("gw_busy", { hold: true });
    await eventually(() => statsOf("gw_busy")?.data.in_flight === 1, 5000, "gw_busy to hold its only slot");
    const before = statsOf("gw_busy")?.data.rejected ?? 0;
    const res = await relay("gw_busy", {});
    assert.equal(res.status, 503);
    assert.match((res.json as { error: { message: string } }).error.message, /gw_busy is overloaded/);
    const rejected = (statsOf("gw_busy")?.data.rejected ?? 0) - before;
    assert.equal(rejected, DEFAULT_RETRY.attempts, "one ctx.call with every attempt refused, and the relay itself not repeated");
    releaseGwBusy();
    assert.equal((await holding).status, 200);
  });

  test("ctx.call does not retry a 503 that the called function replied with", async () => {
    const before = statsOf("gw_fail")?.num_requests ?? 0;
    const res = await relay("gw_fail", { code: 503 });
    assert.equal(res.status, 503);
    assert.equal(statsOf("gw_fail")?.num_requests, before + 1);
  });

  test("ctx.call does not retry a timeout", async () => {
    const before = statsOf("gw_hang")?.num_requests ?? 0;
    const res = await relay("gw_hang", {});
    assert.equal(res.status, 504);
    assert.equal(statsOf("gw_hang")?.num_requests, before + 1);
  });

  test("ctx.call to a function with no responders ends in 503 within the caller's deadline", async () => {
    const res = await relay("gw_nowhere", {});
    assert.equal(res.status, 503);
    assert.match((res.json as { error: { message: string } }).error.message, /gw_nowhere has no responders/);
  });

  test("a no-responders failure is retried and succeeds once the function is there", async () => {
    const attempts: number[] = [];
    const reply = await withRetry(async (n) => {
      attempts.push(n);
      if (n === 2) await sys.host.add(gwLate);
      return requestFunction(sys.nc, { subject: "fn.gw_late", fn: "gw_late", body: "{}", headers: {}, timeoutMs: 2000 });
    }, Date.now() + 5000);
    assert.deepEqual(attempts, [1, 2]);
    assert.deepEqual(reply.json(), { late: true });
  });

  test("never waits past the deadline: no retry when the wait would not leave time for the attempt", async () => {
    let calls = 0;
    await assert.rejects(
      withRetry(() => {
        calls++;
        return Promise.reject(new FunctionError(429, "full"));
      }, Date.now() + 10),
      { code: 429 },
    );
    assert.equal(calls, 1);
  });
});
