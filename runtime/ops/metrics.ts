/**
 * Prometheus metrics (prom-client) for runtime processes and the gateway. Nothing is registered or
 * recorded until `enableFunctionMetrics` or `trackConnection` is called.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { EndpointStats } from "../stats.ts";
import { opsHooks } from "./hooks.ts";
import { viewLags } from "../view.ts";

/** Latency buckets in seconds: 1 ms .. 10 s, where function latencies live. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The process-wide registry that `/metrics` serves. */
export const registry = new Registry();

// Endpoints whose in-flight count the gauge reads at scrape time (no work per request).
const liveEndpoints = new Map<EndpointStats, { fn: string; version: string }>();
let functionMetricsOn = false;

/** Starts recording per-function metrics through the dispatcher's hook; safe to call twice. */
export function enableFunctionMetrics(): void {
  if (functionMetricsOn) return;
  functionMetricsOn = true;
  const requests = new Counter({
    name: "nfn_function_requests_total",
    help: "Requests handled, any outcome",
    labelNames: ["function", "version"],
    registers: [registry],
  });
  const accepted = new Counter({
    name: "nfn_function_accepted_total",
    help: "202 replies: durable invocations accepted and still running at the caller's deadline",
    labelNames: ["function", "version"],
    registers: [registry],
  });
  const errors = new Counter({
    name: "nfn_function_errors_total",
    help: "Error replies by code",
    labelNames: ["function", "version", "code"],
    registers: [registry],
  });
  const rejected = new Counter({
    name: "nfn_function_rejected_total",
    help: "Requests refused with 429 (in-flight limit)",
    labelNames: ["function", "version"],
    registers: [registry],
  });
  const rejectedReply = new Counter({
    name: "nfn_function_rejected_reply_subject_total",
    help: "Requests dropped unanswered because their reply subject is not an inbox",
    labelNames: ["function", "version"],
    registers: [registry],
  });
  const duration = new Histogram({
    name: "nfn_function_duration_seconds",
    help: "Time from receiving a request to its reply",
    labelNames: ["function", "version"],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  new Gauge({
    name: "nfn_function_in_flight",
    help: "Requests admitted and not yet replied to",
    labelNames: ["function", "version"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [stats, labels] of liveEndpoints) this.inc({ function: labels.fn, version: labels.version }, stats.inFlight);
    },
  });
  new Gauge({
    name: "nfn_view_lag_seconds",
    help: "Local views: time from an update's write to its arrival in the view",
    labelNames: ["bucket"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [bucket, lag] of Object.entries(viewLags())) this.set({ bucket }, lag.lag_ms / 1000);
    },
  });
  new Gauge({
    name: "nfn_view_pending",
    help: "Local views: updates not yet delivered when the last one arrived",
    labelNames: ["bucket"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [bucket, lag] of Object.entries(viewLags())) this.set({ bucket }, lag.pending);
    },
  });
  opsHooks.onRejectedReply = (fn, version) => rejectedReply.inc({ function: fn, version });
  opsHooks.onRequest = (fn, version, elapsedNs, code) => {
    const labels = { function: fn, version };
    requests.inc(labels);
    duration.observe(labels, Number(elapsedNs) / 1e9);
    // 202 is a durable invocation accepted and still running, not an error.
    if (code === 202) accepted.inc(labels);
    else if (code !== undefined) {
      errors.inc({ ...labels, code: String(code) });
      if (code === 429) rejected.inc(labels);
    }
  };
}

/** Adds an endpoint to the in-flight gauge; returns the function that removes it. */
export function trackEndpoint(fn: string, version: string, stats: EndpointStats): () => void {
  liveEndpoints.set(stats, { fn, version });
  return () => liveEndpoints.delete(stats);
}

interface ConnectionMetrics {
  reconnects: Counter;
  disconnects: Counter;
}
let connectionMetrics: ConnectionMetrics | undefined;
// Tracked connections and whether each is up now; a closed one stays as down, so the series reads 0 rather than vanishing.
const connections = new Map<NatsConnection, { role: string; up: boolean }>();

/** Exports how many tracked NATS connections are up (per role) and counts their disconnects and reconnects. */
export function trackConnection(nc: NatsConnection, role: string): void {
  connectionMetrics ??= {
    reconnects: new Counter({
      name: "nfn_nats_reconnects_total",
      help: "Reconnections to NATS",
      labelNames: ["role"],
      registers: [registry],
    }),
    disconnects: new Counter({
      name: "nfn_nats_disconnects_total",
      help: "Losses of the NATS connection",
      labelNames: ["role"],
      registers: [registry],
    }),
  };
  if (!registry.getSingleMetric("nfn_nats_connected")) {
    new Gauge({
      name: "nfn_nats_connected",
      help: "NATS connections that are up (1 per process when healthy)",
      labelNames: ["role"],
      registers: [registry],
      collect() {
        this.reset();
        for (const c of connections.values()) this.inc({ role: c.role }, c.up ? 1 : 0);
      },
    });
  }
  const m = connectionMetrics;
  const entry = { role, up: !nc.isClosed() };
  connections.set(nc, entry);
  m.reconnects.inc({ role }, 0);
  m.disconnects.inc({ role }, 0);
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect") {
        entry.up = false;
        m.disconnects.inc({ role });
      } else if (s.type === "reconnect") {
        entry.up = true;
        m.reconnects.inc({ role });
      }
    }
  })().catch(() => {});
  void nc.closed().then(() => {
    entry.up = false;
  });
}

/** The text exposition of every registered metric. */
export function metricsText(): Promise<string> {
  return registry.metrics();
}

/** The Content-Type of `metricsText`. */
export const METRICS_CONTENT_TYPE = registry.contentType;
