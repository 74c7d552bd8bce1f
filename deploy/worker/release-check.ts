/** What a worker checks about a release before it fetches, writes or imports a single byte of it. */
import { FUNCTION_NAME_PATTERN } from "../../runtime/define-function.ts";
import { clipInput } from "../../runtime/errors.ts";
import type { Release } from "../registry/release.ts";
import { parseTrustedSigners, signatureProblem } from "../registry/signing.ts";

/** Why a release was refused, as counted in the worker's metrics. */
export type RefusalReason = "bad_name" | "unsigned" | "untrusted_signer" | "bad_signature" | "bytes_mismatch" | "not_a_function";

/** Thrown when a release or its bundle may not run; the worker keeps what it runs. */
export class ReleaseRefusedError extends Error {
  override readonly name = "ReleaseRefusedError";
  constructor(
    readonly reason: RefusalReason,
    message: string,
  ) {
    super(message);
  }
}

/** The signers a worker trusts: `explicit` when given, else NFN_TRUSTED_SIGNERS. */
export function trustedSigners(explicit: string[] | undefined, env: NodeJS.ProcessEnv = process.env): ReadonlySet<string> {
  return new Set(explicit ? parseTrustedSigners(explicit.join(",")) : parseTrustedSigners(env.NFN_TRUSTED_SIGNERS));
}

/**
 * Refuses `release` stored under registry key `key` unless its name is that key and a function name,
 * and it is signed by a trusted key over exactly its name, version, sha256, size and object.
 */
export function checkRelease(key: string, release: Release, trusted: ReadonlySet<string>): void {
  // Names reach file paths and subjects: only the function-name pattern, and only the key it is stored under.
  if (release.name !== key || !FUNCTION_NAME_PATTERN.test(release.name)) {
    throw new ReleaseRefusedError("bad_name", `release under key ${clipInput(key)} is named ${clipInput(release.name)}: refused`);
  }
  if (trusted.size === 0) {
    throw new ReleaseRefusedError("untrusted_signer", "NFN_TRUSTED_SIGNERS is not set, so this worker runs no release");
  }
  const problem = signatureProblem(release, trusted);
  if (problem) {
    const reason: RefusalReason =
      !release.signature || !release.signer ? "unsigned" : trusted.has(release.signer) ? "bad_signature" : "untrusted_signer";
    throw new ReleaseRefusedError(reason, `release ${release.name}@${clipInput(release.version)} refused: ${problem}`);
  }
}
