/** E2E helpers: a built bundle started as its own process, as a user starts it. */
import { type ChildProcess, spawn } from "node:child_process";
import type { NatsConnection } from "@nats-io/nats-core";

/** A bundle process and what it has written to stderr. */
export interface BundleProcess {
  readonly child: ChildProcess;
  readonly startedAt: number;
  log(): string;
  /** SIGTERM, then SIGKILL after 5 s; resolves when it has exited. */
  stop(): Promise<void>;
}

/** Starts `node <file> ...args` with NATS_URL and an info log (a bundle, or `cli/bin.mjs worker`). */
export function startBundle(file: string, natsUrl: string, env: NodeJS.ProcessEnv = {}, args: string[] = []): BundleProcess {
  const startedAt = performance.now();
  const child = spawn(process.execPath, [file, ...args], {
    env: { PATH: process.env.PATH, ...env, NATS_URL: natsUrl, LOG_LEVEL: env.LOG_LEVEL ?? "info" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  child.stderr?.on("data", (c: Buffer) => (log += c.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    child,
    startedAt,
    log: () => log,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/**
 * Sends `payload` to `subject` every few ms until something answers (a reply or a contract error
 * reply, not "no responders"); returns the reply and ms since `since` (performance.now()).
 */
export async function firstReply(nc: NatsConnection, subject: string, payload: string, since: number, deadlineMs = 20_000) {
  const end = since + deadlineMs;
  for (;;) {
    try {
      const msg = await nc.request(subject, payload, { timeout: 1000 });
      return { msg, ms: performance.now() - since };
    } catch (err) {
      if (performance.now() > end)
        throw new Error(`no reply on ${subject} within ${deadlineMs} ms: ${err instanceof Error ? err.message : String(err)}`);
      await new Promise((r) => setTimeout(r, 2));
    }
  }
}
