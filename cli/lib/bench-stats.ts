/** Latency and outcome bookkeeping for `nfn bench`. */

/** What a bench run measured. */
export interface BenchSummary {
  fn: string;
  concurrency: number;
  durationMs: number;
  requests: number;
  ok: number;
  requestsPerSecond: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** Failed requests by outcome: a contract code ("409"), "timeout" or "no_responders". */
  errors: Record<string, number>;
}

/** Collects one entry per finished request. */
export class BenchRecorder {
  private readonly latenciesNs: number[] = [];
  readonly errors: Record<string, number> = {};
  requests = 0;

  /** A finished request that took `ns`; `error` names its failure. */
  record(ns: number, error?: string): void {
    this.requests++;
    this.latenciesNs.push(ns);
    if (error) this.errors[error] = (this.errors[error] ?? 0) + 1;
  }

  /** Requests that failed. */
  get failed(): number {
    return Object.values(this.errors).reduce((a, b) => a + b, 0);
  }

  /** The summary over everything recorded in `durationMs`. */
  summary(fn: string, concurrency: number, durationMs: number): BenchSummary {
    const sorted = Float64Array.from(this.latenciesNs).sort();
    const at = (q: number) =>
      sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0) / 1e6;
    const round = (n: number) => Math.round(n * 1000) / 1000;
    return {
      fn,
      concurrency,
      durationMs: Math.round(durationMs),
      requests: this.requests,
      ok: this.requests - this.failed,
      requestsPerSecond: durationMs > 0 ? Math.round((this.requests / durationMs) * 1000 * 10) / 10 : 0,
      latencyMs: { p50: round(at(0.5)), p90: round(at(0.9)), p99: round(at(0.99)), max: round(at(1)) },
      errors: { ...this.errors },
    };
  }
}
