/** The streams and environment a command runs with, so command cores can run in-process in tests. */
import { readFileSync } from "node:fs";

/** Where a command writes. */
export interface Output {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/** Everything a command touches outside its options. */
export interface CliIo {
  stdout: Output;
  stderr: Output;
  env: NodeJS.ProcessEnv;
  /** The directory `.nfn/` and relative paths are resolved against. */
  cwd: string;
  /** Reads all of stdin (for `-` payloads). */
  readStdin(): Promise<string>;
}

/** The real process. */
export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    readStdin: () => Promise.resolve(readFileSync(0, "utf8")),
  };
}

/** An io that records what was written, for tests. */
export interface CapturedIo extends CliIo {
  readonly out: () => string;
  readonly err: () => string;
}

/** An io that captures stdout and stderr in memory. */
export function captureIo(overrides: { env?: NodeJS.ProcessEnv; cwd?: string; stdin?: string; tty?: boolean } = {}): CapturedIo {
  let out = "";
  let err = "";
  return {
    stdout: { write: (t: string) => (out += t), isTTY: overrides.tty ?? false },
    stderr: { write: (t: string) => (err += t), isTTY: overrides.tty ?? false },
    env: overrides.env ?? {},
    cwd: overrides.cwd ?? process.cwd(),
    readStdin: () => Promise.resolve(overrides.stdin ?? ""),
    out: () => out,
    err: () => err,
  };
}
