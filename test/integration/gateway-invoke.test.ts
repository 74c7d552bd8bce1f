/** The HTTP gateway against a real nats-server: round trips for every error class, pass-through headers, retries, discovery. */
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { after, before, describe, test } from "node:test";
import { eventually } from "../helpers/nats.ts";
import { type GatewaySystem, gatewaySystem } from "../fixtures/gateway-system.ts";
import { gwLate, releaseGwBusy } from "../fixtures/gateway-functions.ts";
import { DEFAULT_RETRY } from "../../runtime/ops/retry.ts";

let sys: GatewaySystem;
const requestsOf = (fn: string) => sys.host.functions.get(fn)?.stats?.toJSON().num_requests ?? -1;

describe("gateway: POST /fn/<name>", () => {
  before(async () => {
    sys = await gatewaySystem();
  });
  after(() => sys.stop());

  test("returns the function's reply with 200 and passes Authorization, Idempotency-Key and traceparent through", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const res = await sys.post(
      "gw_echo",
      { text: "hi" },
      {
        authorization: "Bearer abc.def.ghi",
        "idempotency-key": "key-1",
        traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
      },
    );
    assert.equal(res.status, 200);
    assert.deepEqual(res.json, {
      text: "hi",
      authorization: "Bearer abc.def.ghi",
      idempotencyKey: "key-1",
      traceId,
      correlationId: (res.json as { correlationId: string }).correlationId,
    });
    assert.match(res.headers.get("traceparent") ?? "", new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
  });

  test("relays the function's reply byte for byte (non-ASCII text included) and keeps it in the request log", async () => {
    const traceId = "5ce0e9a56015fec5aadfa328ae398115";
    const text = 'żółć € 𝄞 "quoted" \u2028';
    const res = await fetch(`${sys.gateway.url}/fn/gw_echo`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "nfn-correlation-id": "edge-bytes-1",
        traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
      },
      body: JSON.stringify({ text }),
    });
    assert.equal(res.status, 200);
    const bytes = Buffer.from(await res.arrayBuffer());
    const expected = { text, authorization: null, idempotencyKey: null, traceId, correlationId: "edge-bytes-1" };
    assert.equal(bytes.toString("utf8"), JSON.stringify(expected));
    assert.equal(Number(res.headers.get("content-length")), bytes.length);
    for (const id of ["edge-bytes-1", traceId]) {
      const trace = (await (await fetch(`${sys.gateway.url}/dashboard/trace/${id}`)).json()) as {
        steps: { kind: string; fn: string; status: number }[];
      };
      assert.deepEqual(
        trace.steps.filter((s) => s.kind === "request").map((s) => [s.fn, s.status]),
        [["gw_echo", 200]],
        `the request log finds the invocation by ${id}`,
      );
    }
  });

  test("rejects a body that fails the request schema with 400 and the function's details", async () => {
    const res = await sys.post("gw_echo", { text: "" });
    assert.equal(res.status, 400);
    const body = res.json as { error: { type: string; details: { path: string }[] } };
    assert.equal(body.error.type, "VALIDATION");
    assert.equal(body.error.details[0]?.path, "/text");
  });

  test("rejects a body that is not JSON with 400", async () => {
    const res = await sys.post("gw_echo", "{not json");
    assert.equal(res.status, 400);
  });

  for (const code of [402, 404, 409, 503]) {
    test(`turns a ${code} reply into HTTP ${code} with the same JSON body`, async () => {
      const res = await sys.post("gw_fail", { code });
      assert.equal(res.status, code);
      assert.deepEqual(res.json, {
        error: {
          code,
          type: (res.json as { error: { type: string } }).error.type,
          message: `failed on purpose with ${code}`,
          details: [{ reason: "asked" }],
        },
      });
    });
  }

  test("turns a crash into a generic 500 that leaks nothing", async () => {
    const res = await sys.post("gw_fail", { code: 500 });
    assert.equal(res.status, 500);
    assert.deepEqual(res.json, { error: { code: 500, type: "INTERNAL", message: "internal error" } });
  });

  test("does not retry a 503 that a function replied with (it ran)", async () => {
    const before = requestsOf("gw_fail");
    assert.equal((await sys.post("gw_fail", { code: 503 })).status, 503);
    assert.equal(requestsOf("gw_fail"), before + 1);
  });

  test("replies 504 for a function that hangs, and does not retry it", async () => {
    const before = requestsOf("gw_hang");
    const res = await sys.post("gw_hang", {});
    assert.equal(res.status, 504);
    assert.equal((res.json as { error: { type: string } }).error.type, "TIMEOUT");
    assert.equal(requestsOf("gw_hang"), before + 1);
  });

  test("replies 404 for a function that is not deployed", async () => {
    const res = await sys.post("gw_missing", { x: 1 });
    assert.equal(res.status, 404);
    assert.match((res.json as { error: { message: string } }).error.message, /no public function gw_missing is deployed/);
  });

  test("refuses a body over the function's limit with 413 before it reaches NATS; exactly the limit passes", async () => {
    const before = requestsOf("gw_echo");
    const over = await sys.post("gw_echo", { text: "x".repeat(2000) });
    assert.equal(over.status, 413);
    assert.equal((over.json as { error: { type: string } }).error.type, "PAYLOAD_TOO_LARGE");
    assert.equal(requestsOf("gw_echo"), before, "the oversized body must not reach the function");
    const exact = JSON.stringify({ text: "y".repeat(1024 - 11) });
    assert.equal(Buffer.byteLength(exact), 1024);
    assert.equal((await sys.post("gw_echo", exact)).status, 200);
  });

  test("refuses a chunked body (no Content-Length) with 413 once it passes the limit, before it reaches NATS", async () => {
    const before = requestsOf("gw_echo");
    const url = new URL(sys.gateway.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          method: "POST",
          path: "/fn/gw_echo",
          headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.once("error", reject);
      // One write, so the server has read everything when it answers and closes.
      req.end(`{"text":"${"x".repeat(1600)}"}`);
    });
    assert.equal(status, 413);
    assert.equal(requestsOf("gw_echo"), before, "the oversized body must not reach the function");
    assert.equal((await sys.post("gw_echo", { text: "after" })).status, 200);
  });

  test("retries 429 with backoff, then gives the client 429 when the function stays full", async () => {
    const holding = sys.post("gw_busy", { hold: true });
    await eventually(() => sys.host.functions.get("gw_busy")?.stats?.inFlight === 1, 5000, "gw_busy to hold its only slot");
    const rejectedBefore = sys.host.functions.get("gw_busy")?.stats?.toJSON().data.rejected ?? 0;
    const res = await sys.post("gw_busy", {});
    assert.equal(res.status, 429);
    assert.equal((res.json as { error: { type: string } }).error.type, "OVERLOADED");
    const rejected = (sys.host.functions.get("gw_busy")?.stats?.toJSON().data.rejected ?? 0) - rejectedBefore;
    assert.equal(rejected, DEFAULT_RETRY.attempts, "every attempt of the gateway reached the function and was refused");
    releaseGwBusy();
    assert.equal((await holding).status, 200);
  });

  test("answers other methods on /fn/<name> with 405 and unknown routes with 404", async () => {
    assert.equal((await fetch(`${sys.gateway.url}/fn/gw_echo`)).status, 405);
    assert.equal((await fetch(`${sys.gateway.url}/nope`)).status, 404);
  });

  test("finds a function deployed after the gateway started, without a restart", async () => {
    assert.equal((await sys.post("gw_late", {})).status, 404);
    await sys.host.add(gwLate);
    const res = await eventually(
      async () => {
        const r = await sys.post("gw_late", {});
        return r.status === 200 ? r : undefined;
      },
      8000,
      "gw_late to be routed",
    );
    assert.deepEqual(res.json, { late: true });
  });
});
