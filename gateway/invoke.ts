/**
 * `POST /fn/<name>` on plain node:http: one HTTP request becomes one NATS request to the function's
 * endpoint. Authorization, Idempotency-Key, traceparent and the correlation id pass through; a
 * function's error reply becomes the HTTP status of the same number with the same JSON body. The
 * order: method, media type, name, route (public functions only), 413, then NATS.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { NatsConnection } from "@nats-io/nats-core";
import { readBodyWithin, sendError, sendJson, sendReply } from "./http-body.ts";
import type { Discovery } from "./discovery.ts";
import type { RequestLog } from "./dashboard-requests.ts";
import { sameWrite } from "./write-batch.ts";
import { type InvocationMetrics, gatewayMetrics } from "./metrics.ts";
import { FunctionError, isFunctionError, toFunctionError } from "../runtime/errors.ts";
import { requestWithRetry } from "../runtime/client/index.ts";
import { AUTHORIZATION, CORRELATION_ID, IDEMPOTENCY_KEY, TRACEPARENT } from "../runtime/headers.ts";
import { continueTrace, formatTraceparent } from "../runtime/trace.ts";
import { parentSpanOf, spanStarter } from "../runtime/ops/tracing.ts";

const NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
/** Extra time the gateway waits beyond the function's own timeout, so the function's 504 arrives first. */
export const GRACE_MS = 500;
/** Longest deadline a client may ask for with `Nfn-Timeout-Ms`. */
const MAX_TIMEOUT_MS = 60_000;
const PREFIX = "/fn/";
// node:http keys headers in lower case; NATS headers are matched exactly, so they go on under the contract's names.
const PASSED_HEADERS = [
  ["authorization", AUTHORIZATION],
  ["idempotency-key", IDEMPOTENCY_KEY],
  ["nfn-correlation-id", CORRELATION_ID],
] as const;
const METHOD_NOT_ALLOWED = { error: { code: 405, type: "METHOD_NOT_ALLOWED", message: "invoke a function with POST and a JSON body" } };
const UNKNOWN = "(unknown)";

/** Everything the invoke route needs. */
export interface InvokeDeps {
  nc: NatsConnection;
  discovery: Discovery;
  /** The dashboard's log of recent invocations, when there is one. */
  requests?: RequestLog;
}

/** Handles one request under /fn/; never throws (every failure is a contract error response). */
export function invoke(req: IncomingMessage, res: ServerResponse, deps: InvokeDeps): void {
  const at = Date.now();
  const started = performance.now();
  const url = req.url ?? PREFIX;
  const q = url.indexOf("?");
  const path = q < 0 ? url : url.slice(0, q);
  const name = decodeName(path.slice(PREFIX.length));
  const incoming = header(req, "traceparent");
  const trace = continueTrace(incoming);
  const traceparent = formatTraceparent(trace);
  const starter = spanStarter();
  const endSpan = starter?.({
    name: `POST /fn/${name}`,
    kind: "server",
    traceId: trace.traceId,
    spanId: trace.spanId,
    parentSpanId: parentSpanOf(incoming, trace.traceId),
    attributes: { "http.request.method": req.method ?? "", "http.route": "/fn/{name}", "faas.invoked_name": name },
  });
  const m = gatewayMetrics();
  const finish = (status: number) => {
    // Only served names become label values: anything a client types would grow the series without bound.
    m.observe(deps.discovery.has(name) ? name : UNKNOWN, status, (performance.now() - started) / 1000);
    endSpan?.(status >= 400 ? status : undefined);
    deps.requests?.record(at, started, path, header(req, "nfn-correlation-id"), status, traceparent, header(req, "idempotency-key"));
  };
  forward(req, res, deps, name, traceparent, m).then(finish, (err: unknown) => {
    const fe = toFunctionError(err);
    // A body we refused unread (413) leaves bytes on the socket: close it rather than parse them as a request.
    finish(res.headersSent ? res.statusCode : sendError(res, fe, traceparent, fe.code === 413));
  });
}

async function forward(
  req: IncomingMessage,
  res: ServerResponse,
  deps: InvokeDeps,
  name: string,
  traceparent: string,
  m: InvocationMetrics,
): Promise<number> {
  if (req.method !== "POST") return sendJson(res, 405, METHOD_NOT_ALLOWED, traceparent);
  if (!isJsonMediaType(req.headers["content-type"])) {
    throw new FunctionError(415, "send the body as JSON with content-type: application/json");
  }
  if (!NAME_PATTERN.test(name))
    throw new FunctionError(400, `"${name.slice(0, 64)}" is not a function name: use 1-64 letters, digits, "_" or "-"`);
  const route = deps.discovery.get(name) ?? (await deps.discovery.lookup(name));
  if (!route) {
    // Internal functions and other services on the bus answer exactly like names that do not exist.
    throw new FunctionError(404, `no public function ${name} is deployed: GET /openapi.json lists what this gateway serves`);
  }
  const body = await readBodyWithin(req, route.maxPayload, name);
  const headers: Record<string, string> = { [TRACEPARENT]: traceparent };
  for (const [from, to] of PASSED_HEADERS) {
    const value = header(req, from);
    if (value) headers[to] = value;
  }
  await sameWrite();
  const asked = Number(header(req, "nfn-timeout-ms"));
  const budget = Number.isInteger(asked) && asked > 0 ? Math.min(asked, MAX_TIMEOUT_MS) : route.timeoutMs + GRACE_MS;
  const msg = await requestWithRetry(deps.nc, {
    subject: route.subject,
    fn: name,
    body,
    headers,
    deadline: Date.now() + budget,
    onRetry: (err) => m.retried(name, isFunctionError(err) && err.code === 429 ? "overloaded" : "no_responders"),
  });
  return sendReply(res, msg, traceparent);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

// `application/json`, any case, with or without parameters (charset): what a browser cannot send cross-site without a preflight.
function isJsonMediaType(value: string | undefined): boolean {
  if (value === undefined) return false;
  const semi = value.indexOf(";");
  return (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase() === "application/json";
}

function decodeName(raw: string): string {
  if (!raw.includes("%")) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}
