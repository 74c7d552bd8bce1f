/** The public types of durable steps: options of a durable function and of one step. */
import type { Caller, DomainEvent } from "../types.ts";

/** `durable` in a function definition: its handler's steps are journaled and survive a crash. */
export interface DurableOptions {
  /** How long an instance owns a running invocation without a heartbeat; another takes over after it. Default 15000. */
  leaseMs?: number;
  /** How often each instance looks for invocations to take over or wake. Default 1000. */
  pollMs?: number;
  /** Event types `ctx.waitForEvent` may wait for (a durable consumer on EVENTS each). */
  events?: string[];
  /**
   * The invocation id of a request with an `Idempotency-Key`. Default: the key itself, one
   * namespace for every caller (another caller's repeat gets 422). Return an id derived from the
   * key and the caller (for example a hash of both) to scope keys per caller: the same key from
   * another caller is then another invocation. At most 128 characters.
   */
  invocationId?: (idempotencyKey: string, caller: Caller | undefined) => string;
  /**
   * What a transient error (503 UNAVAILABLE, 504 TIMEOUT, the state store away) does to the
   * invocation. `"fail"` (default): the step's error is journaled and the invocation ends failed
   * (`nfn runs retry` starts it again). `"resume"`: nothing is journaled for the failed step, the
   * caller gets the error, the invocation stays open and is resumed after `leaseMs` (by the
   * recovery loop or the caller's next repeat); a repeat before that gets 409.
   */
  transientErrors?: "fail" | "resume";
}

/** What a step's function receives. */
export interface StepRun {
  /** Stable for this (invocation, step): pass it as the idempotency key of a non-idempotent side effect. */
  key: string;
  /** 1 on the first try in this run, counting up on retries. */
  attempt: number;
}

/** Options of `ctx.step`. */
export interface StepOptions<T> {
  /** Tries in one run before the error is final. Default 1; a 4xx FunctionError is never retried. */
  attempts?: number;
  /** Pause between tries. Default 100. */
  backoffMs?: number;
  /** Undoes this step when the invocation is cancelled (`nfn runs cancel`); journaled as step `undo:<name>`. */
  compensate?: (result: T, run: StepRun) => Promise<unknown> | unknown;
}

/** What `ctx.waitForEvent` matches on; every field given must be equal. */
export interface EventMatch {
  aggregateId?: string;
  correlationId?: string;
  /** Top-level fields of `eventData`. */
  data?: Record<string, string | number | boolean | null>;
}

/** Options of `ctx.waitForEvent`. */
export interface WaitOptions {
  match?: EventMatch;
  /** Give up after this long and return null. */
  timeoutMs: number;
}

/** The durable part of a handler's context; only functions declared `durable` have it. */
export interface DurableContext {
  /** The invocation: the request's `Idempotency-Key`, else a new id. */
  readonly invocationId: string;
  /** Runs `fn` once per invocation; its result (or final error) is journaled and replayed after that. */
  step<T>(name: string, fn: (run: StepRun) => Promise<T> | T, options?: StepOptions<T>): Promise<T>;
  /** Suspends the invocation for `ms` without holding a process; any instance resumes it. */
  sleep(ms: number): Promise<void>;
  /** Suspends until a matching domain event arrives (or `timeoutMs` passes: null). */
  waitForEvent(eventType: string, options: WaitOptions): Promise<DomainEvent | null>;
}
