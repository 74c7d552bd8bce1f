/**
 * Who is looking at the dashboard. A viewer is an admin when it sends `Authorization: Bearer <jwt>`
 * with the scope `nfn:admin`, verified in this process with the configured keys (AUTH_JWT_SECRET,
 * AUTH_PUBLIC_KEY, AUTH_JWKS_FILE), exactly as a function checks its caller. Bound to loopback, anyone may look but sees no ids or error texts; bound
 * beyond loopback, every dashboard data route needs the admin token. Replay always does.
 */
import type { Context } from "hono";
import { verifyCaller } from "../runtime/auth.ts";
import { FunctionError, toFunctionError } from "../runtime/errors.ts";
import { AUTHORIZATION } from "../runtime/headers.ts";

/** The scope that makes a dashboard viewer an admin. */
export const ADMIN_SCOPE = "nfn:admin";

/** How the dashboard decides. */
export interface DashboardAuth {
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
    const caller = await verifyCaller(header, {});
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
