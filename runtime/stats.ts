/**
 * Exact per-endpoint statistics in the ADR-32 STATS shape: integer nanoseconds, every error counted.
 * A 202 `ACCEPTED` reply (a durable invocation still running) travels like an error but is not
 * one: it is counted apart, in `data.accepted`.
 */
import { type ViewLag, viewLags } from "./view.ts";
import { type KeyedCounters, keyedStats } from "./keyed.ts";

/** How many recent request durations the latency percentiles are computed over. */
export const LATENCY_WINDOW = 4096;

/** The endpoint `data` object of a STATS reply. */
export interface EndpointStatsData {
  p50_ns: number;
  p90_ns: number;
  p99_ns: number;
  in_flight: number;
  rejected: number;
  /** Requests dropped unanswered because their reply subject was not an inbox (endpoint and `$SRV` alike). */
  rejected_reply_subject: number;
  /** 202 replies: durable invocations accepted and still running when the caller's deadline came (not errors). */
  accepted: number;
  latency_window: number;
  /** The local views this function reads and how far behind each is (runtime/view.ts), when it reads any. */
  views?: Record<string, ViewLag>;
}

/** The endpoint entry of a STATS reply, as natscli and nats.go decode it. */
export interface EndpointStatsJson {
  name: string;
  subject: string;
  queue_group: string;
  num_requests: number;
  num_errors: number;
  processing_time: number;
  average_processing_time: number;
  last_error: string;
  data: EndpointStatsData;
}

// The code of the "accepted, still running" reply of a durable invocation.
const ACCEPTED = 202;

/** Monotonic clock in integer nanoseconds. */
export function nowNs(): bigint {
  return process.hrtime.bigint();
}

/** Counters for one endpoint; the dispatcher records each request once, when its reply is sent. */
export class EndpointStats {
  private requests = 0;
  private errors = 0;
  private totalNs = 0;
  private lastError = "";
  private rejectedCount = 0;
  private rejectedReplyCount = 0;
  private acceptedCount = 0;
  private inFlightCount = 0;
  private readonly window = new Float64Array(LATENCY_WINDOW);
  private windowNext = 0;
  private windowSize = 0;

  constructor(
    readonly name: string,
    readonly subject: string,
    readonly queueGroup: string,
  ) {}

  /** A request started running (after admission). */
  begin(): void {
    this.inFlightCount++;
  }

  /** A request that had begun got its reply. */
  end(): void {
    this.inFlightCount--;
  }

  /** Current requests that are admitted and not yet replied to. */
  get inFlight(): number {
    return this.inFlightCount;
  }

  /** Records one finished request (any outcome) that took `elapsedNs`. */
  record(elapsedNs: bigint, error?: { message: string; code: number; rejected?: boolean }): void {
    const ns = Number(elapsedNs);
    this.requests++;
    this.totalNs += ns;
    this.window[this.windowNext] = ns;
    this.windowNext = (this.windowNext + 1) % LATENCY_WINDOW;
    if (this.windowSize < LATENCY_WINDOW) this.windowSize++;
    if (error?.code === ACCEPTED) this.acceptedCount++;
    else if (error) {
      this.errors++;
      this.lastError = `${error.code}:${error.message}`;
      if (error.rejected) this.rejectedCount++;
    }
  }

  /** A request (to the endpoint or to `$SRV`) was dropped because its reply subject is not an inbox; not a request served. */
  refuseReply(): void {
    this.rejectedReplyCount++;
  }

  /** Clears every counter, as `$SRV` reset semantics expect after a restart. */
  reset(): void {
    this.requests = 0;
    this.errors = 0;
    this.totalNs = 0;
    this.lastError = "";
    this.rejectedCount = 0;
    this.rejectedReplyCount = 0;
    this.acceptedCount = 0;
    this.windowNext = 0;
    this.windowSize = 0;
  }

  /** The STATS entry; every number is an integer, and the average is truncated as nats.go's integer division does. */
  toJSON(): EndpointStatsJson {
    const sorted = this.window.slice(0, this.windowSize).sort();
    return {
      name: this.name,
      subject: this.subject,
      queue_group: this.queueGroup,
      num_requests: this.requests,
      num_errors: this.errors,
      processing_time: this.totalNs,
      average_processing_time: this.requests === 0 ? 0 : Number(BigInt(this.totalNs) / BigInt(this.requests)),
      last_error: this.lastError,
      data: {
        p50_ns: percentile(sorted, 0.5),
        p90_ns: percentile(sorted, 0.9),
        p99_ns: percentile(sorted, 0.99),
        in_flight: this.inFlightCount,
        rejected: this.rejectedCount,
        rejected_reply_subject: this.rejectedReplyCount,
        accepted: this.acceptedCount,
        latency_window: this.windowSize,
        ...withViews(this.name),
      },
    };
  }
}

function withViews(fn: string): { views?: Record<string, ViewLag>; keyed?: Record<string, KeyedCounters> } {
  const views = viewLags(fn);
  const keyed = keyedStats(fn);
  return {
    ...(Object.keys(views).length > 0 ? { views } : {}),
    ...(Object.keys(keyed).length > 0 ? { keyed } : {}),
  };
}

/** Nearest-rank percentile of an ascending array; 0 when empty. */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return Math.round(sorted[rank] ?? 0);
}
