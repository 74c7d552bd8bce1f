/**
 * Traces: a traceparent sent over HTTP is continued by the gateway, through two nested calls, into
 * the event's traceparent header; with OTEL_EXPORTER_OTLP_ENDPOINT set, the spans of that request
 * arrive at an OTLP/HTTP collector (a local one here) with the same ids and parent links.
 */
import assert from "node:assert/strict";
import { type IncomingMessage, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import { jetstreamManager } from "@nats-io/jetstream";
import { eventually } from "../helpers/nats.ts";
import { type GatewaySystem, gatewaySystem } from "../fixtures/gateway-system.ts";
import { flushTracing } from "../../runtime/ops/tracing.ts";
import { gwFail } from "../fixtures/gateway-functions.ts";
import { requestFunction } from "../../runtime/client/index.ts";
import { configFromEnv } from "../../runtime/config.ts";
import { startHost } from "../../runtime/host.ts";
import { createLogger } from "../../runtime/logger.ts";

interface ExportedSpan {
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
}

const spans: ExportedSpan[] = [];
const collector = createServer((req, res) => {
  void readAll(req).then((text) => {
    if (req.url === "/v1/traces") spans.push(...spansIn(JSON.parse(text)));
    res.writeHead(200, { "content-type": "application/json" });
    res.end("{}");
  });
});

function readAll(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    req.on("data", (c: Buffer) => (text += c.toString()));
    req.on("end", () => resolve(text));
  });
}

// OTLP/JSON carries ids as hex (or base64 in older encoders); normalise to hex.
const hex = (id: unknown) =>
  typeof id !== "string" || id === "" ? "" : /^[0-9a-f]+$/.test(id) ? id : Buffer.from(id, "base64").toString("hex");

function spansIn(body: unknown): ExportedSpan[] {
  const out: ExportedSpan[] = [];
  const resourceSpans = (body as { resourceSpans?: { scopeSpans?: { spans?: Record<string, unknown>[] }[] }[] }).resourceSpans ?? [];
  for (const rs of resourceSpans)
    for (const ss of rs.scopeSpans ?? [])
      for (const s of ss.spans ?? [])
        out.push({ name: String(s.name), traceId: hex(s.traceId), spanId: hex(s.spanId), parentSpanId: hex(s.parentSpanId) });
  return out;
}

let sys: GatewaySystem;
const TRACE = "0af7651916cd43dd8448eb211c80319c";
const CLIENT_SPAN = "b7ad6b7169203331";

describe("traces across HTTP, nested calls and events", () => {
  before(async () => {
    await new Promise<void>((resolve) => collector.listen(0, "127.0.0.1", resolve));
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    sys = await gatewaySystem();
  });
  after(async () => {
    await sys.stop();
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    await new Promise((resolve) => collector.close(resolve));
  });

  test("continues the HTTP traceparent through two nested calls into the event's traceparent", async () => {
    const res = await sys.post("gw_chain_a", { orderId: "o-trace-1" }, { traceparent: `00-${TRACE}-${CLIENT_SPAN}-01` });
    assert.equal(res.status, 200);
    const body = res.json as { a: string; b: { b: string; order: { traceId: string; eventId: string } } };
    assert.equal(body.a, TRACE);
    assert.equal(body.b.b, TRACE);
    assert.equal(body.b.order.traceId, TRACE);
    const jsm = await jetstreamManager(sys.nc);
    const stored = await jsm.streams.getMessage("EVENTS", { last_by_subj: "events.order.confirmed" });
    assert.ok(stored, "the event is in the EVENTS stream");
    assert.equal((stored.json() as { eventId: string }).eventId, body.b.order.eventId);
    assert.match(stored.header.get("traceparent"), new RegExp(`^00-${TRACE}-[0-9a-f]{16}-01$`));
  });

  test("exports one span per hop over OTLP/HTTP with the ids the headers carried", async () => {
    await flushTracing();
    const mine = await eventually(
      () => {
        const found = spans.filter((s) => s.traceId === TRACE);
        return found.length >= 6 ? found : undefined;
      },
      10_000,
      "six spans of the trace at the collector",
    );
    const byName = new Map(mine.map((s) => [s.name, s]));
    const chain = ["POST /fn/gw_chain_a", "invoke gw_chain_a", "call gw_chain_b", "invoke gw_chain_b", "call gw_order", "invoke gw_order"];
    assert.deepEqual([...byName.keys()].sort(), [...chain].sort());
    assert.equal(byName.get(chain[0] ?? "")?.parentSpanId, CLIENT_SPAN, "the gateway span continues the client's span");
    for (let i = 1; i < chain.length; i++) {
      assert.equal(
        byName.get(chain[i] ?? "")?.parentSpanId,
        byName.get(chain[i - 1] ?? "")?.spanId,
        `${chain[i]} is a child of ${chain[i - 1]}`,
      );
    }
    const jsm = await jetstreamManager(sys.nc);
    const stored = await jsm.streams.getMessage("EVENTS", { last_by_subj: "events.order.confirmed" });
    assert.equal(
      stored?.header.get("traceparent").split("-")[2],
      byName.get("invoke gw_order")?.spanId,
      "the event names the span that emitted it",
    );
  });

  test("logs a failed request as one JSON line with function, version, traceId and correlationId", async () => {
    const lines: string[] = [];
    const config = { ...configFromEnv({ NATS_URL: sys.server.url, NFN_SUBJECT_PREFIX: "logs" }), logLevel: "info" as const };
    const host = await startHost([gwFail], { nc: sys.nc, config, log: createLogger({}, "info", (line) => void lines.push(line)) });
    try {
      const headers = { traceparent: `00-${TRACE}-${CLIENT_SPAN}-01`, "Nfn-Correlation-Id": "corr-42" };
      await requestFunction(sys.nc, { subject: "logs.gw_fail", fn: "gw_fail", body: '{"code":500}', headers, timeoutMs: 2000 });
      const failed = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === "request failed");
      assert.ok(failed, lines.join(""));
      assert.equal(failed.level, "error");
      assert.deepEqual([failed.fn, failed.version, failed.traceId, failed.correlationId], ["gw_fail", "1.0.0", TRACE, "corr-42"]);
    } finally {
      await host.stop(500);
    }
  });
});
