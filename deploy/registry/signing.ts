/**
 * Release signatures: Ed25519 through nkeys. `nfn deploy` signs with NFN_SIGNING_KEY (a user seed,
 * `SU...`); a worker accepts a release only when its `signer` is one of NFN_TRUSTED_SIGNERS (public
 * keys, `U...`) and the signature covers exactly what the worker is about to run.
 */
import { type KeyPair, createUser, fromPublic, fromSeed } from "@nats-io/nkeys";

/** Marks the signed bytes as a release of this format, so a signature made for anything else never verifies here. */
export const SIGNATURE_DOMAIN = "nats-functions release v1";

/** What a signature covers: the identity of the code, not when or by whom it was recorded. */
export interface SignedFields {
  name: string;
  version: string;
  sha256: string;
  sizeBytes: number;
  object: string;
}

/** The signature fields a release record carries. */
export interface ReleaseSignature {
  /** Base64 Ed25519 signature over `signingBytes(release)`. */
  signature: string;
  /** Public nkey (`U...`) of the key that signed. */
  signer: string;
}

/**
 * The canonical bytes that are signed: a fixed prefix and the fields in a fixed order as a JSON
 * array, so no field can be moved into another's place and no key order or whitespace matters.
 */
export function signingBytes(r: SignedFields): Uint8Array {
  return new TextEncoder().encode(JSON.stringify([SIGNATURE_DOMAIN, r.name, r.version, r.sha256, r.sizeBytes, r.object]));
}

/** Opens a signing key from its seed text; the error never contains the seed. */
export function signingKeyFromSeed(seed: string): KeyPair {
  const text = seed.trim();
  let kp: KeyPair;
  try {
    kp = fromSeed(new TextEncoder().encode(text));
  } catch {
    throw new Error("NFN_SIGNING_KEY is not an nkey seed: expected a user seed starting with SU (nfn auth init writes one)");
  }
  if (!kp.getPublicKey().startsWith("U")) throw new Error("NFN_SIGNING_KEY must be a user seed (SU...), not another kind of nkey");
  return kp;
}

/** The signing key from NFN_SIGNING_KEY; throws saying what to set when it is missing. */
export function signingKeyFromEnv(env: NodeJS.ProcessEnv = process.env): KeyPair {
  const seed = env.NFN_SIGNING_KEY;
  if (!seed) {
    throw new Error(
      "NFN_SIGNING_KEY is not set: workers run only signed releases. Set it to the deployer's nkey seed (nfn auth init writes it into deployer.env)",
    );
  }
  return signingKeyFromSeed(seed);
}

/** Signs `fields` with `key`. */
export function signRelease(fields: SignedFields, key: KeyPair): ReleaseSignature {
  return { signature: Buffer.from(key.sign(signingBytes(fields))).toString("base64"), signer: key.getPublicKey() };
}

/** A new signing key pair (for tests and first setup): the seed to keep secret and the public key to trust. */
export function newSigningKey(): { seed: string; publicKey: string } {
  const kp = createUser();
  return { seed: new TextDecoder().decode(kp.getSeed()), publicKey: kp.getPublicKey() };
}

/** Parses NFN_TRUSTED_SIGNERS (comma-separated public user nkeys); throws naming the first bad entry's position. */
export function parseTrustedSigners(value: string | undefined): string[] {
  if (value === undefined || value.trim() === "") return [];
  const keys = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  keys.forEach((key, i) => {
    if (!isUserPublicKey(key)) {
      throw new Error(`NFN_TRUSTED_SIGNERS entry ${i + 1} is not a public user nkey (U..., 56 characters)`);
    }
  });
  return keys;
}

/** Why `release` may not run on a worker trusting `trusted`, or undefined when its signature holds. */
export function signatureProblem(release: SignedFields & Partial<ReleaseSignature>, trusted: ReadonlySet<string>): string | undefined {
  const { signature, signer } = release;
  if (typeof signature !== "string" || typeof signer !== "string" || signature === "" || signer === "") {
    return "it is not signed (no signature and signer): deploy it with nfn deploy and NFN_SIGNING_KEY set";
  }
  if (!trusted.has(signer)) return `its signer ${signer.slice(0, 12)}… is not in NFN_TRUSTED_SIGNERS`;
  const sig = Buffer.from(signature, "base64");
  // Ed25519 signatures are 64 bytes; anything else is not worth handing to the verifier.
  if (sig.length !== 64) return "its signature is malformed";
  let ok = false;
  try {
    ok = fromPublic(signer).verify(signingBytes(release), sig);
  } catch {
    ok = false;
  }
  return ok ? undefined : "its signature does not verify for its name, version, sha256, size and object";
}

function isUserPublicKey(key: string): boolean {
  if (!/^U[A-Z2-7]{55}$/.test(key)) return false;
  try {
    fromPublic(key);
    return true;
  } catch {
    return false;
  }
}
