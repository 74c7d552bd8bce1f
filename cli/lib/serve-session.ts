/**
 * What `nfn serve` and `nfn dev` share: find and load the functions, connect (or start a local
 * nats-server when none is configured or reachable), make sure there is an auth secret, and host them.
 */
import { join, relative, resolve } from "node:path";
import { connect } from "@nats-io/transport-node";
import { DEFAULT_NATS_URL } from "../../runtime/config.ts";
import type { FunctionDefinition } from "../../runtime/define-function.ts";
import { type Host, startHost } from "../../runtime/host.ts";
import { findFunctionSources, loadFunctionModule } from "../../runtime/loader.ts";
import { createLogger } from "../../runtime/logger.ts";
import { type LocalNatsServer, startNatsServer } from "../../runtime/nats-server.ts";
import { ensureAuthSecret } from "./auth-secret.ts";
import { type GlobalOptions, resolveConnection } from "./connection.ts";
import { CliError, usageError } from "./errors.ts";
import { EXIT } from "./exit-codes.ts";
import type { CliIo } from "./io.ts";
import { clearServerRecord, nfnDir, writeServerRecord } from "./local-server.ts";
import { portFree } from "./ports.ts";

/** Options of serve and dev. */
export interface ServeOptions extends GlobalOptions {
  /** The functions directory (default `functions`). */
  dir?: string;
}

/** Knobs tests use instead of the real defaults. */
export interface ServeInternals {
  /** The URL probed when no server is configured (default nats://127.0.0.1:4222). */
  defaultUrl?: string;
  /** The port a local server takes when it is free (default 4222). */
  preferredPort?: number;
  /** Its monitoring port when free (default 8222). */
  preferredMonitorPort?: number;
  /** Gives up waiting for an unreachable server when it fires (a signal before serve was up). */
  signal?: AbortSignal;
}

/** A running serve. */
export interface ServeSession {
  readonly host: Host;
  readonly url: string;
  readonly localServer: LocalNatsServer | undefined;
  /** Function name → its entry file. */
  readonly sources: Map<string, string>;
  /** Stops the functions, then the local server when this session started it. */
  stop(): Promise<void>;
}

/** Thrown by `startServeSession` when its signal fired before the server was reachable: nothing to stop, exit 0. */
export class StoppedBeforeStart extends Error {
  constructor() {
    super("stopped before the NATS server was reachable");
    this.name = "StoppedBeforeStart";
  }
}

/** Starts a serve session that gives up when `until` settles first; undefined when it did. */
export async function startUnlessStopped(
  opts: ServeOptions,
  names: string[],
  io: CliIo,
  until: Promise<unknown>,
  internals: ServeInternals = {},
): Promise<ServeSession | undefined> {
  const abort = new AbortController();
  void until.then(() => abort.abort(new Error("stopped before the NATS server was reachable")));
  try {
    return await startServeSession(opts, names, io, { ...internals, signal: abort.signal });
  } catch (err) {
    if (!(err instanceof StoppedBeforeStart)) throw err;
    io.stderr.write("nfn: stopped before the NATS server was reachable: nothing was served\n");
    return undefined;
  }
}

/** Finds the functions to run: all of `dir`, or the named ones. */
export function selectSources(dir: string, names: string[]): Map<string, string> {
  const all = findFunctionSources(dir);
  if (all.size === 0)
    throw usageError(`no functions in ${dir}: add ${join(dir, "<name>", "index.ts")} exporting defineFunction({...}), or pass --dir`);
  if (names.length === 0) return all;
  const unknown = names.filter((n) => !all.has(n));
  if (unknown.length > 0) throw usageError(`no function ${unknown.join(", ")} in ${dir}: available are ${[...all.keys()].join(", ")}`);
  return new Map([...all].filter(([name]) => names.includes(name)));
}

