/**
 * Who is looking at the dashboard. A viewer is an admin when it sends `Authorization: Bearer <jwt>`
 * that verify_token accepts with the scope `nfn:admin` (checked like any function's auth, with the
 * same short cache). Bound to loopback, anyone may look but sees no ids or error texts; bound
 * beyond loopback, every dashboard data route needs the admin token. Replay always does.
 */
import type { Context } from "hono";
import type { NatsConnection } from "@nats-io/nats-core";
import type { Discovery } from "./discovery.ts";
import { verifyCaller, VERIFY_TOKEN_FUNCTION } from "../runtime/auth.ts";
import { decodeReply, requestFunction } from "../runtime/call.ts";
import { FunctionError, toFunctionError } from "../runtime/errors.ts";
import { AUTHORIZATION } from "../runtime/headers.ts";

/** The scope that makes a dashboard viewer an admin. */
export const ADMIN_SCOPE = "nfn:admin";
const VERIFY_TIMEOUT_MS = 3000;

/** How the dashboard decides, and how it reaches verify_token. */
export interface DashboardAuth {
  nc: NatsConnection;
  discovery: Discovery;
  /** True when the gateway listens beyond loopback: then nothing is shown without the admin token. */
  requireToken: boolean;
}

/** What a viewer may see. */
export interface Viewer {
  /** Sees order ids, customer ids, correlation ids, event data and error texts; may replay. */
  admin: boolean;
}

/** True for addresses and names that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, "");
  return h === "localhost" || h === "::1" || /^127(?:\.\d{1,3}){3}$/.test(h);
}

/**
 * The viewer of this request, or the error response to send: 401 for a missing (when required) or
 * bad token, 403 for a token without the admin scope (when required).
 */
export async function viewerOf(c: Context, auth: DashboardAuth, needAdmin = false): Promise<Viewer | Response> {
  const header = c.req.header(AUTHORIZATION);
  const required = needAdmin || auth.requireToken;
  if (!header) {
    if (!required) return { admin: false };
    return refuse(
      c,
      new FunctionError(401, `the dashboard needs a bearer token with the scope ${ADMIN_SCOPE} (nfn token --scope ${ADMIN_SCOPE})`),
    );
  }
  try {
    const caller = await verifyCaller({ call: (fn, input) => callFunction(auth, fn, input) }, header, {});
    if (caller.scopes.includes(ADMIN_SCOPE)) return { admin: true };
    if (!required) return { admin: false };
    return refuse(c, new FunctionError(403, `token lacks the scope ${ADMIN_SCOPE}`));
  } catch (err) {
    return refuse(c, toFunctionError(err));
  }
}

function refuse(c: Context, err: FunctionError): Response {
  return c.json(err.toBody(), err.code);
}

async function callFunction<T>(auth: DashboardAuth, fn: string, input: unknown): Promise<T> {
  if (fn !== VERIFY_TOKEN_FUNCTION) throw new FunctionError(500, "internal error");
  const route = await auth.discovery.lookup(fn);
  if (!route) throw new FunctionError(503, `${fn} is not deployed, so the dashboard cannot check tokens`);
  const msg = await requestFunction(auth.nc, {
    subject: route.subject,
    fn,
    body: JSON.stringify(input),
    headers: {},
    timeoutMs: VERIFY_TIMEOUT_MS,
  });
  return decodeReply(fn, msg) as T;
}
