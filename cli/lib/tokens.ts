/** Development tokens: HS256 JWTs signed with the secret that verify_token checks. */
import { SignJWT } from "jose";

/** What goes into a token. */
export interface TokenClaims {
  sub: string;
  scopes: string[];
  ttlSeconds: number;
  issuer?: string;
  audience?: string;
}

/** Signs a token with claims sub, scope (space-separated), iat, exp and, when given, iss and aud. */
export async function mintToken(secret: string, claims: TokenClaims): Promise<string> {
  const jwt = new SignJWT({ scope: claims.scopes.join(" ") })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(`${claims.ttlSeconds}s`);
  if (claims.issuer) jwt.setIssuer(claims.issuer);
  if (claims.audience) jwt.setAudience(claims.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}
