/** The public types of the runtime: what a function declares and what its handler receives. */
import type { JetStreamClient } from "@nats-io/jetstream";
import type { KV, KvOptions } from "@nats-io/kv";
import type { Logger } from "./logger.ts";
import type { DurableOptions, StepOptions, StepRun, WaitOptions } from "./durable/types.ts";
import type { Keyed, KeyedOptions } from "./keyed.ts";
import type { View } from "./view.ts";

/** Resource limits of one function. */
export interface FunctionLimits {
  /** Largest request body in bytes; exactly this size is still processed. Default 65536. */
  maxPayload: number;
  /** Requests handled at once per instance; the next one gets 429 at once. Default 256. */
  maxInFlight: number;
  /** Deadline for one request in ms, shortened by the caller's own deadline. Default 5000. */
  timeoutMs: number;
}

/** Who called, as the runtime verified it from the bearer token. */
export interface Caller {
  sub: string;
  scopes: string[];
  claims: Record<string, unknown>;
}

/** Functions that need a verified caller declare this; the runtime verifies the token in-process with the configured keys. */
export interface AuthRequirement {
  /** Every one of these scopes must be in the token's `scope` claim, else 403. */
  scopes?: string[];
}

/** Run the function on domain events from the EVENTS stream (a durable consumer per function). */
export interface EventTrigger {
  /** Event types such as "order.confirmed". */
  events: string[];
  /** Deliveries before an event is parked on the dead-letter stream. Default 5. */
  maxDeliveries?: number;
  /** Redelivery delays in ms, one per retry; the last repeats. Default [200, 1000, 5000]. */
  backoffMs?: number[];
}

/** Work a function does on a schedule (sweepers, recovery); every instance runs it, so it must be safe to run concurrently. */
export interface FunctionTimer {
  /** Shown in logs. */
  name: string;
  /** Period between the end of one run and the start of the next. */
  everyMs: number;
  /** Also run once right after the function starts. Default true. */
  runOnStart?: boolean;
  /** One run; it gets a context with the function's timeout as deadline. Errors are logged, and the next run goes on. */
  run(ctx: Context): Promise<void>;
}

/** The envelope of a domain event, as stored on the EVENTS stream. */
export interface DomainEvent<T = Record<string, unknown>> {
  eventId: string;
  eventType: string;
  aggregateId: string;
  eventVersion: number;
  occurredOn: string;
  eventData: T;
  metadata: { correlationId: string; causationId: string; source: string };
}

/** Options of `ctx.emit`. */
export interface EmitOptions {
  /** A stable id (a UUID derived from the business key), so that emitting the same fact twice stores it once (`Nats-Msg-Id`). */
  eventId?: string;
}

/** Options of a nested call. */
export interface CallOptions {
  /** Extra headers, for example `Idempotency-Key`. */
  headers?: Record<string, string>;
  /** A shorter deadline than what is left of the caller's. */
  timeoutMs?: number;
}

