/** verify_token: checks a JWT for clients, with the same code and keys the runtime uses for every function's caller. */
import { NO_KEY_MESSAGE, authKeys, defineFunction, hasAnyKey, verifyJwt } from "../../runtime/index.ts";
import request from "../../schemas/verify_token.request.json" with { type: "json" };
import response from "../../schemas/verify_token.response.json" with { type: "json" };
import type { VerifyTokenRequest, VerifyTokenResponse } from "../../schemas/types.ts";

/** The function; a missing key is a warning at start and a 401 per request, so the other functions keep serving. */
export default defineFunction<VerifyTokenRequest, VerifyTokenResponse>({
  name: "verify_token",
  version: "1.0.0",
  description:
    "Verifies a JWT (HS256 secret, or RS256/ES256/EdDSA public key or JWKS) and returns sub, scopes, exp and claims; 401 when not valid",
  request,
  response,
  kv: [],
  limits: { maxInFlight: 1024 },
  timers: [
    {
      name: "check-keys",
      everyMs: 2_147_483_647, // only the run at start matters
      run(ctx) {
        if (!hasAnyKey(authKeys())) ctx.log.warn(`${NO_KEY_MESSAGE}; every token is refused with 401 until then`);
        return Promise.resolve();
      },
    },
  ],
  async handler(input) {
    const verified = await verifyJwt(input.token, authKeys());
    return { valid: true, ...verified };
  },
});
