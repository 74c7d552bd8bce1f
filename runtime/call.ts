/** Calling a function through NATS and reading its reply, errors included (used by ctx.call and tools). */
import { headers as natsHeaders, type NatsConnection, type Msg } from "@nats-io/nats-core";
import { FunctionError, errorFromReply } from "./errors.ts";
import { SERVICE_ERROR, SERVICE_ERROR_CODE, TIMEOUT_MS } from "./headers.ts";

/** One request to a function endpoint. */
export interface RequestSpec {
  subject: string;
  /** Function name, for error messages. */
  fn: string;
  body: Uint8Array | string;
  headers: Record<string, string>;
  timeoutMs: number;
}

/**
 * Sends a request and returns the reply message. No responders becomes 503 and a timeout 504,
 * so a caller sees the same codes whether the failure was local or remote.
 */
export async function requestFunction(nc: NatsConnection, spec: RequestSpec): Promise<Msg> {
  if (spec.timeoutMs <= 0) throw new FunctionError(504, `no time left to call ${spec.fn}`);
  const h = natsHeaders();
  for (const [k, v] of Object.entries(spec.headers)) h.set(k, v);
  h.set(TIMEOUT_MS, String(Math.max(1, Math.floor(spec.timeoutMs))));
  try {
    return await nc.request(spec.subject, spec.body, { timeout: spec.timeoutMs, headers: h });
  } catch (err) {
    if (hasCause(err, "NoRespondersError")) throw new FunctionError(503, `${spec.fn} has no responders`, undefined, { cause: err });
    if (hasCause(err, "TimeoutError")) {
      throw new FunctionError(504, `${spec.fn} did not answer within ${Math.floor(spec.timeoutMs)} ms`, undefined, { cause: err });
    }
    throw new FunctionError(503, `${spec.fn} could not be reached`, undefined, { cause: err });
  }
}

/** The decoded reply: the value, or the function's error rebuilt with the same code. */
export function decodeReply(fn: string, msg: Msg): unknown {
  const code = msg.headers?.get(SERVICE_ERROR_CODE);
  const body = tryJson(msg.data);
  if (code) throw errorFromReply(code, body.ok ? body.value : undefined, msg.headers?.get(SERVICE_ERROR) || `${fn} failed`);
  if (!body.ok) throw new FunctionError(500, `${fn} replied with a body that is not JSON`);
  return body.value;
}

function tryJson(data: Uint8Array): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(new TextDecoder().decode(data)) };
  } catch {
    return { ok: false };
  }
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
