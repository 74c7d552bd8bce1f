/** A release: one deployed version of one function, as the registry records it. */
import type { ReleaseSignature } from "./signing.ts";

/** What `nfn deploy` and `nfn rollback` record under the function's key in `nfn_releases`. */
export interface Release extends Partial<ReleaseSignature> {
  name: string;
  version: string;
  /** Hex sha256 of the bundle; the worker refuses bytes that do not hash to this. */
  sha256: string;
  sizeBytes: number;
  /** Object name of the bundle in `nfn_bundles`. */
  object: string;
  deployedAt: string;
  deployedBy: string;
  builtAt: string;
  gitRevision: string;
  /** Set on a rollback: the version that was current before it. */
  rollbackFrom?: string;
}

/** The object name a bundle is stored under: versions live side by side, so rollback needs no upload. */
export function bundleObjectName(name: string, sha256: string): string {
  return `${name}/${sha256}`;
}

/** Parses a registry value; `undefined` when it is not a release (logged by the caller, never fatal). */
export function parseRelease(bytes: Uint8Array): Release | undefined {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const r = value as Record<string, unknown>;
  const strings = ["name", "version", "sha256", "object", "deployedAt", "deployedBy"] as const;
  if (!strings.every((k) => typeof r[k] === "string") || !/^[0-9a-f]{64}$/.test(String(r.sha256))) return undefined;
  if (!Number.isSafeInteger(r.sizeBytes) || (r.sizeBytes as number) < 0) return undefined;
  for (const k of ["signature", "signer"] as const) if (r[k] !== undefined && typeof r[k] !== "string") return undefined;
  return value as Release;
}
