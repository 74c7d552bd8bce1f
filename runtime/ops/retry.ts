/**
 * Retries with exponential backoff and full jitter, for the two failures that are safe to repeat
 * whatever the function does:
 *   - 429 OVERLOADED: the instance refused the request before running anything;
 *   - a local 503 "no responders": the request never reached any instance.
 * Never retried: a timeout (the function may still be running), and any 503/504 that came back as a
 * reply (a function ran and reported it). A retry is only made when its wait fits in the deadline.
 */
import { isFunctionError } from "../errors.ts";

/** How retries are spaced. */
export interface RetryPolicy {
  /** Attempts in total, the first included. */
  attempts: number;
  /** Upper bound of the first wait in ms; it doubles per retry. */
  baseMs: number;
  /** Largest wait in ms. */
  maxMs: number;
}

/** The default: up to 4 attempts, waits drawn from [0, 25], [0, 50], [0, 100] ms. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, baseMs: 25, maxMs: 1000 };

/** The shortest time worth keeping for the attempt itself after a wait. */
const MIN_ATTEMPT_MS = 20;

/** True when `err` is a failure the rule above allows to repeat. */
export function isRetryable(err: unknown): boolean {
  if (!isFunctionError(err)) return false;
  if (err.code === 429) return true;
  return err.code === 503 && causedByNoResponders(err);
}

/** Runs `attempt` until it succeeds, fails in a way that is not retryable, or the deadline (epoch ms) is too close. */
export async function withRetry<T>(
  attempt: (n: number) => Promise<T>,
  deadline: number,
  policy: RetryPolicy = DEFAULT_RETRY,
  onRetry?: (n: number, err: unknown, waitMs: number) => void,
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      if (n >= policy.attempts || !isRetryable(err)) throw err;
      const wait = Math.random() * Math.min(policy.maxMs, policy.baseMs * 2 ** (n - 1));
      if (Date.now() + wait + MIN_ATTEMPT_MS >= deadline) throw err;
      onRetry?.(n, err, wait);
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

// runtime/client/request.ts keeps the NoRespondersError as the cause of a local 503; a 503 rebuilt from a reply has none.
function causedByNoResponders(err: Error): boolean {
  for (let e: unknown = err.cause, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e.name === "NoRespondersError" || e.constructor.name === "NoRespondersError") return true;
    const probe = (e as { isNoResponders?: unknown }).isNoResponders;
    if (typeof probe === "function" && probe.call(e) === true) return true;
  }
  return false;
}
