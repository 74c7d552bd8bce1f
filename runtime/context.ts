/** The `ctx` a handler receives: nested calls, KV, events, logger, caller, deadline. */
import { randomUUID } from "node:crypto";
import type { NatsConnection, MsgHdrs } from "@nats-io/nats-core";
import type { KV, KvOptions } from "@nats-io/kv";
import type { JetStreamClient } from "@nats-io/jetstream";
import type { CallOptions, Caller, Context, DomainEvent, EmitOptions } from "./types.ts";
import type { Logger } from "./logger.ts";
import type { StateAccess } from "./state.ts";
import { type Keyed, type KeyedOptions, gatedKeyed } from "./keyed.ts";
import { type View, gatedView } from "./view.ts";
import { type TraceContext, childTraceparent, continueTrace, formatTraceparent } from "./trace.ts";
import { AUTHORIZATION, CAUSATION_ID, CORRELATION_ID, TRACEPARENT } from "./headers.ts";
import { callFunction } from "./client/request.ts";
import { FunctionError, isFunctionError } from "./errors.ts";
import { newEvent, publishEvent } from "./events.ts";
import { opsHooks } from "./ops/hooks.ts";
import type { DurableContext, StepOptions, StepRun, WaitOptions } from "./durable/types.ts";
import { notDurable } from "./durable/not-durable.ts";
import { assertDeclared } from "./declarations.ts";

/**
 * What the dispatcher knows about one request when it builds the context. Ids and the trace are
 * optional: when absent they are made on first use, so a handler that needs none of them costs none.
 */
export interface RequestScope {
  nc: NatsConnection;
  state: StateAccess;
  subjectFor: (fn: string) => string;
  fn: { name: string; version: string };
  headers: MsgHdrs | undefined;
  trace?: TraceContext;
  correlationId?: string;
  /** This request's id, or the id of the event that triggered it; the causation id of what it causes. */
  requestId?: string;
  deadline: number;
  cancel: Cancellation;
  log: Logger;
}

/** An AbortSignal made only when someone asks for it; aborting before that still shows on it. */
export class Cancellation {
  private controller: AbortController | undefined;
  private reason: unknown;
  private aborted = false;

  /** The signal handlers see as `ctx.signal`. */
  get signal(): AbortSignal {
    if (this.aborted && !this.controller) return AbortSignal.abort(this.reason);
    this.controller ??= new AbortController();
    return this.controller.signal;
  }

  /** Fires the signal (now, or as soon as it is made). */
  abort(reason: unknown): void {
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
  }

  /** True once abort was called. */
  get isAborted(): boolean {
    return this.aborted;
  }
}

/** The runtime's Context for one request. */
export class RequestContext implements Context {
  caller: Caller | undefined;
  /** Set by the durable runner for functions declared `durable`. */
  durable: DurableContext | undefined;
  private boundLog: Logger | undefined;
  private traceValue: TraceContext | undefined;
  private correlationValue: string | undefined;
  private requestIdValue: string | undefined;

  constructor(private readonly scope: RequestScope) {}

  /** The trace this request runs in: the caller's continued, or a new one. */
  get trace(): TraceContext {
    this.traceValue ??= this.scope.trace ?? continueTrace(this.scope.headers?.get(TRACEPARENT));
    return this.traceValue;
  }

  get function() {
    return this.scope.fn;
  }
  get requestId(): string {
    this.requestIdValue ??= this.scope.requestId ?? randomUUID();
    return this.requestIdValue;
  }
  get correlationId(): string {
    // An event's correlation id is checked like a header's: whoever published the event chose it.
    this.correlationValue ??= safeCorrelationId(this.scope.correlationId ?? this.scope.headers?.get(CORRELATION_ID));
    return this.correlationValue;
  }
  get traceId(): string {
    return this.trace.traceId;
  }
  get signal(): AbortSignal {
    return this.scope.cancel.signal;
  }
  get deadline() {
    return this.scope.deadline;
  }
  get js(): JetStreamClient {
    return this.scope.state.js;
  }
  get log(): Logger {
    this.boundLog ??= this.scope.log.child({ traceId: this.traceId, correlationId: this.correlationId, requestId: this.requestId });
    return this.boundLog;
  }

  header(name: string): string | undefined {
    const value = this.scope.headers?.get(name);
    return value === undefined || value === "" ? undefined : value;
  }

  remainingMs(): number {
    return this.scope.deadline - Date.now();
  }

