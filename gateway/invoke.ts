/**
 * `POST /fn/<name>`: one HTTP request becomes one NATS request to the function's endpoint.
 * Authorization, Idempotency-Key, traceparent and the correlation id pass through; a function's
 * error reply becomes the HTTP status of the same number with the same JSON body.
 */
import type { Context } from "hono";
import type { NatsConnection } from "@nats-io/nats-core";
import { decodeReplyStatus, readBodyWithin } from "./http-body.ts";
import type { Discovery } from "./discovery.ts";
import { gatewayMetrics } from "./metrics.ts";
import { FunctionError, isFunctionError, toFunctionError } from "../runtime/errors.ts";
import { decodeReply, requestFunction } from "../runtime/call.ts";
import { AUTHORIZATION, CORRELATION_ID, IDEMPOTENCY_KEY, SERVICE_ERROR_CODE, TIMEOUT_MS, TRACEPARENT } from "../runtime/headers.ts";
import { continueTrace, formatTraceparent } from "../runtime/trace.ts";
import { withRetry } from "../runtime/ops/retry.ts";
import { parentSpanOf, spanStarter } from "../runtime/ops/tracing.ts";

const NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** Extra time the gateway waits beyond the function's own timeout, so the function's 504 arrives first. */
const GRACE_MS = 500;
/** Longest deadline a client may ask for with `Nfn-Timeout-Ms`. */
const MAX_TIMEOUT_MS = 60_000;

/** Everything the invoke route needs. */
export interface InvokeDeps {
  nc: NatsConnection;
  discovery: Discovery;
}

/** Handles one invocation; never throws (every failure is a contract error response). */
export async function invoke(c: Context, deps: InvokeDeps): Promise<Response> {
  const started = process.hrtime.bigint();
  const name = c.req.param("name") ?? "";
  const trace = continueTrace(c.req.header(TRACEPARENT));
  const endSpan = spanStarter()?.({
    name: `POST /fn/${name}`,
    kind: "server",
    traceId: trace.traceId,
    spanId: trace.spanId,
    parentSpanId: parentSpanOf(c.req.header(TRACEPARENT), trace.traceId),
    attributes: { "http.request.method": "POST", "http.route": "/fn/{name}", "faas.invoked_name": name },
  });
  let response: Response;
  try {
    response = await forward(c, deps, name, formatTraceparent(trace));
  } catch (err) {
    const fe = toFunctionError(err);
    response = c.json(fe.toBody(), fe.code);
  }
  response.headers.set("traceparent", formatTraceparent(trace));
  // Only deployed names become label values: anything a client types would grow the series without bound.
  const label = deps.discovery.has(name) ? name : "(unknown)";
  const m = gatewayMetrics();
  m.requests.inc({ function: label, status: String(response.status) });
  m.duration.observe({ function: label }, Number(process.hrtime.bigint() - started) / 1e9);
  endSpan?.(response.status >= 400 ? response.status : undefined);
  return response;
}

async function forward(c: Context, deps: InvokeDeps, name: string, traceparent: string): Promise<Response> {
  if (!NAME_PATTERN.test(name))
    throw new FunctionError(400, `"${name.slice(0, 64)}" is not a function name: use 1-64 letters, digits, "_" or "-"`);
  const route = await deps.discovery.lookup(name);
  if (!route) {
    throw new FunctionError(
      503,
      `function ${name} is not deployed: no instance answers $SRV.INFO.${name}; deploy it or check the name (GET /openapi.json lists what is deployed)`,
    );
  }
  const body = await readBodyWithin(c.req.raw, route.maxPayload, name);
  const headers: Record<string, string> = { [TRACEPARENT]: traceparent };
  for (const h of [AUTHORIZATION, IDEMPOTENCY_KEY, CORRELATION_ID]) {
    const value = c.req.header(h);
    if (value) headers[h] = value;
  }
  const asked = Number(c.req.header(TIMEOUT_MS));
  const budget = Number.isInteger(asked) && asked > 0 ? Math.min(asked, MAX_TIMEOUT_MS) : route.timeoutMs + GRACE_MS;
  const deadline = Date.now() + budget;
  const retries = gatewayMetrics().retries;
  const msg = await withRetry(
    async () => {
      const reply = await requestFunction(deps.nc, { subject: route.subject, fn: name, body, headers, timeoutMs: deadline - Date.now() });
      // A 429 reply means the instance refused before running anything: throw it so it is retried.
      if (reply.headers?.get(SERVICE_ERROR_CODE) === "429") decodeReply(name, reply);
      return reply;
    },
    deadline,
    undefined,
    (_n, err) => retries.inc({ function: name, reason: isFunctionError(err) && err.code === 429 ? "overloaded" : "no_responders" }),
  );
  const { status, json } = decodeReplyStatus(msg);
  return new Response(json, { status, headers: { "content-type": "application/json; charset=utf-8" } });
}
