/**
 * The per-request pipeline: reply guard → size → in-flight limit → JSON → request schema → deadline →
 * auth → handler → response schema → exactly one reply → stats. The reply guard drops, unanswered, a
 * request whose reply subject is not an inbox, whatever subscription brought it.
 */
import { headers as natsHeaders, type Msg, type NatsConnection } from "@nats-io/nats-core";
import type { FunctionDefinition } from "./define-function.ts";
import { FunctionError, headerText, toFunctionError } from "./errors.ts";
import { AUTHORIZATION, CORRELATION_ID, SERVICE_ERROR, SERVICE_ERROR_CODE, TIMEOUT_MS, TRACEPARENT } from "./headers.ts";
import { parseRequestBody } from "./json.ts";
import type { Logger } from "./logger.ts";
import type { StateAccess } from "./state.ts";
import { type EndpointStats, nowNs } from "./stats.ts";
import { continueTrace } from "./trace.ts";
import { compileValidator } from "./validation.ts";
import { Cancellation, RequestContext } from "./context.ts";
import { verifyCaller } from "./auth.ts";
import { opsHooks } from "./ops/hooks.ts";
import { inboxPrefixOf } from "./connect.ts";
import { replyGuard } from "./reply-guard.ts";

/** What the dispatcher needs from its host. */
export interface DispatchEnvironment {
  nc: NatsConnection;
  state: StateAccess;
  subjectFor: (fn: string) => string;
  log: Logger;
}

/** Returns the message handler of `def`; it never throws and replies exactly once per request. */
export function createDispatcher(def: FunctionDefinition, env: DispatchEnvironment, stats: EndpointStats): (msg: Msg) => void {
  const validateRequest = compileValidator(def.request);
  const validateResponse = compileValidator(def.response);
  const log = env.log.child({ fn: def.name, version: def.version });
  const { maxPayload, maxInFlight, timeoutMs } = def.limits;
  const shed = overloadReply(def.name, maxInFlight);
  const acceptsReply = replyGuard({ fn: def.name, version: def.version, stats, log }, inboxPrefixOf(env.nc));

  // At the limit, the cheapest possible refusal: no parse, no validation, no promise, no Error.
  const refuseOverload = (msg: Msg): void => {
    const start = nowNs();
    msg.respond(shed.body, { headers: shed.headers });
    const elapsed = nowNs() - start;
    stats.record(elapsed, shed.outcome);
    opsHooks.onRequest?.(def.name, def.version, elapsed, 429);
  };

  const handle = async (msg: Msg): Promise<void> => {
    const start = nowNs();
    let admitted = false;
    let outcome: FunctionError | undefined;
    try {
      if (msg.data.length > maxPayload) {
        throw new FunctionError(413, `request body is ${msg.data.length} bytes; ${def.name} accepts at most ${maxPayload}`);
      }
      const input = parseRequestBody(msg.data);
      const details = validateRequest(input);
      if (details) {
        const first = details[0];
        throw new FunctionError(
          400,
          `request does not match the schema of ${def.name}: ${first?.path || "/"} ${first?.message ?? ""}`.trim(),
          details,
        );
      }
      stats.begin();
      admitted = true;
      const run = runWithDeadline(def, env, msg, input, requestTimeout(msg, timeoutMs), log);
      const result = isPromiseLike(run) ? await run : run;
      const replyProblems = validateResponse(result);
      if (replyProblems) {
        log.error("reply does not match the response schema", { details: replyProblems });
        throw new FunctionError(500, "internal error");
      }
      msg.respond(JSON.stringify(result));
    } catch (err) {
      outcome = toFunctionError(err);
      if (outcome.code === 500) {
        // Cold path: the ids an operator needs to find this request's trace and business operation.
        const traceId = msg.headers?.get(TRACEPARENT).split("-")[1] || undefined;
        log.error("request failed", { error: err, traceId, correlationId: msg.headers?.get(CORRELATION_ID) || undefined });
      } else if (log.enabled("debug")) log.debug("request refused", { code: outcome.code, message: outcome.message });
      respondError(msg, outcome);
    } finally {
      if (admitted) stats.end();
      // One clock reading, so STATS and the metrics hook see the same duration.
      const elapsed = nowNs() - start;
      stats.record(elapsed, outcome && { code: outcome.code, message: outcome.message, rejected: outcome.code === 429 });
      opsHooks.onRequest?.(def.name, def.version, elapsed, outcome?.code);
    }
  };
  // The size check is a length comparison, so it still comes first: an oversized body gets 413, never 429.
  return (msg) => {
    if (!acceptsReply(msg)) return;
    if (stats.inFlight >= maxInFlight && msg.data.length <= maxPayload) refuseOverload(msg);
    else void handle(msg);
  };
}

