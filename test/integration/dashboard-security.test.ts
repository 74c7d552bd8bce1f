/**
 * Who sees what on the dashboard: on loopback anyone gets the page data without order ids,
 * customer ids, correlation ids or error texts, and an `nfn:admin` token gets everything; bound
 * beyond loopback every dashboard route needs that token (401 without, 403 with another scope);
 * dead-letter replay always does, and a refused replay changes nothing.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type GatewaySystem, gatewaySystem } from "../fixtures/gateway-system.ts";
import { DURABLE_SECRET, type DashboardExtras, dashboardExtras } from "../fixtures/dashboard-system.ts";
import { eventually, natsClient } from "../helpers/nats.ts";
import { type Gateway, startGateway } from "../../gateway/server.ts";
import { discoverInfo } from "../../runtime/client/index.ts";

const SECRET_ORDER = "order-secret-4711";
const SECRET_CORRELATION = "corr-secret-0815";
const DURABLE_KEY = "durable-key-5150";
const DURABLE_CORRELATION = "durable-corr-5150";
let sys: GatewaySystem;
let extras: DashboardExtras;
let open: Gateway;
const openConn = { close: async () => {} };

interface TraceRunShape {
  id?: string;
  fn: string;
  status: string;
  input?: unknown;
  steps: { name: string; kind: string; status: string; attempts: number; ms: number; startedAt: number; result?: unknown }[];
}

async function get(base: string, path: string, token?: string, method = "GET") {
  const res = await fetch(`${base}${path}`, { method, headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, text: await res.text() };
}

async function dlqCount(): Promise<number> {
  const r = await get(sys.gateway.url, "/dashboard/dlq", extras.tokens.admin);
  return (JSON.parse(r.text) as { total: number }).total;
}

describe("dashboard access and redaction", () => {
  before(async () => {
    sys = await gatewaySystem({ dashboardMs: 100 });
    extras = await dashboardExtras(sys);
    // A second gateway on every interface: the dashboard must then require the admin token.
    const nc = await natsClient({ after: (fn: () => unknown) => void (openConn.close = async () => void (await fn())) }, sys.server);
    open = await startGateway({ nc, host: "0.0.0.0", port: 0, dashboardMs: 100 });
    // Traffic that leaves ids and an error text behind: a cancelled order (parked by gw_parker) and a 409.
    assert.equal(
      (await sys.post("gw_order", { orderId: SECRET_ORDER, outcome: "out_of_stock" }, { "Nfn-Correlation-Id": SECRET_CORRELATION })).status,
      200,
    );
    assert.equal((await sys.post("gw_fail", { code: 409 })).status, 409);
    const durable = await sys.post("gw_durable", { qty: 3 }, { "Idempotency-Key": DURABLE_KEY, "Nfn-Correlation-Id": DURABLE_CORRELATION });
    assert.equal(durable.status, 200, JSON.stringify(durable.json));
    await eventually(async () => (await dlqCount()) === 1, 15_000, "the cancelled order to be parked");
    await eventually(
      async () => {
        const text = (await get(sys.gateway.url, "/dashboard/snapshot", extras.tokens.admin)).text;
        return text.includes(SECRET_ORDER) && text.includes("failed on purpose") && text.includes(SECRET_CORRELATION);
      },
      15_000,
      "the admin snapshot to show the order, the correlation id and the error",
    );
  });
  after(async () => {
    await open?.close();
    await openConn.close();
    await extras?.host.stop(1000);
    await sys?.stop();
  });

  it("on loopback, a snapshot without a token carries no order id, correlation id or error text", async () => {
    const r = await get(sys.gateway.url, "/dashboard/snapshot");
    assert.equal(r.status, 200);
    const snap = JSON.parse(r.text) as { full: boolean; functions: { name: string; lastError: string }[] };
    assert.equal(snap.full, false);
    assert.ok(!r.text.includes(SECRET_ORDER), "no order id");
    assert.ok(!r.text.includes(SECRET_CORRELATION), "no correlation id");
    assert.ok(!r.text.includes("failed on purpose"), "no error text");
    assert.equal(snap.functions.find((f) => f.name === "gw_fail")?.lastError, "409", "the code stays");
  });

  it("on loopback, the live stream, trace and dead letters are redacted the same way", async () => {
    const stream = await fetch(`${sys.gateway.url}/dashboard/stream`);
    const reader = stream.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    assert.match(first, /event: snapshot/);
    assert.ok(!first.includes(SECRET_ORDER) && !first.includes("failed on purpose"));
    const trace = await get(sys.gateway.url, `/dashboard/trace/${SECRET_CORRELATION}`);
    assert.equal(trace.status, 200);
    assert.match(trace.text, /order\.cancelled/);
    assert.ok(!trace.text.includes(SECRET_ORDER), "trace without the order id");
    const dlq = await get(sys.gateway.url, "/dashboard/dlq");
    assert.equal(dlq.status, 200);
    assert.ok(!dlq.text.includes(SECRET_ORDER) && !dlq.text.includes("provider is down"), "dead letters without ids or error text");
  });

  it("a token without nfn:admin sees the public view; a bad token is refused with 401", async () => {
    const viewer = await get(sys.gateway.url, "/dashboard/snapshot", extras.tokens.viewer);
    assert.equal(viewer.status, 200);
    assert.ok(!viewer.text.includes(SECRET_ORDER));
    assert.equal((await get(sys.gateway.url, "/dashboard/snapshot", "not-a-jwt")).status, 401);
  });

  it("an admin token sees ids, error texts and event data", async () => {
    const trace = await get(sys.gateway.url, `/dashboard/trace/${SECRET_CORRELATION}`, extras.tokens.admin);
    const body = JSON.parse(trace.text) as { steps: { kind: string; aggregateId?: string; fn: string; status?: number }[] };
    assert.deepEqual(
      body.steps.map((s) => [s.kind, s.fn]),
      [
        ["request", "gw_order"],
        ["event", "gw_order"],
      ],
    );
    assert.equal(body.steps[1]?.aggregateId, SECRET_ORDER);
    const dlq = await get(sys.gateway.url, "/dashboard/dlq", extras.tokens.admin);
    assert.match(dlq.text, /provider is down/);
  });

  it("replay needs the admin token even on loopback, and a refused replay leaves the letter parked", async () => {
    const letters = JSON.parse((await get(sys.gateway.url, "/dashboard/dlq", extras.tokens.admin)).text) as { letters: { seq: number }[] };
    const seq = letters.letters[0]?.seq;
    assert.ok(seq);
    assert.equal((await get(sys.gateway.url, `/dashboard/dlq/${seq}/replay`, undefined, "POST")).status, 401);
    assert.equal((await get(sys.gateway.url, `/dashboard/dlq/${seq}/replay`, extras.tokens.viewer, "POST")).status, 403);
    assert.equal(
      (await get(open.url.replace("0.0.0.0", "127.0.0.1"), `/dashboard/dlq/${seq}/replay`, extras.tokens.viewer, "POST")).status,
      403,
    );
    assert.equal(await dlqCount(), 1);
    assert.equal(extras.handled.length, 0);
  });

  it("an admin replay republishes the event to its consumer and removes the letter", async () => {
    const letters = JSON.parse((await get(sys.gateway.url, "/dashboard/dlq", extras.tokens.admin)).text) as { letters: { seq: number }[] };
    const seq = letters.letters[0]?.seq;
    extras.heal();
    const r = await get(sys.gateway.url, `/dashboard/dlq/${seq}/replay`, extras.tokens.admin, "POST");
    assert.equal(r.status, 200, r.text);
    await eventually(() => extras.handled.length === 1, 15_000, "gw_parker to get the replayed event");
    assert.equal(extras.handled[0]?.aggregateId, SECRET_ORDER);
    assert.equal(await dlqCount(), 0);
    assert.equal((await get(sys.gateway.url, `/dashboard/dlq/${seq}/replay`, extras.tokens.admin, "POST")).status, 404);
  });

  it("bound beyond loopback, every dashboard route needs an nfn:admin token", async () => {
    const base = open.url.replace("0.0.0.0", "127.0.0.1");
    for (const path of [
      "/dashboard/snapshot",
      "/dashboard/stream",
      "/dashboard/functions",
      "/dashboard/latency",
      "/dashboard/dlq",
      `/dashboard/trace/${SECRET_CORRELATION}`,
      `/dashboard/trace/${DURABLE_KEY}`,
    ]) {
      const anonymous = await get(base, path);
      assert.equal(anonymous.status, 401, path);
      assert.ok(!anonymous.text.includes(SECRET_ORDER));
      assert.ok(!anonymous.text.includes(DURABLE_SECRET));
      assert.equal((await get(base, path, extras.tokens.viewer)).status, 403, path);
    }
    assert.equal((await get(base, "/dashboard/snapshot", extras.tokens.admin)).status, 200);
  });

  it("an admin's trace of a durable operation shows each journaled step with its result", async () => {
    const r = await get(sys.gateway.url, `/dashboard/trace/${DURABLE_CORRELATION}`, extras.tokens.admin);
    assert.equal(r.status, 200);
    const trace = JSON.parse(r.text) as { steps: { fn: string }[]; durable: { runs: TraceRunShape[]; unavailable?: string } };
    assert.equal(trace.durable.unavailable, undefined);
    assert.equal(trace.durable.runs.length, 1);
    const run = trace.durable.runs[0] as TraceRunShape;
    assert.equal(run.id, DURABLE_KEY);
    assert.equal(run.fn, "gw_durable");
    assert.equal(run.status, "done");
    assert.deepEqual(run.input, { qty: 3 });
    assert.deepEqual(
      run.steps.map((s) => [s.name, s.kind, s.status, s.attempts]),
      [
        ["quote", "step", "done", 1],
        ["sleep", "sleep", "done", 1],
        ["confirm", "step", "done", 1],
      ],
    );
    assert.deepEqual(run.steps[0]?.result, { totalCents: 3897, note: DURABLE_SECRET });
    assert.ok(run.steps.every((s) => typeof s.ms === "number" && typeof s.startedAt === "number"));
    // The invocation id alone finds it too (the id a 202 reply names).
    const byId = JSON.parse((await get(sys.gateway.url, `/dashboard/trace/${DURABLE_KEY}`, extras.tokens.admin)).text) as {
      durable: { runs: TraceRunShape[] };
    };
    assert.equal(byId.durable.runs[0]?.id, DURABLE_KEY);
  });

  it("without an admin token, a durable trace shows step names and statuses but no input, result or id", async () => {
    for (const token of [undefined, extras.tokens.viewer]) {
      const r = await get(sys.gateway.url, `/dashboard/trace/${DURABLE_KEY}`, token);
      assert.equal(r.status, 200);
      assert.ok(!r.text.includes(DURABLE_SECRET), "no step result");
      assert.ok(!r.text.includes('"qty"'), "no input");
      const { durable } = JSON.parse(r.text) as { durable: { runs: TraceRunShape[] } };
      // The trace echoes the key it was asked for; the journal's part names no id.
      assert.ok(!JSON.stringify(durable).includes(DURABLE_KEY), "no invocation id");
      const run = durable.runs[0];
      assert.deepEqual(
        run?.steps.map((s) => s.name),
        ["quote", "sleep", "confirm"],
      );
    }
    // The snapshot's request list leaves the Idempotency-Key out as well.
    assert.ok(!(await get(sys.gateway.url, "/dashboard/snapshot")).text.includes(DURABLE_KEY));
  });

  it("lists an internal function with its bundle hash, though the gateway does not route to it", async () => {
    const infos = await discoverInfo(sys.nc, { timeoutMs: 800, stallMs: 150 });
    const bundleOf = (name: string) => infos.find((i) => i.name === name)?.endpoints[0]?.metadata.bundle_sha256;
    assert.ok(bundleOf("gw_internal"), "gw_internal advertises a bundle hash");
    await eventually(
      async () => {
        const snap = JSON.parse((await get(sys.gateway.url, "/dashboard/snapshot", extras.tokens.admin)).text) as {
          functions: { name: string; bundles: string[] }[];
        };
        const f = snap.functions.find((x) => x.name === "gw_internal");
        return f !== undefined && f.bundles.length === 1 && f.bundles[0] !== "?" && f.bundles[0] === bundleOf("gw_internal");
      },
      20_000,
      "gw_internal with a sha256 bundle hash on the dashboard",
    );
    assert.equal((await sys.post("gw_internal", {})).status, 404, "the gateway still does not serve it");
  });

  it("refuses a trace key that is not an id with 400, without echoing it", async () => {
    const long = "x".repeat(200);
    const r = await get(sys.gateway.url, `/dashboard/trace/${long}`);
    assert.equal(r.status, 400);
    assert.ok(!r.text.includes(long));
    assert.equal((await get(sys.gateway.url, "/dashboard/dlq/abc/replay", extras.tokens.admin, "POST")).status, 400);
  });
});