/** Loads every source; a module that fails to load stops serve with its file and reason. */
export async function loadSources(sources: Map<string, string>, cwd: string): Promise<FunctionDefinition[]> {
  const defs: FunctionDefinition[] = [];
  for (const [name, file] of sources) {
    let def: FunctionDefinition;
    try {
      def = await loadFunctionModule(file);
    } catch (err) {
      throw usageError(`cannot load ${relative(cwd, file)}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (def.name !== name)
      throw usageError(`${relative(cwd, file)} defines "${def.name}" but lives in functions/${name}/: rename one so they match`);
    defs.push(def);
  }
  return defs;
}

/** Starts serving; `names` narrows which functions. */
export async function startServeSession(
  opts: ServeOptions,
  names: string[],
  io: CliIo,
  internals: ServeInternals = {},
): Promise<ServeSession> {
  const resolved = resolveConnection(opts, io);
  const dir = resolve(io.cwd, opts.dir ?? "functions");
  const sources = selectSources(dir, names);

  // Functions read AUTH_JWT_SECRET from the process environment, so it must be set before they load.
  if (!io.env.AUTH_JWT_SECRET) {
    const secret = ensureAuthSecret(io.env, io.cwd);
    process.env.AUTH_JWT_SECRET = secret.secret;
    io.env.AUTH_JWT_SECRET = secret.secret;
    io.stderr.write(
      `nfn: AUTH_JWT_SECRET is not set: ${secret.created ? "generated a development secret into" : "using the development secret in"} ${relative(io.cwd, secret.source)} (set AUTH_JWT_SECRET to use your own)\n`,
    );
  }
  const defs = await loadSources(sources, io.cwd);

  let localServer: LocalNatsServer | undefined;
  let config = resolved.config;
  if (!resolved.explicitServer) {
    const localPort = internals.preferredPort ?? envPort(io.env, "NFN_LOCAL_NATS_PORT") ?? 4222;
    const defaultUrl = internals.defaultUrl ?? `nats://127.0.0.1:${localPort}`;
    const url = config.servers[0] ?? defaultUrl;
    const probeUrl = url === DEFAULT_NATS_URL ? defaultUrl : url;
    if (resolved.serverSource === ".nfn/server.json")
      io.stderr.write(`nfn: using the dev nats-server at ${url} recorded in .nfn/server.json\n`);
    if (!(await reachable(probeUrl))) {
      localServer = await startLocalServer(
        io,
        localPort,
        internals.preferredMonitorPort ?? envPort(io.env, "NFN_LOCAL_MONITOR_PORT") ?? 8222,
      );
      io.stderr.write(
        `nfn: no NATS server at ${probeUrl} and no NATS_URL or --server given: started a local nats-server -js at ${localServer.url} ` +
          `(monitoring http://127.0.0.1:${localServer.monitorPort}, data in .nfn/jetstream); it stops when serve stops\n`,
      );
    }
    config = { ...config, servers: [localServer?.url ?? probeUrl] };
  }
  let host: Host;
  try {
    host = await startHost(defs, {
      signal: internals.signal,
      config,
      log: createLogger({}, config.logLevel, (line) => io.stderr.write(line), { tty: io.stderr.isTTY === true }),
    });
  } catch (err) {
    await stopLocal(localServer, io.cwd);
    if (internals.signal?.aborted) throw new StoppedBeforeStart();
    throw new CliError(
      EXIT.CONNECTION,
      `cannot serve on ${config.servers.join(",")}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
  const url = config.servers.join(",");
  io.stdout.write(
    `serving ${defs.length} function${defs.length === 1 ? "" : "s"} on ${url}: ${defs.map((d) => `${d.name}@${d.version}`).join(", ")}\n`,
  );
  let stopped: Promise<void> | undefined;
  return {
    host,
    url,
    localServer,
    sources,
    stop() {
      stopped ??= (async () => {
        try {
          await host.stop();
        } catch (err) {
          // Ctrl-C reaches a local nats-server too, so the connection may already be gone: nothing is left to drain.
          if (!host.nc.isClosed()) throw err;
        } finally {
          await stopLocal(localServer, io.cwd);
        }
      })();
      return stopped;
    },
  };
}

async function reachable(url: string): Promise<boolean> {
  try {
    const nc = await connect({ servers: url, timeout: 1000, maxReconnectAttempts: 0 });
    await nc.close();
    return true;
  } catch {
    return false;
  }
}

// A port from the environment; a value that is not a port is a usage error, not a silent default.
function envPort(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const text = env[name];
  if (text === undefined || text === "") return undefined;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw usageError(`${name}=${text.slice(0, 64)} is not a port from 1 to 65535`);
  return port;
}

// The usual ports (4222, monitoring 8222) when they are free, so the docs' URLs work; free ones otherwise.
async function startLocalServer(io: CliIo, preferredPort: number, preferredMonitorPort: number): Promise<LocalNatsServer> {
  const port = (await portFree(preferredPort)) ? preferredPort : undefined;
  const monitorPort = (await portFree(preferredMonitorPort)) ? preferredMonitorPort : undefined;
  const storeDir = join(nfnDir(io.cwd), "jetstream");
  let server: LocalNatsServer;
  try {
    // Another process may take a port between the check and the start: then any free ports will do.
    server = await startNatsServer({ port, monitorPort, storeDir }).catch((err: unknown) =>
      port === undefined && monitorPort === undefined ? Promise.reject(err) : startNatsServer({ storeDir }),
    );
  } catch (err) {
    throw new CliError(EXIT.CONNECTION, err instanceof Error ? err.message : String(err), { cause: err });
  }
  const pid = server.process.pid ?? 0;
  writeServerRecord(io.cwd, {
    pid,
    url: server.url,
    port: server.port,
    monitorPort: server.monitorPort,
    storeDir: server.storeDir,
    startedBy: "serve",
    startedAt: new Date().toISOString(),
  });
  return server;
}

async function stopLocal(server: LocalNatsServer | undefined, cwd: string): Promise<void> {
  if (!server) return;
  await server.stop();
  clearServerRecord(cwd, server.process.pid ?? 0);
}
