/**
 * The verified caller. Tokens are checked in this process with the configured keys (runtime/auth/):
 * identity never comes from a message on the bus, so no responder on any subject can vouch for one.
 */
import { FunctionError } from "./errors.ts";
import { type AuthKeys, authKeys } from "./auth/keys.ts";
import { TokenCache } from "./auth/token-cache.ts";
import { verifyJwt } from "./auth/verify-jwt.ts";
import type { AuthRequirement, Caller } from "./types.ts";

// A JWT's verdict depends only on its bytes, the keys and the clock, so an accepted token is kept
// for a short while: a burst of requests with one token costs one signature check, not one each.
const accepted = new TokenCache<Caller>();
let cachedFor: AuthKeys | undefined;

/** Verifies the bearer token in-process and checks the required scopes; 401 or 403 when it fails. */
export async function verifyCaller(authorization: string | undefined, requirement: AuthRequirement): Promise<Caller> {
  const match = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
  const token = match?.[1];
  if (!token) throw new FunctionError(401, "missing bearer token: send the header Authorization: Bearer <jwt>");
  const keys = currentKeys();
  let caller = accepted.get(token);
  if (!caller) {
    const verified = await verifyJwt(token, keys);
    caller = { sub: verified.sub, scopes: verified.scopes, claims: verified.claims };
    accepted.set(token, caller, verified.exp);
  }
  const missing = (requirement.scopes ?? []).filter((s) => !caller.scopes.includes(s));
  if (missing.length > 0) throw new FunctionError(403, `token lacks the scope ${missing.join(", ")}`);
  return caller;
}

// A bad key configuration is a 500 for the request (the process refuses to start with one, see host.ts).
function currentKeys(): AuthKeys {
  let keys: AuthKeys;
  try {
    keys = authKeys();
  } catch (err) {
    throw new FunctionError(500, "internal error", undefined, { cause: err });
  }
  if (keys !== cachedFor) {
    accepted.clear();
    cachedFor = keys;
  }
  return keys;
}
