/** `nfn serve [fn...]`: run functions from source against NATS, starting a local nats-server when there is none. */
import type { Command } from "commander";
import { loadDemoCatalog } from "../lib/demo-catalog.ts";
import { EXIT } from "../lib/exit-codes.ts";
import type { CliIo } from "../lib/io.ts";
import { verbAction } from "../lib/program.ts";
import { type ServeInternals, type ServeOptions, startServeSession } from "../lib/serve-session.ts";
import { waitForSignal } from "../lib/wait-for-signal.ts";

/** Options of `nfn serve`. */
export interface ServeVerbOptions extends ServeOptions {
  demo?: boolean;
}

/** Serves until SIGINT/SIGTERM, then drains and stops; returns the exit code. */
export async function runServe(
  opts: ServeVerbOptions,
  io: CliIo,
  names: string[],
  until: Promise<unknown> = waitForSignal(),
  internals?: ServeInternals,
): Promise<number> {
  const session = await startServeSession(opts, names, io, internals);
  try {
    if (opts.demo) await loadDemoCatalog(session, io);
    else io.stdout.write(`try it: npx nfn ls   (stop with Ctrl-C)\n`);
    await until;
    io.stderr.write("nfn: stopping: no new requests, finishing those in flight\n");
  } finally {
    await session.stop();
  }
  return EXIT.OK;
}

/** Defines `nfn serve`. */
export function register(program: Command): void {
  program
    .command("serve")
    .description("run functions from source (all of functions/ by default) against NATS_URL, or a local nats-server it starts")
    .argument("[fn...]", "only these functions")
    .option("--dir <path>", "the functions directory", "functions")
    .option("--demo", "load the demo catalog of the Jaén marketplace through put_product and print a short tour")
    .addHelpText(
      "after",
      `
Examples:
  npx nfn serve                          # every function in functions/, local nats-server if none is running
  NATS_URL=nats://10.0.0.5:4222 npx nfn serve check_inventory reserve_stock
  npx nfn serve --demo                   # what \`npm start\` runs`,
    )
    .action(verbAction<ServeVerbOptions>((opts, io, args) => runServe(opts, io, args)));
}
