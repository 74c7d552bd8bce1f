/** The gateway's own Prometheus metrics, on the process registry that `/metrics` serves, and its event-loop delay. */
import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";
import { Counter, Gauge, Histogram } from "prom-client";
import { LATENCY_BUCKETS, registry } from "../runtime/ops/metrics.ts";

/** What the invoke path records; label children are cached so a request costs no label hashing. */
export interface InvocationMetrics {
  /** One finished invocation. */
  observe(fn: string, status: number, seconds: number): void;
  /** One retried NATS request. */
  retried(fn: string, reason: "overloaded" | "no_responders"): void;
}

let metrics: InvocationMetrics | undefined;
let loopDelay: IntervalHistogram | undefined;

type CounterChild = ReturnType<Counter<string>["labels"]>;
type HistogramChild = ReturnType<Histogram<string>["labels"]>;

/** The gateway metrics, registered on first use (several gateways in one process share them). */
export function gatewayMetrics(): InvocationMetrics {
  if (metrics) return metrics;
  const requests = new Counter({
    name: "nfn_gateway_requests_total",
    help: "HTTP invocations by function and status",
    labelNames: ["function", "status"],
    registers: [registry],
  });
  const duration = new Histogram({
    name: "nfn_gateway_request_duration_seconds",
    help: "Time from receiving an HTTP invocation to its response",
    labelNames: ["function"],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const retries = new Counter({
    name: "nfn_gateway_retries_total",
    help: "Retried NATS requests (429, no responders)",
    labelNames: ["function", "reason"],
    registers: [registry],
  });
  const requestChildren = new Map<string, CounterChild>();
  const durationChildren = new Map<string, HistogramChild>();
  metrics = {
    observe(fn, status, seconds) {
      const key = `${fn} ${status}`;
      let counter = requestChildren.get(key);
      if (!counter) requestChildren.set(key, (counter = requests.labels(fn, String(status))));
      counter.inc();
      let histogram = durationChildren.get(fn);
      if (!histogram) durationChildren.set(fn, (histogram = duration.labels(fn)));
      histogram.observe(seconds);
    },
    retried(fn, reason) {
      retries.inc({ function: fn, reason });
    },
  };
  return metrics;
}

/**
 * Starts sampling the event loop's delay (perf_hooks, 10 ms resolution) and exports it as
 * `nfn_gateway_event_loop_delay_seconds{quantile}`: a loop that blocks shows here before it shows as latency.
 */
export function trackEventLoopDelay(): void {
  if (loopDelay) return;
  const h = monitorEventLoopDelay({ resolution: 10 });
  h.enable();
  loopDelay = h;
  new Gauge({
    name: "nfn_gateway_event_loop_delay_seconds",
    help: "Event-loop delay of the gateway process since the previous scrape (p50, p99, max)",
    labelNames: ["quantile"],
    registers: [registry],
    collect() {
      this.set({ quantile: "0.5" }, h.percentile(50) / 1e9);
      this.set({ quantile: "0.99" }, h.percentile(99) / 1e9);
      this.set({ quantile: "1" }, h.max / 1e9);
      h.reset();
    },
  });
}
