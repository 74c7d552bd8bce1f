/** Turns downloaded bundle bytes into a function definition, refusing anything that is not the release. */
import { randomUUID } from "node:crypto";
import { chmod, lstat, mkdir, mkdtemp, rename, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative, resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { sha256Hex } from "../../runtime/hash.ts";
import { type FunctionDefinition, isFunctionDefinition } from "../../runtime/define-function.ts";
import type { Release } from "../registry/release.ts";
import { ReleaseRefusedError } from "./release-check.ts";

/**
 * The worker's bundle cache, private to this user (0700). Without `dir`, a new one made by
 * `mkdtemp`; a given `dir` is created or must be a real directory owned by this user, and is
 * narrowed to 0700, since anyone who can write there chooses the code the worker imports.
 */
export async function prepareCacheDir(dir: string | undefined): Promise<{ dir: string; made: boolean }> {
  if (dir === undefined) return { dir: await mkdtemp(join(tmpdir(), "nfn-worker-")), made: true };
  const path = resolve(dir);
  await mkdir(path, { recursive: true, mode: 0o700 });
  const st = await lstat(path);
  if (!st.isDirectory()) throw new Error(`cache dir ${path} is not a directory (a symlink is not accepted): choose another --cache-dir`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) throw new Error(`cache dir ${path} belongs to another user: choose a directory of your own`);
  await chmod(path, 0o700);
  return { dir: path, made: false };
}

/**
 * Checks `bytes` against the release's sha256 and size, and only then writes them to
 * `<cacheDir>/<fn>/<sha256>.mjs` (0600) and imports them. The caller has checked the release's
 * name and signature (release-check.ts) before fetching. Importing never starts the function (the
 * bundle only serves when it is the main module), but its top-level code runs: hence every check first.
 */
export async function loadVerifiedBundle(bytes: Uint8Array, release: Release, cacheDir: string): Promise<FunctionDefinition> {
  const actual = sha256Hex(bytes);
  if (actual !== release.sha256 || bytes.length !== release.sizeBytes) {
    throw new ReleaseRefusedError(
      "bytes_mismatch",
      `bundle of ${release.name}@${release.version} refused: ${bytes.length} bytes with sha256 ${actual.slice(0, 12)}, release says ${release.sha256.slice(0, 12)} (${release.sizeBytes} bytes); redeploy it with nfn deploy`,
    );
  }
  const dir = join(cacheDir, release.name);
  const file = join(dir, `${release.sha256}.mjs`);
  // The name was checked against the function-name pattern; this keeps a path outside the cache impossible even so.
  const inside = relative(cacheDir, file);
  if (inside.startsWith("..") || inside.startsWith(sep))
    throw new ReleaseRefusedError("bad_name", `release name ${release.name} leaves the cache`);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // Write then rename, so a crash never leaves a half-written file under the final name.
  const partial = `${file}.${randomUUID()}.partial`;
  await writeFile(partial, bytes, { mode: 0o600, flag: "wx" });
  await rename(partial, file);
  const mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  const def = mod.default;
  if (!isFunctionDefinition(def)) {
    throw new ReleaseRefusedError("not_a_function", `bundle of ${release.name}@${release.version} does not export a function definition`);
  }
  if (def.name !== release.name || def.version !== release.version) {
    throw new ReleaseRefusedError(
      "not_a_function",
      `bundle recorded as ${release.name}@${release.version} contains ${def.name}@${def.version}; redeploy it with nfn deploy`,
    );
  }
  return def;
}
