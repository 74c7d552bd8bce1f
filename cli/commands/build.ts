/** `nfn build [fn...]`: one self-contained bundle per function in dist/<fn>/ (runs esbuild.config.mjs). */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { EXIT } from "../lib/exit-codes.ts";
import type { CliIo } from "../lib/io.ts";
import { verbAction } from "../lib/program.ts";

/** Options of `nfn build`. */
export interface BuildVerbOptions {
  dir: string;
  out: string;
  entry?: string[];
  json?: boolean;
}

const CONFIG = fileURLToPath(new URL("../../esbuild.config.mjs", import.meta.url));

/** Runs the build in its own process (the one `npm run build` runs) and relays its output. */
export function runBuild(opts: BuildVerbOptions, io: CliIo, names: string[]): Promise<number> {
  const args = [CONFIG, ...names, "--functions", opts.dir, "--out", opts.out, ...(opts.entry ?? []).flatMap((e) => ["--entry", e])];
  if (opts.json) args.push("--json");
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, args, { cwd: io.cwd, env: io.env, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", (chunk: Buffer) => io.stdout.write(chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => io.stderr.write(chunk.toString()));
    child.once("error", reject);
    child.once("exit", (code) => resolvePromise(code === 0 ? EXIT.OK : EXIT.SERVICE_ERROR));
  });
}

/** Defines `nfn build`. */
export function register(program: Command): void {
  program
    .command("build")
    .description("bundle functions: dist/<fn>/index.mjs (runs alone: NATS_URL=... node dist/<fn>/index.mjs) and dist/<fn>/manifest.json")
    .argument("[fn...]", "only these functions (default: every folder in --dir)")
    .option("--dir <path>", "the functions directory", "functions")
    .option("--out <path>", "the output directory", "dist")
    .option("--entry <name=file...>", "also build a module outside --dir under this name")
    .option("--json", "print the manifests as JSON")
    .action(verbAction<BuildVerbOptions>((opts, io, args) => runBuild(opts, io, args)));
}
