/**
 * Verification keys from the environment: AUTH_JWT_SECRET (HS256), AUTH_PUBLIC_KEY (PEM: RS256, ES256
 * or EdDSA, told by the key itself) and AUTH_JWKS_FILE (a local JWKS document). Read when used and
 * cached per value, so a key set in the environment before start is picked up. Every process that
 * verifies tokens (any function with `auth`, and verify_token) reads the same variables.
 */
import { createPublicKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from "jose";

/** Asymmetric algorithms accepted from a public key or a JWKS. */
export const ASYMMETRIC_ALGS = ["RS256", "ES256", "EdDSA", "Ed25519"] as const;

/** What a token may be verified with; each key only ever with its own algorithms. */
export interface AuthKeys {
  secret?: Uint8Array;
  publicKey?: { key: KeyObject; algs: string[] };
  jwks?: JWTVerifyGetKey;
  issuer?: string;
  audience?: string;
}

/** Shortest HS256 secret accepted, in bytes (RFC 7518: a key at least as long as the hash). */
export const MIN_SECRET_BYTES = 32;

/** Error text when no key is configured: says exactly what to set. */
export const NO_KEY_MESSAGE = "no verification key configured: set AUTH_JWT_SECRET or AUTH_PUBLIC_KEY or AUTH_JWKS_FILE";

let cache: { fingerprint: string; keys: AuthKeys } | undefined;

/** The keys for the current environment; throws with a message that names the bad variable. */
export function authKeys(env: NodeJS.ProcessEnv = process.env): AuthKeys {
  const names = ["AUTH_JWT_SECRET", "AUTH_PUBLIC_KEY", "AUTH_JWKS_FILE", "AUTH_ISSUER", "AUTH_AUDIENCE"] as const;
  const fingerprint = JSON.stringify(names.map((n) => env[n] ?? ""));
  if (cache?.fingerprint === fingerprint) return cache.keys;
  const keys: AuthKeys = { issuer: env.AUTH_ISSUER || undefined, audience: env.AUTH_AUDIENCE || undefined };
  if (env.AUTH_JWT_SECRET) keys.secret = secretFrom(env.AUTH_JWT_SECRET);
  if (env.AUTH_PUBLIC_KEY) keys.publicKey = publicKeyFrom(env.AUTH_PUBLIC_KEY);
  if (env.AUTH_JWKS_FILE) keys.jwks = jwksFrom(env.AUTH_JWKS_FILE);
  cache = { fingerprint, keys };
  return keys;
}

/**
 * Reads the keys once at start so that a bad one stops the process there, with the variable named,
 * rather than failing every request later. Throws what `authKeys` throws.
 */
export function checkAuthConfig(env: NodeJS.ProcessEnv = process.env): AuthKeys {
  return authKeys(env);
}

/** True when at least one key is configured. */
export function hasAnyKey(keys: AuthKeys): boolean {
  return keys.secret !== undefined || keys.publicKey !== undefined || keys.jwks !== undefined;
}

// A short HMAC secret can be brute-forced offline from one token, so it is refused outright.
function secretFrom(value: string): Uint8Array {
  const bytes = new TextEncoder().encode(value);
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new Error(
      `AUTH_JWT_SECRET is ${bytes.length} bytes; at least ${MIN_SECRET_BYTES} are required (make one with: openssl rand -base64 32)`,
    );
  }
  return bytes;
}

// The PEM may be given inline (with real or "\n"-escaped newlines, as env files often hold it) or as a file path.
function publicKeyFrom(value: string): { key: KeyObject; algs: string[] } {
  const pem = value.includes("-----BEGIN") ? value.replace(/\\n/g, "\n") : readText(value, "AUTH_PUBLIC_KEY");
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new Error("AUTH_PUBLIC_KEY is not a PEM public key (-----BEGIN PUBLIC KEY-----)");
  }
  const type = key.asymmetricKeyType;
  if (type === "rsa") return { key, algs: ["RS256"] };
  if (type === "ec" && key.asymmetricKeyDetails?.namedCurve === "prime256v1") return { key, algs: ["ES256"] };
  if (type === "ed25519") return { key, algs: ["EdDSA", "Ed25519"] };
  throw new Error(`AUTH_PUBLIC_KEY is a ${type ?? "unknown"} key; use RSA (RS256), EC P-256 (ES256) or Ed25519 (EdDSA)`);
}

function jwksFrom(path: string): JWTVerifyGetKey {
  let doc: unknown;
  try {
    doc = JSON.parse(readText(path, "AUTH_JWKS_FILE"));
  } catch (err) {
    throw err instanceof SyntaxError ? new Error(`AUTH_JWKS_FILE ${path} is not JSON`) : err;
  }
  const keys = (doc as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new Error(`AUTH_JWKS_FILE ${path} has no "keys" array`);
  // Only public signing keys: a JWKS holding an "oct" (HMAC) key would reopen algorithm confusion.
  const usable = keys.filter((k: unknown) => typeof k === "object" && k !== null && (k as { kty?: unknown }).kty !== "oct");
  return createLocalJWKSet({ keys: usable } as JSONWebKeySet);
}

function readText(path: string, name: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    throw new Error(`${name}=${path} cannot be read: give the file's path (or, for AUTH_PUBLIC_KEY, the PEM text itself)`);
  }
}
