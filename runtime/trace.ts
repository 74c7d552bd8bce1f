/** W3C trace context (`traceparent`): continue the caller's trace or start one. */
import { randomFillSync } from "node:crypto";

const TRACEPARENT_PATTERN = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = "0".repeat(32);
const ZERO_SPAN = "0".repeat(16);

/** The trace this request belongs to and the span it runs as. */
export interface TraceContext {
  traceId: string;
  spanId: string;
  flags: string;
}

/** Continues the caller's trace with a new span, or starts a new trace when there is none or it is invalid. */
export function continueTrace(traceparent: string | undefined): TraceContext {
  const match = traceparent ? TRACEPARENT_PATTERN.exec(traceparent.trim().toLowerCase()) : null;
  if (match && match[1] !== ZERO_TRACE && match[2] !== ZERO_SPAN) {
    return { traceId: match[1] ?? "", spanId: newSpanId(), flags: match[3] ?? "01" };
  }
  return { traceId: randomHex(16), spanId: newSpanId(), flags: "01" };
}

/** The `traceparent` header value for a call made from within `trace`. */
export function childTraceparent(trace: TraceContext): string {
  return `00-${trace.traceId}-${newSpanId()}-${trace.flags}`;
}

/** `traceparent` naming the span itself (for events it publishes). */
export function formatTraceparent(trace: TraceContext): string {
  return `00-${trace.traceId}-${trace.spanId}-${trace.flags}`;
}

function newSpanId(): string {
  return randomHex(8);
}

// Ids are drawn from a pool refilled 4 KiB at a time: one call into the random source per ~300 ids instead of one per id.
const pool = Buffer.allocUnsafe(4096);
let poolOffset = pool.length;

function randomHex(bytes: number): string {
  if (poolOffset + bytes > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const hex = pool.toString("hex", poolOffset, poolOffset + bytes);
  poolOffset += bytes;
  return hex;
}
