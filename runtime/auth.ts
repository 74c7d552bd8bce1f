/** The verified caller: the runtime asks verify_token, so no function re-implements JWT checks. */
import { FunctionError } from "./errors.ts";
import type { AuthRequirement, Caller, Context } from "./types.ts";

/** Name of the function that checks tokens. */
export const VERIFY_TOKEN_FUNCTION = "verify_token";

/** Checks the bearer token through verify_token and the required scopes; 401 or 403 when it fails. */
export async function verifyCaller(ctx: Context, authorization: string | undefined, requirement: AuthRequirement): Promise<Caller> {
  const match = authorization ? /^Bearer\s+(\S+)\s*$/i.exec(authorization) : null;
  if (!match?.[1]) throw new FunctionError(401, "missing bearer token: send the header Authorization: Bearer <jwt>");
  const verified = await ctx.call<{ sub: string; scopes: string[]; claims: Record<string, unknown> }>(VERIFY_TOKEN_FUNCTION, {
    token: match[1],
  });
  const caller: Caller = { sub: verified.sub, scopes: verified.scopes, claims: verified.claims };
  const missing = (requirement.scopes ?? []).filter((s) => !caller.scopes.includes(s));
  if (missing.length > 0) throw new FunctionError(403, `token lacks the scope ${missing.join(", ")}`);
  return caller;
}
