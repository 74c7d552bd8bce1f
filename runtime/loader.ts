/** Loads function modules by path, so the runtime never imports a function statically. */
import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type FunctionDefinition, isFunctionDefinition } from "./define-function.ts";
import { sha256File } from "./hash.ts";

// The sha256 of the source module each definition was loaded from, advertised as `bundle_sha256`.
const sourceHashes = new WeakMap<FunctionDefinition, string>();

/** Imports `file` and returns its default export, checked to be a function definition. */
export async function loadFunctionModule(file: string): Promise<FunctionDefinition> {
  const mod = (await import(pathToFileURL(resolve(file)).href)) as { default?: unknown };
  if (!isFunctionDefinition(mod.default)) {
    throw new Error(`${file} does not export default defineFunction({...})`);
  }
  await recordSourceModule(mod.default, file);
  return mod.default;
}

/**
 * Remembers that `def` runs from the source module `file`, so INFO advertises that file's sha256 as
 * `bundle_sha256`: two dev instances running different code then differ.
 */
export async function recordSourceModule(def: FunctionDefinition, file: string): Promise<void> {
  sourceHashes.set(def, await sha256File(resolve(file)));
}

/** The sha256 of the source module `def` was loaded from, when it was loaded by path. */
export function sourceSha256Of(def: FunctionDefinition): string | undefined {
  return sourceHashes.get(def);
}

/** The entry file of each function folder under `dir` (`<dir>/<name>/index.ts`), by name. */
export function findFunctionSources(dir: string): Map<string, string> {
  const found = new Map<string, string>();
  if (!existsSync(dir)) return found;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const file = join(dir, entry.name, "index.ts");
    if (existsSync(file)) found.set(entry.name, file);
  }
  return new Map([...found].sort(([a], [b]) => a.localeCompare(b)));
}
