/** Token verification with jose: the algorithm is chosen by the configured key, never by the token. */
import { type JWTPayload, decodeProtectedHeader, errors as joseErrors, jwtVerify } from "jose";
import { FunctionError } from "../errors.ts";
import { ASYMMETRIC_ALGS, type AuthKeys, NO_KEY_MESSAGE, hasAnyKey } from "./keys.ts";

/** Longest token accepted, in characters (bytes: tokens are ASCII). */
export const MAX_TOKEN_LENGTH = 8192;
/** Seconds of clock difference forgiven on exp and nbf. */
export const CLOCK_TOLERANCE_SEC = 5;

/** A verified token. */
export interface VerifiedToken {
  sub: string;
  scopes: string[];
  exp: number;
  claims: JWTPayload;
}

const unauthorized = (message: string) => new FunctionError(401, message);

/** Verifies `token` against `keys`; every failure is 401 with a reason that echoes nothing of the token. */
export async function verifyJwt(token: string, keys: AuthKeys): Promise<VerifiedToken> {
  if (token.length > MAX_TOKEN_LENGTH) throw unauthorized(`token is ${token.length} bytes; at most ${MAX_TOKEN_LENGTH} are accepted`);
  if (!hasAnyKey(keys)) throw unauthorized(NO_KEY_MESSAGE);
  let alg: string;
  try {
    alg = String(decodeProtectedHeader(token).alg ?? "");
  } catch {
    throw unauthorized("token is malformed: expected a compact JWS (header.payload.signature)");
  }
  if (alg === "none" || alg === "") throw unauthorized("unsigned tokens (alg: none) are refused");

  const options = { issuer: keys.issuer, audience: keys.audience, clockTolerance: CLOCK_TOLERANCE_SEC, requiredClaims: ["sub", "exp"] };
  let payload: JWTPayload;
  try {
    if (alg === "HS256" && keys.secret) {
      payload = (await jwtVerify(token, keys.secret, { ...options, algorithms: ["HS256"] })).payload;
    } else if (keys.publicKey?.algs.includes(alg)) {
      payload = (await jwtVerify(token, keys.publicKey.key, { ...options, algorithms: keys.publicKey.algs })).payload;
    } else if (keys.jwks && (ASYMMETRIC_ALGS as readonly string[]).includes(alg)) {
      payload = (await jwtVerify(token, keys.jwks, { ...options, algorithms: [...ASYMMETRIC_ALGS] })).payload;
    } else {
      throw unauthorized(`token algorithm ${alg} is not accepted with the configured keys`);
    }
  } catch (err) {
    throw err instanceof FunctionError ? err : unauthorized(reasonOf(err));
  }
  if (typeof payload.sub !== "string" || payload.sub === "") throw unauthorized("token has no subject (sub)");
  const scope = payload.scope;
  const scopes = typeof scope === "string" ? scope.split(" ").filter(Boolean) : [];
  return { sub: payload.sub, scopes, exp: payload.exp ?? 0, claims: payload };
}

// jose's error classes say what failed; turn them into short messages a caller can act on.
function reasonOf(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return "token has expired: get a new one";
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === "nbf") return "token is not valid yet (nbf)";
    if (err.claim === "iss") return "token issuer (iss) is not the expected one";
    if (err.claim === "aud") return "token audience (aud) is not the expected one";
    return `token claim ${err.claim} is missing or invalid`;
  }
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return "token signature is invalid";
  if (err instanceof joseErrors.JWKSNoMatchingKey) return "no key in AUTH_JWKS_FILE matches the token (kid/alg)";
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return "token algorithm is not accepted";
  if (err instanceof joseErrors.JWTInvalid || err instanceof joseErrors.JWSInvalid) return "token is malformed";
  return "token could not be verified";
}
