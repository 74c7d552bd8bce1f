/**
 * Calling a function through NATS and reading its reply, errors included. The one implementation
 * behind `ctx.call`, the HTTP gateway, the CLI and generated clients.
 */
import { headers as natsHeaders, type NatsConnection, type Msg } from "@nats-io/nats-core";
import { FunctionError, errorFromReply } from "../errors.ts";
import { SERVICE_ERROR, SERVICE_ERROR_CODE, TIMEOUT_MS } from "../headers.ts";
import { withRetry } from "../ops/retry.ts";
import { tryJson } from "./json.ts";
import { muxRequest } from "./reply-mux.ts";

/** One request to a function endpoint. */
export interface RequestSpec {
  subject: string;
  /** Function name, for error messages. */
  fn: string;
  body: Uint8Array | string;
  headers?: Record<string, string>;
  timeoutMs: number;
}

/** A request that may be repeated when that is safe, until `deadline` (epoch ms). */
export interface RetryingRequestSpec extends Omit<RequestSpec, "timeoutMs"> {
  deadline: number;
  /** Called before each retry with the failure that caused it. */
  onRetry?: (err: unknown) => void;
}

/**
 * Sends a request and returns the reply message. No responders becomes 503 and a timeout 504,
 * so a caller sees the same codes whether the failure was local or remote.
 */
export function requestFunction(nc: NatsConnection, spec: RequestSpec): Promise<Msg> {
  if (spec.timeoutMs <= 0) return Promise.reject(new FunctionError(504, `no time left to call ${spec.fn}`));
  const h = natsHeaders();
  let sent: Promise<Msg>;
  try {
    if (spec.headers) for (const k in spec.headers) h.set(k, spec.headers[k] ?? "");
    h.set(TIMEOUT_MS, String(Math.max(1, Math.floor(spec.timeoutMs))));
  } catch (err) {
    // A header value the NATS client refuses: a rejection as it is, never a synchronous throw.
    return Promise.reject(err);
  }
  try {
    sent = muxRequest(nc, spec.subject, spec.body, h, spec.timeoutMs);
  } catch (err) {
    return Promise.reject(requestFailure(spec, err));
  }
  // One promise per call on the hot path: the failure mapping is a rejection handler, not an async frame around it.
  return sent.catch((err: unknown) => Promise.reject(requestFailure(spec, err)));
}

function requestFailure(spec: RequestSpec, err: unknown): FunctionError {
  if (hasCause(err, "NoRespondersError")) return new FunctionError(503, `${spec.fn} has no responders`, undefined, { cause: err });
  if (hasCause(err, "TimeoutError")) {
    return new FunctionError(504, `${spec.fn} did not answer within ${Math.floor(spec.timeoutMs)} ms`, undefined, { cause: err });
  }
  return new FunctionError(503, `${spec.fn} could not be reached`, undefined, { cause: err });
}

/** The `Nats-Service-Error-Code` of an error reply, or undefined for a success. */
export function replyErrorCode(msg: Msg): string | undefined {
  return msg.headers?.get(SERVICE_ERROR_CODE) || undefined;
}

/** The error an error reply carries, rebuilt with the same code, type, message and details; undefined for a success. */
export function replyError(fn: string, msg: Msg): FunctionError | undefined {
  const code = replyErrorCode(msg);
  if (code === undefined) return undefined;
  const body = tryJson(msg.data);
  return errorFromReply(code, body.ok ? body.value : undefined, msg.headers?.get(SERVICE_ERROR) || `${fn} failed`);
}

/** The decoded reply: the value, or the function's error rebuilt with the same code. */
export function decodeReply(fn: string, msg: Msg): unknown {
  const error = replyError(fn, msg);
  if (error) throw error;
  const body = tryJson(msg.data);
  if (!body.ok) throw new FunctionError(500, `${fn} replied with a body that is not JSON`);
  return body.value;
}

/**
 * Sends a request, repeating it only when that is safe (a 429 reply: refused before running; a
 * local no-responders: it reached no one; see runtime/ops/retry.ts) and time is left. Returns the
 * last reply, an error reply included, so a caller that relays bytes need not decode them.
 */
export function requestWithRetry(nc: NatsConnection, spec: RetryingRequestSpec): Promise<Msg> {
  const refuse429 = (reply: Msg): Msg | Promise<never> =>
    replyErrorCode(reply) === "429" ? Promise.reject(replyError(spec.fn, reply)) : reply;
  return withRetry(
    () =>
      requestFunction(nc, {
        subject: spec.subject,
        fn: spec.fn,
        body: spec.body,
        headers: spec.headers,
        timeoutMs: spec.deadline - Date.now(),
      }).then(refuse429),
    spec.deadline,
    undefined,
    spec.onRetry && ((_n, err) => spec.onRetry?.(err)),
  );
}

/** Calls a function and decodes its reply; a contract error is thrown as FunctionError with the same code. */
export async function callFunction<T = unknown>(nc: NatsConnection, spec: RetryingRequestSpec): Promise<T> {
  return decodeReply(spec.fn, await requestWithRetry(nc, spec)) as T;
}

// nats.js wraps the cause (RequestError → NoRespondersError); match by name so any copy of the client works.
function hasCause(err: unknown, name: string): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e.name === name || e.constructor.name === name) return true;
    const probe = (e as { isNoResponders?: unknown }).isNoResponders;
    if (name === "NoRespondersError" && typeof probe === "function" && probe.call(e) === true) return true;
  }
  return false;
}
