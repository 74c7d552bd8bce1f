/** Running the commander program: verb actions get the process io, errors become one line and an exit code. */
import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { describeError } from "./errors.ts";
import { EXIT } from "./exit-codes.ts";
import { type CliIo, processIo } from "./io.ts";

/** The root command with its name, description and usage-error exit code. */
export function createProgram(): Command {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: string };
  return new Command("nfn")
    .version(pkg.version ?? "0.0.0")
    .description("Run, invoke, discover and measure nats-functions (NATS micro services, ADR-32)")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
}

/**
 * Wraps a verb's core as a commander action: the core gets its options (globals included) and
 * the process io, and returns an exit code; anything thrown is printed as one line on stderr.
 */
export function verbAction<O>(core: (opts: O, io: CliIo, args: string[]) => Promise<number>) {
  return async (...params: unknown[]): Promise<void> => {
    const command = params[params.length - 1] as Command;
    const io = processIo();
    process.exitCode = await runCore(() => core(command.optsWithGlobals() as O, io, command.args), io);
  };
}

/** Runs a command core and turns a thrown error into its line on stderr and its exit code. */
export async function runCore(fn: () => Promise<number>, io: Pick<CliIo, "stderr">): Promise<number> {
  try {
    return await fn();
  } catch (err) {
    const { line, exitCode } = describeError(err);
    io.stderr.write(`nfn: ${line}\n`);
    return exitCode;
  }
}

/** Parses argv and runs the verb; usage errors exit 2, help and version exit 0. */
export async function runProgram(program: Command, argv: string[] = process.argv): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
      return;
    }
    throw err;
  }
}