  async call<T = unknown>(fn: string, input: unknown, options: CallOptions = {}): Promise<T> {
    assertDeclared(this.scope.fn, "calls", fn);
    const traceparent = childTraceparent(this.trace);
    const headers: Record<string, string> = {
      [TRACEPARENT]: traceparent,
      [CORRELATION_ID]: this.correlationId,
      [CAUSATION_ID]: this.requestId,
      ...options.headers,
    };
    const auth = this.header(AUTHORIZATION);
    if (auth !== undefined) headers[AUTHORIZATION] = auth;
    const end = options.timeoutMs === undefined ? this.scope.deadline : Math.min(Date.now() + options.timeoutMs, this.scope.deadline);
    const body = JSON.stringify(input);
    const endSpan = opsHooks.startCall?.(this.trace, fn, traceparent);
    // 429 and a local no-responders 503 are retried within the deadline (runtime/ops/retry.ts says why that is safe).
    const result = callFunction<T>(this.scope.nc, { subject: this.scope.subjectFor(fn), fn, body, headers, deadline: end });
    if (endSpan)
      result.then(
        () => endSpan(undefined),
        (err: unknown) => endSpan(isFunctionError(err) ? err.code : 500),
      );
    // A 429 means "refused before running, safe to retry"; passed on by this handler (which did run) it would
    // invite our caller to repeat us, so once retries are used up the dependency is reported unavailable.
    return result.catch((err: unknown) => {
      if (isFunctionError(err) && err.code === 429) {
        throw new FunctionError(503, `${fn} is overloaded: still at its in-flight limit after retrying`, undefined, { cause: err });
      }
      throw err;
    });
  }

  get invocationId(): string | undefined {
    return this.durable?.invocationId;
  }

  step<T>(name: string, fn: (run: StepRun) => Promise<T> | T, options?: StepOptions<T>): Promise<T> {
    return this.durable ? this.durable.step(name, fn, options) : Promise.reject(notDurable("step"));
  }

  sleep(ms: number): Promise<void> {
    return this.durable ? this.durable.sleep(ms) : Promise.reject(notDurable("sleep"));
  }

  waitForEvent(eventType: string, options: WaitOptions): Promise<DomainEvent | null> {
    return this.durable ? this.durable.waitForEvent(eventType, options) : Promise.reject(notDurable("waitForEvent"));
  }

  kv(bucket: string, options?: Partial<KvOptions>): Promise<KV> {
    try {
      assertDeclared(this.scope.fn, "kv", bucket);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.scope.state.kv(bucket, options);
  }

  // Both open their bucket through `this.kv`, so they are allowed exactly the buckets `ctx.kv` is.
  keyed<T>(bucket: string, options?: KeyedOptions): Keyed<T> {
    const keyed = this.scope.state.keyed<T>(bucket, options);
    keyed.writers?.add(this.scope.fn.name);
    return gatedKeyed(keyed, this.kv(bucket, options?.bucket), this.scope.deadline);
  }

  view<T>(bucket: string, options?: KeyedOptions): View<T> {
    const view = this.scope.state.view<T>(bucket, options);
    view.readers.add(this.scope.fn.name);
    // A view needs `views` (read only) or `kv`; either way the bucket is opened as `ctx.kv` would.
    let gate: Promise<unknown>;
    try {
      assertDeclared(this.scope.fn, "views", bucket);
      gate = this.scope.state.kv(bucket, options?.bucket);
    } catch (err) {
      gate = Promise.reject(err);
    }
    return gatedView(view, gate, this.scope.deadline);
  }

  async emit<T extends Record<string, unknown>>(
    eventType: string,
    aggregateId: string,
    data: T,
    options: EmitOptions = {},
  ): Promise<DomainEvent<T>> {
    assertDeclared(this.scope.fn, "emits", eventType);
    const event = newEvent(eventType, aggregateId, data, {
      correlationId: this.correlationId,
      causationId: this.requestId,
      source: this.scope.fn.name,
      traceparent: formatTraceparent(this.trace),
    });
    if (options.eventId !== undefined) event.eventId = options.eventId;
    await publishEvent(this.scope.state.js, event, formatTraceparent(this.trace));
    return event;
  }
}

// What a correlation id may look like: it is copied into every event and log line of the operation.
const SAFE_CORRELATION_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * The correlation id of an incoming request, or a new one when it starts an operation. A sent id
 * longer than 64 characters or outside `A-Z a-z 0-9 . _ : -` is replaced by a new one, never copied.
 */
export function correlationIdOf(headers: MsgHdrs | undefined): string {
  return safeCorrelationId(headers?.get(CORRELATION_ID));
}

/** `value` when it is a safe correlation id, else a new UUID. */
export function safeCorrelationId(value: string | undefined): string {
  return value !== undefined && SAFE_CORRELATION_ID.test(value) ? value : randomUUID();
}
