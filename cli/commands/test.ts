/** `nfn test [fn...]`: the contract tests of a functions directory (nats-functions/testing), under node:test. */
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { findFunctionSources } from "../../runtime/loader.ts";
import { usageError } from "../lib/errors.ts";
import { EXIT } from "../lib/exit-codes.ts";
import type { CliIo } from "../lib/io.ts";
import { verbAction } from "../lib/program.ts";

/** Options of `nfn test`. */
export interface TestVerbOptions {
  dir?: string;
  reporter?: string;
}

const RUNNER = fileURLToPath(new URL("../../testing/run-contracts.ts", import.meta.url));

/** Runs the contract tests in a child node:test process; 0 when all pass, 1 when any fails. */
export async function runTest(opts: TestVerbOptions, io: CliIo, names: string[]): Promise<number> {
  const dir = resolve(io.cwd, opts.dir ?? "functions");
  const sources = findFunctionSources(dir);
  if (sources.size === 0) throw usageError(`no functions in ${dir}: add <name>/index.ts exporting defineFunction({...}), or pass --dir`);
  const unknown = names.filter((n) => !sources.has(n));
  if (unknown.length > 0)
    throw usageError(`no function ${unknown.join(", ")} in ${opts.dir ?? "functions"}: there are ${[...sources.keys()].join(", ")}`);
  const args = ["--import", import.meta.resolve("tsx"), "--test", `--test-reporter=${opts.reporter ?? "spec"}`, RUNNER];
  const child = spawn(process.execPath, args, {
    cwd: io.cwd,
    env: { ...io.env, NFN_TEST_DIR: dir, NFN_TEST_FUNCTIONS: names.join(",") },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (d: Buffer) => io.stdout.write(d.toString()));
  child.stderr.on("data", (d: Buffer) => io.stderr.write(d.toString()));
  const code = await new Promise<number | null>((done, fail) => {
    child.once("error", fail);
    child.once("close", (c) => done(c));
  });
  return code === 0 ? EXIT.OK : EXIT.SERVICE_ERROR;
}

/** Defines `nfn test`. */
export function register(program: Command): void {
  program
    .command("test")
    .description("run the contract tests of functions: schemas compile, examples and generated payloads answered as the schemas say")
    .argument("[fn...]", "only these functions")
    .option("--dir <path>", "the functions directory", "functions")
    .option("--reporter <name>", "node:test reporter: spec, tap, dot", "spec")
    .addHelpText(
      "after",
      `
Exit codes: 0 every contract holds, 1 a contract test failed, 2 usage.

Examples:
  npx nfn test                           # every function in functions/
  npx nfn test check_inventory create_order
  npx nfn test --dir examples/functions --reporter dot`,
    )
    .action(verbAction<TestVerbOptions>((opts, io, args) => runTest(opts, io, args)));
}
