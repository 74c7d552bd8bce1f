/** Runs the real `nfn` command in a child process, as a user's shell would. */
import { spawn } from "node:child_process";

const BIN = new URL("../../cli/bin.mjs", import.meta.url).pathname;

/** What a finished `nfn` process left behind. */
export interface NfnRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node cli/bin.mjs ...args` with only PATH from this environment plus `env`, so the test
 * decides every variable the CLI sees; resolves when the process has exited.
 */
export function runNfn(args: string[], options: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<NfnRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd,
      env: { PATH: process.env.PATH, ...options.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}
