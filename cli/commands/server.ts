/** `nfn server start|stop|status`: a local nats-server with JetStream for development, data under `.nfn/`. */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import type { Command } from "commander";
import { connect } from "@nats-io/transport-node";
import { NATS_SERVER_MISSING, freePort, natsServerAvailable } from "../../runtime/nats-server.ts";
import { parsePositiveInt } from "../lib/duration.ts";
import { CliError } from "../lib/errors.ts";
import { EXIT } from "../lib/exit-codes.ts";
import { json } from "../lib/format.ts";
import type { CliIo } from "../lib/io.ts";
import {
  type ServerRecord,
  clearServerRecord,
  nfnDir,
  processAlive,
  readServerRecord,
  whyNotRecordedServer,
  writeServerRecord,
} from "../lib/local-server.ts";
import { portFree } from "../lib/ports.ts";
import { verbAction } from "../lib/program.ts";

/** Options of `nfn server`. */
export interface ServerOptions {
  port?: string;
  monitorPort?: string;
  json?: boolean;
}

function describe(record: ServerRecord, cwd: string): string {
  return (
    `nats-server running at ${record.url} (monitoring http://127.0.0.1:${record.monitorPort}, ` +
    `JetStream data in ${relative(cwd, record.storeDir) || "."}, pid ${record.pid})\n`
  );
}

async function pickPort(wanted: string | undefined, preferred: number, what: string): Promise<number> {
  if (wanted !== undefined) return parsePositiveInt(wanted, what);
  return (await portFree(preferred)) ? preferred : freePort();
}

async function waitReady(url: string, pid: number, logFile: string): Promise<void> {
  const end = Date.now() + 15_000;
  for (;;) {
    try {
      const nc = await connect({ servers: url, timeout: 1000, maxReconnectAttempts: 0 });
      await nc.close();
      return;
    } catch {
      const log = existsSync(logFile) ? readFileSync(logFile, "utf8").trim().split("\n").slice(-3).join(" | ") : "";
      if (!processAlive(pid))
        throw new CliError(EXIT.CONNECTION, `nats-server exited at once: ${log || "no log"} (is the port taken? try --port)`);
      if (Date.now() > end) throw new CliError(EXIT.TIMEOUT, `nats-server did not accept clients within 15 s: see ${logFile}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Starts the dev server in the background (or reports the one already running). */
export async function runServerStart(opts: ServerOptions, io: CliIo): Promise<number> {
  const running = readServerRecord(io.cwd);
  if (running) {
    io.stdout.write(`already running: ${describe(running, io.cwd)}`);
    return EXIT.OK;
  }
  if (!natsServerAvailable()) throw new CliError(EXIT.CONNECTION, NATS_SERVER_MISSING);
  const port = await pickPort(opts.port, 4222, "--port");
  const monitorPort = await pickPort(opts.monitorPort, 8222, "--monitor-port");
  const storeDir = join(nfnDir(io.cwd), "jetstream");
  const logFile = join(nfnDir(io.cwd), "nats-server.log");
  mkdirSync(storeDir, { recursive: true });
  const args = ["-js", "-a", "127.0.0.1", "-p", String(port), "-m", String(monitorPort), "-sd", storeDir, "-l", logFile];
  // Detached, so it outlives this command and a Ctrl-C in this terminal.
  const child = spawn("nats-server", args, { detached: true, stdio: "ignore" });
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new CliError(EXIT.CONNECTION, "could not start nats-server: " + NATS_SERVER_MISSING);
  const url = `nats://127.0.0.1:${port}`;
  await waitReady(url, pid, logFile);
  const record: ServerRecord = { pid, url, port, monitorPort, storeDir, startedBy: "server", startedAt: new Date().toISOString() };
  writeServerRecord(io.cwd, record);
  if (opts.json) io.stdout.write(json(record));
  else io.stdout.write(`${describe(record, io.cwd)}log: ${relative(io.cwd, logFile)}; stop it with \`npx nfn server stop\`\n`);
  return EXIT.OK;
}

/** Stops the recorded dev server. */
export async function runServerStop(_opts: ServerOptions, io: CliIo): Promise<number> {
  const record = readServerRecord(io.cwd);
  if (!record) {
    io.stderr.write("no dev nats-server is recorded in .nfn/server.json: nothing to stop\n");
    return EXIT.OK;
  }
  // The recorded pid may now belong to another program: signal it only when it is our nats-server.
  const notOurs = whyNotRecordedServer(record);
  if (notOurs) {
    clearServerRecord(io.cwd, record.pid);
    io.stderr.write(`not stopping pid ${record.pid}: ${notOurs}; the server recorded in .nfn/server.json is gone, record removed\n`);
    return EXIT.OK;
  }
  process.kill(record.pid, "SIGTERM");
  const end = Date.now() + 10_000;
  while (processAlive(record.pid) && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
  if (processAlive(record.pid)) process.kill(record.pid, "SIGKILL");
  clearServerRecord(io.cwd, record.pid);
  io.stdout.write(`stopped nats-server ${record.url} (pid ${record.pid}); its data stays in ${relative(io.cwd, record.storeDir)}\n`);
  return EXIT.OK;
}

/** Reports whether the dev server runs; exit 3 when it does not. */
export async function runServerStatus(opts: ServerOptions, io: CliIo): Promise<number> {
  const record = readServerRecord(io.cwd);
  if (opts.json) io.stdout.write(json(record ?? null));
  else if (record) io.stdout.write(describe(record, io.cwd));
  else io.stderr.write("no dev nats-server running here: start one with `npx nfn server start`\n");
  return record ? EXIT.OK : EXIT.NO_RESPONDERS;
}

/** Defines `nfn server start|stop|status`. */
export function register(program: Command): void {
  const server = program
    .command("server")
    .description("start, stop or check a local nats-server with JetStream for development (data under .nfn/)")
    .addHelpText(
      "after",
      "\nExamples:\n  npx nfn server start            # port 4222 and monitoring 8222 when free\n  npx nfn server status\n  npx nfn server stop",
    );
  server
    .command("start")
    .description("start nats-server -js in the background; prints its URL and monitoring port")
    .option("--port <port>", "client port (default 4222, or a free one)")
    .option("--monitor-port <port>", "monitoring port (default 8222, or a free one)")
    .option("--json", "print JSON")
    .addHelpText("after", "\nExample:\n  npx nfn server start --port 4333")
    .action(verbAction<ServerOptions>((opts, io) => runServerStart(opts, io)));
  server
    .command("stop")
    .description("stop the dev nats-server recorded in .nfn/server.json")
    .addHelpText("after", "\nExample:\n  npx nfn server stop")
    .action(verbAction<ServerOptions>((opts, io) => runServerStop(opts, io)));
  server
    .command("status")
    .description("show the dev nats-server's URL and monitoring port; exit 3 when none runs")
    .option("--json", "print JSON")
    .addHelpText("after", "\nExample:\n  npx nfn server status --json")
    .action(verbAction<ServerOptions>((opts, io) => runServerStatus(opts, io)));
}