/** The 429 reply of one function, built once: it is the same bytes for every refused request. */
function overloadReply(name: string, maxInFlight: number) {
  const err = new FunctionError(429, `${name} is at its limit of ${maxInFlight} requests in flight; retry shortly`);
  const headers = natsHeaders();
  headers.set(SERVICE_ERROR, headerText(err.message));
  headers.set(SERVICE_ERROR_CODE, String(err.code));
  const body = new TextEncoder().encode(JSON.stringify(err.toBody()));
  return { headers, body, outcome: { code: err.code, message: err.message, rejected: true } };
}

/** The error reply of the contract: both headers and the JSON body; nothing internal. */
export function respondError(msg: Msg, err: FunctionError): void {
  const h = natsHeaders();
  h.set(SERVICE_ERROR, headerText(err.message));
  h.set(SERVICE_ERROR_CODE, String(err.code));
  msg.respond(JSON.stringify(err.toBody()), { headers: h });
}

// The caller's remaining time (Nfn-Timeout-Ms) can only shorten the function's own timeout.
function requestTimeout(msg: Msg, own: number): number {
  const sent = Number(msg.headers?.get(TIMEOUT_MS));
  return Number.isFinite(sent) && sent > 0 ? Math.min(own, sent) : own;
}

/**
 * Runs auth and the handler under the request's deadline. A synchronous handler without auth
 * returns directly: nothing can time out, so no timer, signal or promise is made for it.
 */
function runWithDeadline(
  def: FunctionDefinition,
  env: DispatchEnvironment,
  msg: Msg,
  input: unknown,
  timeoutMs: number,
  log: Logger,
): unknown {
  const cancel = new Cancellation();
  const traceparent = msg.headers?.get(TRACEPARENT);
  const trace = opsHooks.startInvocation ? continueTrace(traceparent) : undefined;
  const endSpan = trace && opsHooks.startInvocation?.(def.name, def.version, trace, traceparent);
  const ctx = new RequestContext({
    nc: env.nc,
    state: env.state,
    subjectFor: env.subjectFor,
    fn: { name: def.name, version: def.version },
    headers: msg.headers,
    trace,
    deadline: Date.now() + timeoutMs,
    cancel,
    log,
  });
  let work: unknown;
  if (def.auth) {
    const auth = def.auth;
    work = verifyCaller(msg.headers?.get(AUTHORIZATION), auth).then((caller) => {
      ctx.caller = caller;
      return def.handler(input, ctx);
    });
  } else {
    try {
      work = def.handler(input, ctx);
    } catch (err) {
      endSpan?.(toFunctionError(err).code);
      throw err;
    }
    if (!isPromiseLike(work)) {
      endSpan?.(undefined);
      return work;
    }
  }
  const pending = work as PromiseLike<unknown>;
  const outcome = new Promise<unknown>((resolve, reject) => {
    const timer = setTimeout(() => {
      const err = new FunctionError(504, `${def.name} did not finish within ${timeoutMs} ms`);
      cancel.abort(err);
      reject(err);
    }, timeoutMs);
    pending.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        // After the deadline the caller already has its 504; a late failure is only logged.
        if (cancel.isAborted) log.debug("handler ended after its deadline", { error: err });
        reject(err);
      },
    );
  });
  if (endSpan)
    outcome.then(
      () => endSpan(undefined),
      (err: unknown) => endSpan(toFunctionError(err).code),
    );
  return outcome;
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";
}
