/** Loads function modules by path, so the runtime never imports a function statically. */
import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { type FunctionDefinition, isFunctionDefinition } from "./define-function.ts";

/** Imports `file` and returns its default export, checked to be a function definition. */
export async function loadFunctionModule(file: string): Promise<FunctionDefinition> {
  const mod = (await import(pathToFileURL(resolve(file)).href)) as { default?: unknown };
  if (!isFunctionDefinition(mod.default)) {
    throw new Error(`${file} does not export default defineFunction({...})`);
  }
  return mod.default;
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
