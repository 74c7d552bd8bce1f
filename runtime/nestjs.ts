/**
 * The NestJS NATS transport, spoken by a function so that `ClientProxy.send('<name>', data)` and
 * `send({ cmd: '<name>' }, data)` reach it unchanged. A NestJS request is the JSON envelope
 * `{pattern, data, id}` published on the pattern itself (`<name>`, or `{"cmd":"<name>"}` for an
 * object pattern: keys sorted, no spaces); the reply is `{id, response, isDisposed}` or
 * `{id, err, isDisposed}`. Each message is unwrapped into the function's own dispatcher, so
 * validation, limits, auth and STATS are those of the native subject, and its reply is wrapped back.
 */
import type { Msg, MsgHdrs, NatsConnection, Payload, PublishOptions, Subscription } from "@nats-io/nats-core";
import type { FunctionDefinition } from "./define-function.ts";
import { SERVICE_ERROR_CODE } from "./headers.ts";
import { parseRequestBody } from "./json.ts";

/** Env variable that switches the NestJS transport on for every public function. */
export const NESTJS_ENV = "NFN_NESTJS";
/** Room for the envelope around `data` (pattern and id), beyond the function's own body limit. */
const ENVELOPE_ALLOWANCE = 1024;
/** Longest NestJS packet id echoed back (NestJS makes UUIDs); a longer one is not echoed. */
const MAX_ID_LENGTH = 64;
const ID_PATTERN = /^[A-Za-z0-9_.:-]+$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The subjects NestJS publishes a request for `name` on: the string pattern and `{cmd: name}`. */
export function nestjsSubjects(name: string): string[] {
  return [name, `{"cmd":"${name}"}`];
}

/** True when `def` answers NestJS requests: `nestjs: true`, or `NFN_NESTJS=1` unless `nestjs: false`; public functions only. */
export function nestjsEnabled(def: FunctionDefinition, env: NodeJS.ProcessEnv = process.env): boolean {
  if (def.visibility !== "public") return false;
  if (def.nestjs !== undefined) return def.nestjs;
  return env[NESTJS_ENV] === "1" || env[NESTJS_ENV] === "true";
}

/**
 * True when NestJS emits of `def`'s trigger events are stored on EVENTS: only for a public
 * function that says `nestjs: true` itself. Never from `NFN_NESTJS=1` alone, since any caller may
 * then emit that event type, and the types the system emits as facts (order.confirmed) must not be
 * forgeable by switching on a flag.
 */
export function nestjsEventsEnabled(def: FunctionDefinition): boolean {
  return def.visibility === "public" && def.nestjs === true && def.trigger !== undefined;
}

/** Subscribes `def`'s NestJS subjects (queue group `queue`) and feeds each request to `dispatch`; returns the unsubscribe. */
export function serveNestjs(nc: NatsConnection, def: FunctionDefinition, queue: string, dispatch: (msg: Msg) => void): () => Promise<void> {
  const maxRaw = def.limits.maxPayload + ENVELOPE_ALLOWANCE;
  const subs: Subscription[] = nestjsSubjects(def.name).map((subject) =>
    nc.subscribe(subject, {
      queue,
      callback: (err, msg) => {
        // A message without a reply subject is a NestJS emit() on this name: nothing to answer.
        if (err || !msg.reply) return;
        dispatch(unwrapRequest(msg, maxRaw));
      },
    }),
  );
  return async () => {
    await Promise.all(subs.map((s) => s.drain().catch(() => undefined)));
  };
}

/**
 * The dispatcher's view of one NestJS request: the envelope's `data` as the body, the original
 * headers and reply subject, and a `respond` that wraps the reply in NestJS's envelope. A body that
 * is too large or not an envelope is passed on whole, so the dispatcher refuses it with its own code.
 */
export function unwrapRequest(msg: Msg, maxRaw: number): Msg {
  const envelope = msg.data.length > maxRaw ? undefined : parseEnvelope(msg.data);
  const id =
    envelope && typeof envelope.id === "string" && envelope.id.length <= MAX_ID_LENGTH && ID_PATTERN.test(envelope.id)
      ? envelope.id
      : undefined;
  const body = envelope && "data" in envelope ? encodeData(envelope.data) : msg.data;
  return new NestjsRequest(msg, body, id);
}

class NestjsRequest implements Msg {
  readonly sid: number;
  readonly subject: string;
  readonly reply: string | undefined;
  readonly headers: MsgHdrs | undefined;

  constructor(
    private readonly original: Msg,
    readonly data: Uint8Array,
    private readonly id: string | undefined,
  ) {
    this.sid = original.sid;
    this.subject = original.subject;
    this.reply = original.reply;
    this.headers = original.headers;
  }

  respond(payload?: Payload, opts?: PublishOptions): boolean {
    const text = typeof payload === "string" ? payload : payload ? decoder.decode(payload) : "null";
    const isError = opts?.headers?.get(SERVICE_ERROR_CODE) !== undefined && opts.headers.get(SERVICE_ERROR_CODE) !== "";
    const idPart = this.id === undefined ? "" : `"id":${JSON.stringify(this.id)},`;
    // The reply body is already JSON: splice it in rather than parse and re-serialise a success.
    const packet = isError ? `{${idPart}"err":${errorOf(text)},"isDisposed":true}` : `{${idPart}"response":${text},"isDisposed":true}`;
    return this.original.respond(packet, opts);
  }

  json<T>(): T {
    return JSON.parse(this.string()) as T;
  }

  string(): string {
    return decoder.decode(this.data);
  }
}

function parseEnvelope(data: Uint8Array): Record<string, unknown> | undefined {
  try {
    // The runtime's safe parser (depth, prototype keys); a refused envelope goes on whole and is refused there.
    const value = parseRequestBody(data);
    // NestJS packets always carry `id` on a request; anything else is a plain body.
    return typeof value === "object" && value !== null && !Array.isArray(value) && "id" in value
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

// `data` was parsed from JSON, so it serialises back; undefined (no data) becomes an empty body: 400.
function encodeData(data: unknown): Uint8Array {
  return data === undefined ? new Uint8Array() : encoder.encode(JSON.stringify(data));
}

// The contract's error body is {"error": {code, type, message, details}}; NestJS gets the inner object.
function errorOf(text: string): string {
  try {
    const body: unknown = JSON.parse(text);
    const inner = typeof body === "object" && body !== null ? (body as { error?: unknown }).error : undefined;
    if (typeof inner === "object" && inner !== null) return JSON.stringify(inner);
  } catch {
    // not the contract's body; fall through
  }
  return JSON.stringify({ code: 500, type: "INTERNAL", message: "internal error" });
}
