/**
 * The entry every bundle runs. `node dist/<fn>/index.mjs` serves the function; importing the same
 * file (the worker, the build's manifest step) only yields its definition.
 */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { FunctionDefinition } from "./define-function.ts";
import { sha256File } from "./hash.ts";
import { runFunctions } from "./host.ts";

/** True when the module at `moduleUrl` is the script node was started with. */
export function isMainModule(moduleUrl: string, argv1: string | undefined = process.argv[1]): boolean {
  if (argv1 === undefined) return false;
  try {
    return realpathSync(argv1) === realpathSync(fileURLToPath(moduleUrl));
  } catch {
    return false;
  }
}

/**
 * Serves `def` with `runFunctions` when the bundle at `moduleUrl` is the main module, advertising
 * the bundle's own sha256 in INFO. Returns at once (doing nothing) when the bundle was imported.
 */
export async function serveIfMain(def: FunctionDefinition, moduleUrl: string): Promise<void> {
  if (!isMainModule(moduleUrl)) return;
  // The bundle cannot contain its own hash, so it reads itself: the same bytes the manifest hashed.
  const bundleSha256 = await sha256File(fileURLToPath(moduleUrl));
  await runFunctions([def], { origins: new Map([[def.name, { bundleSha256 }]]) });
}
