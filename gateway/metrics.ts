/** The gateway's own Prometheus metrics, on the process registry that `/metrics` serves. */
import { Counter, Histogram } from "prom-client";
import { LATENCY_BUCKETS, registry } from "../runtime/ops/metrics.ts";

/** Counters and histograms of HTTP invocations. */
export interface GatewayMetrics {
  requests: Counter<"function" | "status">;
  duration: Histogram<"function">;
  retries: Counter<"function" | "reason">;
}

let metrics: GatewayMetrics | undefined;

/** The gateway metrics, registered on first use (several gateways in one process share them). */
export function gatewayMetrics(): GatewayMetrics {
  metrics ??= {
    requests: new Counter({
      name: "nfn_gateway_requests_total",
      help: "HTTP invocations by function and status",
      labelNames: ["function", "status"],
      registers: [registry],
    }),
    duration: new Histogram({
      name: "nfn_gateway_request_duration_seconds",
      help: "Time from receiving an HTTP invocation to its response",
      labelNames: ["function"],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    retries: new Counter({
      name: "nfn_gateway_retries_total",
      help: "Retried NATS requests (429, no responders)",
      labelNames: ["function", "reason"],
      registers: [registry],
    }),
  };
  return metrics;
}
