/**
 * Test tokens minted with jose: HS256 with a fixed test secret, RS256/ES256/EdDSA with key pairs made
 * once per process, and the hostile ones verify_token must refuse (`alg: none`, algorithm confusion).
 */
import { SignJWT, UnsecuredJWT, exportJWK, exportSPKI, generateKeyPair, type CryptoKey, type JWK, type JWTPayload } from "jose";

/** The HS256 secret every test uses (32+ bytes, as RFC 7518 asks for HS256). */
export const TEST_JWT_SECRET = "nfn-test-secret-0123456789abcdef-0123456789";
/** Issuer and audience for tests that turn those checks on. */
export const TEST_ISSUER = "https://auth.jaen.example";
export const TEST_AUDIENCE = "nats-functions";

/** The asymmetric algorithms verify_token supports. */
export type AsymmetricAlg = "RS256" | "ES256" | "EdDSA";

/** One key pair: the private key to sign, the public key as PEM (SPKI) and as a JWK with `kid`. */
export interface TestKeyPair {
  alg: AsymmetricAlg;
  privateKey: CryptoKey;
  publicPem: string;
  publicJwk: JWK;
}

/** What a token says and how it is signed. */
export interface MintOptions {
  /** Subject; `null` leaves it out (an invalid token for verify_token). Default "customer-1". */
  sub?: string | null;
  /** Space-separated scopes for the `scope` claim. */
  scope?: string;
  /** Seconds from now until `exp`; negative makes an expired token. Default 300. */
  expiresInSec?: number;
  /** Seconds from now until `nbf`; positive makes a not-yet-valid token. */
  notBeforeSec?: number;
  issuer?: string;
  audience?: string;
  /** Extra claims. */
  claims?: JWTPayload;
  /** Sign with this key pair instead of the HS256 test secret. */
  key?: TestKeyPair;
  /** HS256 secret to use instead of TEST_JWT_SECRET. */
  secret?: string;
}

const bytes = (text: string) => new TextEncoder().encode(text);
let keysPromise: Promise<Record<AsymmetricAlg, TestKeyPair>> | undefined;

/** The RS256, ES256 and EdDSA (Ed25519) test key pairs, generated once per process. */
export function testKeyPairs(): Promise<Record<AsymmetricAlg, TestKeyPair>> {
  keysPromise ??= (async () => {
    const [rs, es, ed] = await Promise.all([makePair("RS256"), makePair("ES256"), makePair("EdDSA")]);
    return { RS256: rs, ES256: es, EdDSA: ed };
  })();
  return keysPromise;
}

async function makePair(alg: AsymmetricAlg): Promise<TestKeyPair> {
  const { publicKey, privateKey } = await generateKeyPair(
    alg,
    alg === "EdDSA" ? { crv: "Ed25519", extractable: true } : { extractable: true },
  );
  const publicJwk = { ...(await exportJWK(publicKey)), kid: `test-${alg.toLowerCase()}`, alg, use: "sig" };
  return { alg, privateKey, publicPem: await exportSPKI(publicKey), publicJwk };
}

/** A JWKS document (what AUTH_JWKS_FILE holds) with the given public keys. */
export function jwksOf(...pairs: TestKeyPair[]): { keys: JWK[] } {
  return { keys: pairs.map((p) => p.publicJwk) };
}

/** A signed token: HS256 with the test secret unless `key` is given. */
export async function mintToken(options: MintOptions = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload: JWTPayload = { ...options.claims };
  if (options.scope !== undefined) payload.scope = options.scope;
  const jwt = new SignJWT(payload).setIssuedAt(now).setExpirationTime(now + (options.expiresInSec ?? 300));
  const sub = options.sub === undefined ? "customer-1" : options.sub;
  if (sub !== null) jwt.setSubject(sub);
  if (options.notBeforeSec !== undefined) jwt.setNotBefore(now + options.notBeforeSec);
  if (options.issuer !== undefined) jwt.setIssuer(options.issuer);
  if (options.audience !== undefined) jwt.setAudience(options.audience);
  if (options.key) {
    jwt.setProtectedHeader({ alg: options.key.alg, kid: String(options.key.publicJwk.kid), typ: "JWT" });
    return jwt.sign(options.key.privateKey);
  }
  jwt.setProtectedHeader({ alg: "HS256", typ: "JWT" });
  return jwt.sign(bytes(options.secret ?? TEST_JWT_SECRET));
}

/** An unsigned `alg: none` token with a subject and scopes: must be refused with 401. */
export function noneToken(sub = "customer-1", scope = "inventory:admin"): string {
  return new UnsecuredJWT({ sub, scope }).setIssuedAt().setExpirationTime("5m").encode();
}

/**
 * The classic algorithm-confusion token: HS256 "signed" with the public key's PEM text as the HMAC
 * secret. A verifier that picks the algorithm from the token header would accept it.
 */
export async function confusionToken(pair: TestKeyPair, sub = "customer-1", scope = "inventory:admin"): Promise<string> {
  return new SignJWT({ scope })
    .setProtectedHeader({ alg: "HS256", typ: "JWT", kid: String(pair.publicJwk.kid) })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime("5m")
    .sign(bytes(pair.publicPem));
}

/** Environment for verify_token with the HS256 test secret (merge into configFromEnv / process.env). */
export function hs256AuthEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { AUTH_JWT_SECRET: TEST_JWT_SECRET, ...extra };
}

/** Convenience: an admin token (scope `inventory:admin`) and a customer token, both HS256. */
export async function standardTokens(): Promise<{ admin: string; customer: string; orderAdmin: string }> {
  const [admin, customer, orderAdmin] = await Promise.all([
    mintToken({ sub: "admin-1", scope: "inventory:admin" }),
    mintToken({ sub: "customer-1", scope: "orders:write" }),
    mintToken({ sub: "support-1", scope: "orders:admin" }),
  ]);
  return { admin, customer, orderAdmin };
}
