/**
 * The contract tests of a whole functions directory, on one system that serves all of it (functions
 * call each other). `<dir>/contract.setup.ts` may default-export `(system) => Promise<void>`, run
 * once when the system is up (fixtures such as a catalog); a function's folder may hold `contract.ts`
 * whose default export is its `ContractOptions` (setup, prepare, caller, examples).
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { after } from "node:test";
import { pathToFileURL } from "node:url";
import { findFunctionSources } from "../runtime/loader.ts";
import { type ContractOptions, contractTests } from "./contract-tests.ts";
import { type TestSystem, startTestSystem } from "./test-system.ts";

/** The file beside a function's index.ts that holds its contract test options. */
export const CONTRACT_OPTIONS_FILE = "contract.ts";
/** The file in a functions directory that sets up the system for all of its contract tests. */
export const CONTRACT_SETUP_FILE = "contract.setup.ts";

/** Registers the contract tests of every function in `dir` (or of `only` those); throws on an unknown name. */
export async function contractTestsForDir(dir: string, only: string[] = []): Promise<void> {
  const root = resolve(dir);
  const sources = findFunctionSources(root);
  if (sources.size === 0) throw new Error(`no functions in ${dir}: expected <dir>/<name>/index.ts files`);
  const unknown = only.filter((n) => !sources.has(n));
  if (unknown.length > 0) throw new Error(`no function ${unknown.join(", ")} in ${dir}: there are ${[...sources.keys()].join(", ")}`);
  let started: Promise<TestSystem> | undefined;
  const setup = await setupOf(join(root, CONTRACT_SETUP_FILE));
  const system = () =>
    (started ??= startTestSystem({ dir: root }).then(async (sys) => {
      try {
        await setup?.(sys);
        return sys;
      } catch (err) {
        await sys.stop();
        throw err;
      }
    }));
  after(async () => {
    await (await started)?.stop();
  });
  for (const [name, file] of sources) {
    if (only.length > 0 && !only.includes(name)) continue;
    contractTests(file, { ...(await optionsOf(file)), system });
  }
}

async function setupOf(file: string): Promise<((sys: TestSystem) => Promise<void>) | undefined> {
  if (!existsSync(file)) return undefined;
  const mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  if (typeof mod.default !== "function") throw new Error(`${file} must export default async function setup(system)`);
  return mod.default as (sys: TestSystem) => Promise<void>;
}

async function optionsOf(entry: string): Promise<ContractOptions> {
  const file = join(dirname(entry), CONTRACT_OPTIONS_FILE);
  if (!existsSync(file)) return {};
  const mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  if (typeof mod.default !== "object" || mod.default === null)
    throw new Error(`${file} must export default { setup?, prepare?, caller?, examples? }`);
  return mod.default as ContractOptions;
}
