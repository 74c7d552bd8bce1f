/**
 * Observers the runtime calls on its hot path. Every field stays undefined (one property read per
 * request) until metrics or tracing are switched on, so the default costs nothing measurable.
 */
import type { TraceContext } from "../trace.ts";

/** Ends what a start hook began; `code` is the error code, or undefined on success. */
export type EndObserver = (code: number | undefined) => void;

/** The hooks; set only by runtime/ops modules. */
export interface OpsHooks {
  /** A request to `fn` finished after `elapsedNs` with error `code` (undefined = success). */
  onRequest?: (fn: string, version: string, elapsedNs: bigint, code: number | undefined) => void;
  /** A request to `fn` was dropped unanswered because its reply subject is not an inbox. */
  onRejectedReply?: (fn: string, version: string) => void;
  /** The handler of `fn` starts under `trace`; `traceparent` is the header the caller sent, if any. */
  startInvocation?: (fn: string, version: string, trace: TraceContext, traceparent: string | undefined) => EndObserver;
  /** A nested call from `caller` to `target` goes out as the span named by `traceparent`. */
  startCall?: (caller: TraceContext, target: string, traceparent: string) => EndObserver;
}

/** The process-wide hooks (one runtime per process; bundles share it through globalThis). */
export const opsHooks: OpsHooks = ((globalThis as Record<symbol, unknown>)[Symbol.for("nats-functions.opsHooks")] ??= {}) as OpsHooks;