/** What a handler gets besides its input. */
export interface Context {
  /** The function being run. */
  readonly function: { name: string; version: string };
  /** Unique id of this request (the causation id of what it causes). */
  readonly requestId: string;
  /** Shared by every request and event of one business operation. */
  readonly correlationId: string;
  /** W3C trace id carried from the caller. */
  readonly traceId: string;
  /** Fires when the deadline passes; pass it to anything that can be cancelled. */
  readonly signal: AbortSignal;
  /** Absolute deadline, epoch ms. */
  readonly deadline: number;
  /** Logger bound to this request (function, version, traceId, correlationId). */
  readonly log: Logger;
  /** The verified caller, when the function declares `auth`. */
  readonly caller: Caller | undefined;
  /** A request header, case-insensitive (for example `Idempotency-Key`). */
  header(name: string): string | undefined;
  /** Milliseconds left before the deadline. */
  remainingMs(): number;
  /** Calls another function through NATS with the remaining deadline, traceparent and Authorization. */
  call<T = unknown>(fn: string, input: unknown, options?: CallOptions): Promise<T>;
  /** A JetStream KV bucket, created on first use. */
  kv(bucket: string, options?: Partial<KvOptions>): Promise<KV>;
  /** Keyed records of a bucket: updates over the latest value, compare-and-set, coalesced per key (runtime/keyed.ts). */
  keyed<T>(bucket: string, options?: KeyedOptions): Keyed<T>;
  /** A bucket held in memory, kept current by a KV watch: for reads that may be slightly stale (runtime/view.ts). */
  view<T>(bucket: string, options?: KeyedOptions): View<T>;
  /** Publishes a domain event on the EVENTS stream, exactly once per eventId. */
  emit<T extends Record<string, unknown>>(eventType: string, aggregateId: string, data: T, options?: EmitOptions): Promise<DomainEvent<T>>;
  /** JetStream, for streams and object stores beyond KV. */
  readonly js: JetStreamClient;
  /** Durable functions only: the invocation (`Idempotency-Key`, else a new id); undefined elsewhere. */
  readonly invocationId: string | undefined;
  /** Durable functions only: runs `fn` once per invocation and journals its result (README: Durable steps). */
  step<T>(name: string, fn: (run: StepRun) => Promise<T> | T, options?: StepOptions<T>): Promise<T>;
  /** Durable functions only: suspends the invocation for `ms` without holding a process. */
  sleep(ms: number): Promise<void>;
  /** Durable functions only: suspends until a matching event of a type in `durable.events` (null after `timeoutMs`). */
  waitForEvent(eventType: string, options: WaitOptions): Promise<DomainEvent | null>;
}

/** `public`: callers may reach it; `internal`: only the system's own functions may. */
export type Visibility = "public" | "internal";

/** What a function module declares (its default export). */
export interface FunctionSpec<I = unknown, O = unknown> {
  /** Service and endpoint name: letters, digits, `_` and `-`. */
  name: string;
  /** Semantic version, shown in `$SRV.INFO`. */
  version: string;
  description: string;
  /** JSON Schema of the request body. */
  request: object;
  /** JSON Schema of the reply body. */
  response: object;
  /** Schemas whose `$id` the two above may `$ref` (inlined, so INFO is self-contained). */
  sharedSchemas?: object[];
  limits?: Partial<FunctionLimits>;
  /**
   * Who may call it. `public` (the default) is exported to callers' accounts and served by the
   * gateway; `internal` serves only the system's own functions (steps of a saga). Advertised in INFO.
   */
  visibility?: Visibility;
  /** Needs a verified caller (`Authorization: Bearer <jwt>`). */
  auth?: AuthRequirement;
  /**
   * Also answer NestJS's NATS transport (`send('<name>', data)`, `send({cmd: '<name>'}, data)`);
   * `true` also stores NestJS emits of the trigger's event types on EVENTS. Public functions only.
   * Default: requests when `NFN_NESTJS=1`, emits never.
   */
  nestjs?: boolean;
  /** Functions this one calls with `ctx.call` (recorded in the manifest); calling any other is refused. */
  calls?: string[];
  /** KV buckets it opens with `ctx.kv` (reads, writes, and the stream calls on `KV_<bucket>`); any other is refused. */
  kv?: string[];
  /**
   * KV buckets it only reads, through `ctx.view` (a local view kept current by a watch): its NATS
   * identity may get and watch them but never put, delete or purge. `ctx.kv` and `ctx.keyed` refuse them.
   */
  views?: string[];
  /** Streams and object stores it uses directly through `ctx.js`, besides EVENTS (which `emits` and `trigger` cover). */
  streams?: string[];
  /** Event types it publishes with `ctx.emit` (such as "order.created"); emitting any other is refused. */
  emits?: string[];
  /** Serve a request endpoint. Default true; false for event-only functions. */
  endpoint?: boolean;
  trigger?: EventTrigger;
  /** Periodic work such as releasing expired reservations. */
  timers?: FunctionTimer[];
  /** Journal the handler's `ctx.step`s so an invocation survives a crash (README: Durable steps). */
  durable?: boolean | DurableOptions;
  /** Handles one request: returns the reply, or throws FunctionError. */
  handler(input: I, ctx: Context): Promise<O> | O;
  /** Handles one domain event when `trigger` is set; throw to have it retried. */
  onEvent?(event: DomainEvent, ctx: Context): Promise<void> | void;
}
