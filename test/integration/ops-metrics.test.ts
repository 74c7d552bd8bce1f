/** /healthz, /readyz and Prometheus /metrics of a runtime process and of the gateway, checked against the traffic sent. */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { connect } from "@nats-io/transport-node";
import { eventually } from "../helpers/nats.ts";
import { type GatewaySystem, gatewaySystem } from "../fixtures/gateway-system.ts";
import { gatewayFunctions, gwLate, releaseGwBusy } from "../fixtures/gateway-functions.ts";
import { startHost } from "../../runtime/host.ts";
import { configFromEnv } from "../../runtime/config.ts";
import { createLogger } from "../../runtime/logger.ts";
import { DEFAULT_RETRY } from "../../runtime/ops/retry.ts";

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text format strictly: every line is a comment or a sample, every family has HELP and TYPE. */
function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  const typed = new Set<string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (meta) {
      if (meta[1] === "TYPE") typed.add(meta[2] ?? "");
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/.exec(line);
    assert.ok(m, `not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const pair of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1] ?? ""] = pair[2] ?? "";
    const name = m[1] ?? "";
    assert.ok(
      [...typed].some((family) => name === family || name.startsWith(`${family}_`)),
      `sample ${name} has no # TYPE`,
    );
    samples.push({ name, labels, value: Number(m[3]) });
  }
  return samples;
}

/** The sum of the series of `name` whose labels include `labels`. */
function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

let sys: GatewaySystem;
let runtimeUrl: string;
const scrape = async (base: string) => {
  const res = await fetch(`${base}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /text\/plain/);
  return parseMetrics(await res.text());
};

describe("ops: health and metrics", () => {
  before(async () => {
    sys = await gatewaySystem({ opsPort: 0 });
    runtimeUrl = `http://127.0.0.1:${sys.host.ops?.port ?? 0}`;
  });
  after(() => sys.stop());

  test("a runtime process with NFN_HTTP_PORT answers /healthz and /readyz", async () => {
    assert.equal((await fetch(`${runtimeUrl}/healthz`)).status, 200);
    const ready = await fetch(`${runtimeUrl}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { ready: true, nats: "connected", functions: gatewayFunctions.length, reasons: [] });
  });

  test("/readyz is 503 with the reason until a function is registered, and when NATS is gone", async () => {
    const nc = await connect({ servers: sys.server.url });
    const config = { ...configFromEnv({ NATS_URL: sys.server.url }), logLevel: "silent" as const };
    const empty = await startHost([], { nc, config, log: createLogger({}, "silent"), opsPort: 0 });
    const url = `http://127.0.0.1:${empty.ops?.port ?? 0}/readyz`;
    try {
      const before = await fetch(url);
      assert.equal(before.status, 503);
      assert.deepEqual(((await before.json()) as { reasons: string[] }).reasons, ["0 functions registered, 1 needed"]);
      await empty.add(gwLate);
      assert.equal((await fetch(url)).status, 200);
      await nc.close();
      const closed = await fetch(url);
      assert.equal(closed.status, 503);
      assert.deepEqual(((await closed.json()) as { reasons: string[] }).reasons, ["NATS connection is closed"]);
    } finally {
      await empty.stop(500);
      if (!nc.isClosed()) await nc.close();
    }
  });

  test("the gateway answers /healthz and /readyz", async () => {
    assert.equal((await fetch(`${sys.gateway.url}/healthz`)).status, 200);
    const ready = await fetch(`${sys.gateway.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.equal(((await ready.json()) as { nats: string }).nats, "connected");
  });

  test("/metrics counts requests, errors by code and latency exactly as sent", async () => {
    const sends = [
      ...Array.from({ length: 5 }, () => ["gw_echo", { text: "ok" }, 200] as const),
      ...Array.from({ length: 2 }, () => ["gw_echo", { text: "" }, 400] as const),
      ...Array.from({ length: 3 }, () => ["gw_fail", { code: 409 }, 409] as const),
      ["gw_fail", { code: 500 }, 500] as const,
    ];
    for (const [fn, body, status] of sends) assert.equal((await sys.post(fn, body)).status, status);

    const m = await scrape(runtimeUrl);
    const echo = { function: "gw_echo", version: "1.0.0" };
    assert.equal(value(m, "nfn_function_requests_total", echo), 7);
    assert.equal(value(m, "nfn_function_errors_total", { ...echo, code: "400" }), 2);
    assert.equal(value(m, "nfn_function_errors_total", { function: "gw_fail", code: "409" }), 3);
    assert.equal(value(m, "nfn_function_errors_total", { function: "gw_fail", code: "500" }), 1);
    assert.equal(value(m, "nfn_function_duration_seconds_count", echo), 7);
    assert.ok(value(m, "nfn_function_duration_seconds_sum", echo) > 0);
    assert.equal(value(m, "nfn_function_duration_seconds_bucket", { ...echo, le: "+Inf" }), 7);
    assert.equal(value(m, "nfn_nats_connected", { role: "runtime" }), 1);
    assert.equal(value(m, "nfn_nats_reconnects_total", { role: "runtime" }), 0);

    const g = await scrape(sys.gateway.url);
    assert.equal(value(g, "nfn_gateway_requests_total", { function: "gw_echo", status: "200" }), 5);
    assert.equal(value(g, "nfn_gateway_requests_total", { function: "gw_echo", status: "400" }), 2);
    assert.equal(value(g, "nfn_gateway_requests_total", { function: "gw_fail", status: "409" }), 3);
    assert.equal(value(g, "nfn_gateway_request_duration_seconds_count", { function: "gw_fail" }), 4);
    assert.equal((await sys.post("no_such_fn", {})).status, 404);
    const after = await scrape(sys.gateway.url);
    assert.equal(value(after, "nfn_gateway_requests_total", { function: "(unknown)", status: "404" }), 1, "unknown names share one label");
    assert.equal(value(after, "nfn_gateway_requests_total", { function: "no_such_fn" }), 0);
    assert.equal(value(g, "nfn_nats_connected", { role: "gateway" }), 1);
  });

  test("/metrics shows requests in flight and the rejected ones, and the gateway's retries", async () => {
    const holding = sys.post("gw_busy", { hold: true });
    const busy = { function: "gw_busy", version: "1.0.0" };
    await eventually(async () => value(await scrape(runtimeUrl), "nfn_function_in_flight", busy) === 1, 5000, "gw_busy in flight = 1");
    assert.equal((await sys.post("gw_busy", {})).status, 429);
    const m = await scrape(runtimeUrl);
    assert.equal(value(m, "nfn_function_rejected_total", busy), DEFAULT_RETRY.attempts);
    assert.equal(value(m, "nfn_function_errors_total", { ...busy, code: "429" }), DEFAULT_RETRY.attempts);
    assert.equal(value(m, "nfn_gateway_retries_total", { function: "gw_busy", reason: "overloaded" }), DEFAULT_RETRY.attempts - 1);
    releaseGwBusy();
    assert.equal((await holding).status, 200);
    assert.equal(value(await scrape(runtimeUrl), "nfn_function_in_flight", busy), 0);
  });
});
