/** CLI errors: one line that says what went wrong and what to do, and the exit code that goes with it. */
import { EXIT, type ExitCode } from "./exit-codes.ts";

/** An error meant for the user: `message` is printed as is, on one line, and the process exits with `exitCode`. */
export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "CliError";
  }
}

/** A usage error (exit 2). */
export function usageError(message: string): CliError {
  return new CliError(EXIT.USAGE, message);
}

/** The line to print for anything thrown, and its exit code; unexpected errors keep their message. */
export function describeError(err: unknown): { line: string; exitCode: ExitCode } {
  if (err instanceof CliError) return { line: oneLine(err.message), exitCode: err.exitCode };
  const message = err instanceof Error ? err.message : String(err);
  return {
    line: oneLine(`unexpected error: ${message} (run with LOG_LEVEL=debug, or report it with the command you ran)`),
    exitCode: EXIT.INTERNAL,
  };
}

function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, " ").trim();
}
