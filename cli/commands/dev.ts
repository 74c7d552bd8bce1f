/** `nfn dev`: `nfn serve` in watch mode; a changed function reloads alone, new instance first, old one drained. */
import { resolve } from "node:path";
import type { Command } from "commander";
import { startDevReloader } from "../lib/dev-reloader.ts";
import { EXIT } from "../lib/exit-codes.ts";
import type { CliIo } from "../lib/io.ts";
import { verbAction } from "../lib/program.ts";
import { type ServeInternals, type ServeOptions, startUnlessStopped } from "../lib/serve-session.ts";
import { waitForSignal } from "../lib/wait-for-signal.ts";

/** Serves with hot reload until `until` settles (SIGINT/SIGTERM by default). */
export async function runDev(
  opts: ServeOptions,
  io: CliIo,
  names: string[],
  until: Promise<unknown> = waitForSignal(),
  internals?: ServeInternals,
): Promise<number> {
  const session = await startUnlessStopped(opts, names, io, until, internals);
  if (!session) return EXIT.OK;
  const reloader = startDevReloader(session, resolve(io.cwd, opts.dir ?? "functions"), io, names);
  try {
    await until;
  } finally {
    reloader.close();
    await session.stop();
  }
  return EXIT.OK;
}

/** Defines `nfn dev`. */
export function register(program: Command): void {
  program
    .command("dev")
    .description("serve functions and reload one when its code or schema changes (others keep running)")
    .argument("[fn...]", "only these functions")
    .option("--dir <path>", "the functions directory", "functions")
    .addHelpText("after", "\nExamples:\n  npx nfn dev\n  npx nfn dev check_inventory reserve_stock")
    .action(verbAction<ServeOptions>((opts, io, args) => runDev(opts, io, args)));
}
