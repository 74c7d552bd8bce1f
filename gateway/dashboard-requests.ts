/**
 * The gateway's own request log: the last invocations it served (function, status, duration,
 * trace and correlation id), in a fixed-size ring, so the dashboard can show recent requests and
 * place an operation's events in a time window without scanning the whole EVENTS stream.
 */

/** One invocation as the gateway saw it. */
export interface RequestRecord {
  /** Epoch ms when the request arrived. */
  at: number;
  fn: string;
  status: number;
  durationMs: number;
  traceId: string;
  /** As the caller sent it ("" when none: the function then made one the gateway cannot see). */
  correlationId: string;
  /** As the caller sent it ("" when none or not id-like): a durable function's invocation id. */
  idempotencyKey: string;
}

/** How many invocations are kept. */
export const REQUEST_LOG_SIZE = 500;
const SAFE_ID = /^[A-Za-z0-9._:-]{1,64}$/;
const NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** A ring of the latest invocations. */
export class RequestLog {
  private readonly ring: (RequestRecord | undefined)[];
  private next = 0;

  constructor(readonly size = REQUEST_LOG_SIZE) {
    this.ring = new Array<RequestRecord | undefined>(size);
  }

  /** Adds one record, dropping the oldest when full. */
  add(record: RequestRecord): void {
    this.ring[this.next] = record;
    this.next = (this.next + 1) % this.size;
  }

  /** Newest first, at most `limit`. */
  latest(limit = this.size): RequestRecord[] {
    const out: RequestRecord[] = [];
    for (let i = 1; i <= this.size && out.length < limit; i++) {
      const r = this.ring[(this.next - i + this.size) % this.size];
      if (r) out.push(r);
    }
    return out;
  }

  /** Every kept invocation whose trace id, correlation id or Idempotency-Key is `id`, oldest first. */
  find(id: string): RequestRecord[] {
    return this.latest()
      .filter((r) => r.traceId === id || r.correlationId === id || r.idempotencyKey === id)
      .reverse();
  }

  /**
   * Records one finished invocation: `at` epoch ms and `started` (performance.now()) when it
   * arrived, its path, the caller's correlation id, the status and the traceparent it answered with.
   */
  record(
    at: number,
    started: number,
    path: string,
    correlation: string | undefined,
    status: number,
    traceparent: string | null | undefined,
    key: string | undefined,
  ): void {
    const name = path.slice("/fn/".length);
    this.add({
      at,
      // Only what looks like a name or an id is kept: the log is shown to people and never echoes input.
      fn: NAME.test(name) ? name : "(invalid)",
      status,
      durationMs: Math.round((performance.now() - started) * 1000) / 1000,
      traceId: /^00-([0-9a-f]{32})-/.exec(traceparent ?? "")?.[1] ?? "",
      correlationId: correlation !== undefined && SAFE_ID.test(correlation) ? correlation : "",
      idempotencyKey: key !== undefined && SAFE_ID.test(key) ? key : "",
    });
  }
}
