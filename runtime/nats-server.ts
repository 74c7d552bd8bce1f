/** Starts a local nats-server with JetStream on a free port: for development, tests and benchmarks. */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A nats-server this process started. */
export interface LocalNatsServer {
  readonly url: string;
  readonly port: number;
  readonly monitorPort: number;
  readonly storeDir: string;
  readonly process: ChildProcess;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and removes a temporary store. */
  stop(): Promise<void>;
}

/** Options of `startNatsServer`. */
export interface NatsServerOptions {
  /** Client port; a free one when omitted. */
  port?: number;
  /** Monitoring port; a free one when omitted. */
  monitorPort?: number;
  /** JetStream store; a temporary directory (removed on stop) when omitted. */
  storeDir?: string;
  /** More command-line arguments (cluster settings, a config file). */
  args?: string[];
  /** Give up after this long without "Server is ready". Default 15 s. */
  readyTimeoutMs?: number;
}

/** The message users see when the binary is missing. */
export const NATS_SERVER_MISSING =
  "nats-server not found on PATH: apt-get install nats-server (or brew install nats-server), or set NATS_URL to a running server";

/** True when `nats-server` can be run. */
export function natsServerAvailable(): boolean {
  const probe = spawnSync("nats-server", ["--version"], { stdio: "ignore" });
  return probe.error === undefined && probe.status === 0;
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const address = srv.address();
      const port = typeof address === "object" && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Starts `nats-server -js` and resolves once it accepts clients. */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<LocalNatsServer> {
  if (!natsServerAvailable()) throw new Error(NATS_SERVER_MISSING);
  const picksPorts = options.port === undefined || options.monitorPort === undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      return await launchNatsServer(options);
    } catch (err) {
      // A port freePort() found free can be taken by another process before nats-server binds it;
      // nats-server says so only in its log, so that text is what tells this case apart.
      const portTaken = err instanceof Error && err.message.includes("address already in use");
      if (!picksPorts || !portTaken || attempt >= 3) throw err;
    }
  }
}

async function launchNatsServer(options: NatsServerOptions): Promise<LocalNatsServer> {
  const port = options.port ?? (await freePort());
  const monitorPort = options.monitorPort ?? (await freePort());
  const ownStore = options.storeDir === undefined;
  const storeDir = options.storeDir ?? mkdtempSync(join(tmpdir(), "nfn-nats-"));
  const args = ["-js", "-a", "127.0.0.1", "-p", String(port), "-m", String(monitorPort), "-sd", storeDir, ...(options.args ?? [])];
  const child = spawn("nats-server", args, { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => fail(new Error(`nats-server did not start within ${options.readyTimeoutMs ?? 15_000} ms:\n${log}`)),
      options.readyTimeoutMs ?? 15_000,
    );
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      if (ownStore) rmSync(storeDir, { recursive: true, force: true });
      reject(err);
    };
    child.stderr?.on("data", (chunk: Buffer) => {
      log += chunk.toString();
      if (log.includes("Server is ready")) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => fail(new Error(`nats-server exited with code ${code}:\n${log}`)));
    child.once("error", fail);
  });
  child.removeAllListeners("exit");
  child.stderr?.resume(); // keep draining so the server never blocks on a full pipe
  // However this process ends (an uncaught error, process.exit, a second Ctrl-C), the server it started
  // does not outlive it: "exit" handlers run synchronously, and kill() only sends the signal.
  const killOnExit = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
  };
  process.once("exit", killOnExit);
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      process.off("exit", killOnExit);
      resolve();
    }),
  );
  let stopped: Promise<void> | undefined;
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    monitorPort,
    storeDir,
    process: child,
    stop() {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill("SIGTERM");
          const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
          await exited;
          clearTimeout(killer);
        }
        if (ownStore) rmSync(storeDir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}
