/** Turns downloaded bundle bytes into a function definition, refusing anything that is not the release. */
import { randomUUID } from "node:crypto";
import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { sha256Hex } from "../../runtime/hash.ts";
import { type FunctionDefinition, isFunctionDefinition } from "../../runtime/define-function.ts";
import type { Release } from "../registry/release.ts";

/** Thrown when bundle bytes are not what the release recorded; the worker keeps what it runs. */
export class BundleRefusedError extends Error {
  override readonly name = "BundleRefusedError";
}

/**
 * Checks `bytes` against `release.sha256`, writes them to `<cacheDir>/<fn>/<sha256>.mjs` and imports
 * them. Importing never starts the function (the bundle only serves when it is the main module).
 */
export async function loadVerifiedBundle(bytes: Uint8Array, release: Release, cacheDir: string): Promise<FunctionDefinition> {
  const actual = sha256Hex(bytes);
  if (actual !== release.sha256) {
    throw new BundleRefusedError(
      `bundle of ${release.name}@${release.version} refused: ${bytes.length} bytes with sha256 ${actual.slice(0, 12)}, release says ${release.sha256.slice(0, 12)} (${release.sizeBytes} bytes); redeploy it with nfn deploy`,
    );
  }
  const dir = join(cacheDir, release.name);
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${release.sha256}.mjs`);
  // Write then rename, so a crash never leaves a half-written file under the final name.
  const partial = `${file}.${randomUUID()}.partial`;
  await writeFile(partial, bytes);
  await rename(partial, file);
  const mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  const def = mod.default;
  if (!isFunctionDefinition(def))
    throw new BundleRefusedError(`bundle of ${release.name}@${release.version} does not export a function definition`);
  if (def.name !== release.name || def.version !== release.version) {
    throw new BundleRefusedError(
      `bundle recorded as ${release.name}@${release.version} contains ${def.name}@${def.version}; redeploy it with nfn deploy`,
    );
  }
  return def;
}
