/**
 * The per-request pipeline: size → JSON → request schema → in-flight limit → deadline → auth →
 * handler → response schema → exactly one reply → stats.
 */
import { randomUUID } from "node:crypto";
import { headers as natsHeaders, type Msg, type NatsConnection } from "@nats-io/nats-core";
import type { FunctionDefinition } from "./define-function.ts";
import { FunctionError, headerText, toFunctionError } from "./errors.ts";
import { AUTHORIZATION, SERVICE_ERROR, SERVICE_ERROR_CODE, TIMEOUT_MS, TRACEPARENT } from "./headers.ts";
import { parseRequestBody } from "./json.ts";
import type { Logger } from "./logger.ts";
import type { StateAccess } from "./state.ts";
import { type EndpointStats, nowNs } from "./stats.ts";
import { continueTrace } from "./trace.ts";
import { compileValidator } from "./validation.ts";
import { RequestContext, correlationIdOf } from "./context.ts";
import { verifyCaller } from "./auth.ts";
import { opsHooks } from "./ops/hooks.ts";

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
        throw new FunctionError(400, `request does not match the schema of ${def.name}: ${first?.path || "/"} ${first?.message ?? ""}`.trim(), details);
      }
      if (stats.inFlight >= maxInFlight) {
        throw new FunctionError(429, `${def.name} is at its limit of ${maxInFlight} requests in flight; retry shortly`);
      }
      stats.begin();
      admitted = true;
      const result = await runWithDeadline(def, env, msg, input, requestTimeout(msg, timeoutMs), log);
      if (validateResponse(result)) {
        log.error("reply does not match the response schema", { details: validateResponse(result) });
        throw new FunctionError(500, "internal error");
      }
      msg.respond(JSON.stringify(result));
    } catch (err) {
      outcome = toFunctionError(err);
      if (outcome.code === 500) log.error("request failed", { error: err });
      else if (log.enabled("debug")) log.debug("request refused", { code: outcome.code, message: outcome.message });
      respondError(msg, outcome);
    } finally {
      if (admitted) stats.end();
      stats.record(nowNs() - start, outcome && { code: outcome.code, message: outcome.message, rejected: outcome.code === 429 });
      opsHooks.onRequest?.(def.name, def.version, nowNs() - start, outcome?.code);
    }
  };
  return (msg) => void handle(msg);
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

async function runWithDeadline(def: FunctionDefinition, env: DispatchEnvironment, msg: Msg, input: unknown, timeoutMs: number, log: Logger): Promise<unknown> {
  const controller = new AbortController();
  const trace = continueTrace(msg.headers?.get(TRACEPARENT));
  const endSpan = opsHooks.startInvocation?.(def.name, def.version, trace, msg.headers?.get(TRACEPARENT));
  const ctx = new RequestContext({
    nc: env.nc,
    state: env.state,
    subjectFor: env.subjectFor,
    fn: { name: def.name, version: def.version },
    headers: msg.headers,
    trace,
    correlationId: correlationIdOf(msg.headers),
    requestId: randomUUID(),
    deadline: Date.now() + timeoutMs,
    signal: controller.signal,
    log,
  });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new FunctionError(504, `${def.name} did not finish within ${timeoutMs} ms`);
      controller.abort(err);
      reject(err);
    }, timeoutMs);
  });
  const work = (async () => {
    if (def.auth) ctx.caller = await verifyCaller(ctx, msg.headers?.get(AUTHORIZATION), def.auth);
    return def.handler(input, ctx);
  })();
  const outcome = Promise.race([work, timeout]);
  if (endSpan) outcome.then(() => endSpan(undefined), (err: unknown) => endSpan(toFunctionError(err).code));
  try {
    return await outcome;
  } finally {
    clearTimeout(timer);
    // A handler still running after its deadline may fail later; that must not crash the process.
    work.catch((err: unknown) => {
      if (controller.signal.aborted) log.debug("handler ended after its deadline", { error: err });
    });
  }
}
