/** The verified caller: the runtime asks verify_token, so no function re-implements JWT checks. */
import { FunctionError } from "./errors.ts";
import type { AuthRequirement, Caller, Context } from "./types.ts";

/** Name of the function that checks tokens. */
export const VERIFY_TOKEN_FUNCTION = "verify_token";

/** How long a token verify_token accepted is trusted without asking again (never past its `exp`). */
export const VERIFIED_TOKEN_TTL_MS = 30_000;
const MAX_CACHED_TOKENS = 10_000;

interface VerifiedToken {
  sub: string;
  scopes: string[];
  exp?: number;
  claims: Record<string, unknown>;
}

// A JWT's verdict depends only on its bytes, the keys and the clock, so an accepted token is kept
// for a short while: a burst of requests with one token costs one verify_token call, not one each.
const accepted = new Map<string, { caller: Caller; until: number }>();

/** Checks the bearer token through verify_token and the required scopes; 401 or 403 when it fails. */
export async function verifyCaller(
  ctx: Pick<Context, "call">,
  authorization: string | undefined,
  requirement: AuthRequirement,
): Promise<Caller> {
  const match = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
  const token = match?.[1];
  if (!token) throw new FunctionError(401, "missing bearer token: send the header Authorization: Bearer <jwt>");
  const caller = cachedCaller(token) ?? (await askVerifyToken(ctx, token));
  const missing = (requirement.scopes ?? []).filter((s) => !caller.scopes.includes(s));
  if (missing.length > 0) throw new FunctionError(403, `token lacks the scope ${missing.join(", ")}`);
  return caller;
}

function cachedCaller(token: string): Caller | undefined {
  const entry = accepted.get(token);
  if (!entry) return undefined;
  if (entry.until > Date.now()) return entry.caller;
  accepted.delete(token);
  return undefined;
}

async function askVerifyToken(ctx: Pick<Context, "call">, token: string): Promise<Caller> {
  const verified = await ctx.call<VerifiedToken>(VERIFY_TOKEN_FUNCTION, { token });
  const caller: Caller = { sub: verified.sub, scopes: verified.scopes, claims: verified.claims };
  const expiresAt = typeof verified.exp === "number" ? verified.exp * 1000 : Date.now();
  const until = Math.min(expiresAt, Date.now() + VERIFIED_TOKEN_TTL_MS);
  if (until > Date.now()) {
    if (accepted.size >= MAX_CACHED_TOKENS) accepted.delete(accepted.keys().next().value ?? "");
    accepted.set(token, { caller, until });
  }
  return caller;
}
