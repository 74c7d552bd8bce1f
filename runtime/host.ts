/** The host: one connection serving many functions, with graceful shutdown on SIGTERM/SIGINT. */
import type { NatsConnection } from "@nats-io/nats-core";
import { checkAuthConfig } from "./auth/keys.ts";
import { type RuntimeConfig, configFromEnv } from "./config.ts";
import { connectWithRetry } from "./connect.ts";
import type { FunctionDefinition } from "./define-function.ts";
import { ensureEventsStream } from "./events.ts";
import { type InstanceOrigin, type RunningFunction, startFunction } from "./function-instance.ts";
import { type Logger, createLogger } from "./logger.ts";
import { type StateAccess, createStateAccess } from "./state.ts";
import { opsPortFromEnv } from "./ops/ops-port.ts";
import { flushTracing, initTracingFromEnv } from "./ops/tracing.ts";

/** Options of `startHost`. */
export interface HostOptions {
  config?: RuntimeConfig;
  /** An open connection to use instead of connecting from `config` (tests, the worker). */
  nc?: NatsConnection;
  log?: Logger;
  /** Where each function's code came from, by name. */
  origins?: Map<string, InstanceOrigin>;
  /** Gives up waiting for the server when it fires. */
  signal?: AbortSignal;
  /** Port of the /healthz, /readyz and /metrics server (0 = any free port); default NFN_HTTP_PORT, none when unset. */
  opsPort?: number;
}

/** A running set of functions. */
export interface Host {
  readonly nc: NatsConnection;
  readonly config: RuntimeConfig;
  readonly state: StateAccess;
  readonly log: Logger;
  readonly functions: ReadonlyMap<string, RunningFunction>;
  /** The ops HTTP server (health, readiness, metrics), when one was asked for. */
  readonly ops: { readonly port: number } | undefined;
  /** Starts one more function (or a new version next to the old one: the caller stops the old). */
  add(def: FunctionDefinition, origin?: InstanceOrigin): Promise<RunningFunction>;
  /** Stops one function (in-flight requests finish, at most `graceMs`) and forgets it; false when it was not running. */
  remove(name: string, graceMs?: number): Promise<boolean>;
  /**
   * Stops taking requests, lets in-flight ones finish (at most `graceMs`), drains the connection
   * when the host opened it. Safe to call twice.
   */
  stop(graceMs?: number): Promise<void>;
}

/** Connects (waiting for the server when needed) and registers every function. */
export async function startHost(defs: FunctionDefinition[], options: HostOptions = {}): Promise<Host> {
  const config = options.config ?? configFromEnv();
  // A bad token key (a short AUTH_JWT_SECRET, an unreadable AUTH_PUBLIC_KEY) stops the process here, not request by request.
  checkAuthConfig();
  const log = options.log ?? createLogger({}, config.logLevel);
  const ownsConnection = options.nc === undefined;
  const nc = options.nc ?? (await connectWithRetry(config, { log, signal: options.signal }));
  const state = createStateAccess(nc, config.replicas);
  await ensureEventsStream(nc, config.replicas).catch((err: unknown) => {
    log.warn("EVENTS stream not available: is JetStream enabled (nats-server -js)? ctx.emit will fail", { error: err });
  });
  await initTracingFromEnv();
  const functions = new Map<string, RunningFunction>();
  const opsPort = options.opsPort ?? opsPortFromEnv();
  // Loaded only when asked for, so a function process without NFN_HTTP_PORT never loads prom-client.
  const ops =
    opsPort === undefined
      ? undefined
      : await import("./ops/ops-server.ts").then((m) =>
          m.startOpsServer(
            {
              nc,
              endpoints: () =>
                [...functions.values()].map((f) => ({ name: f.definition.name, version: f.definition.version, stats: f.stats })),
            },
            opsPort,
          ),
        );
  const env = { nc, state, subjectPrefix: config.subjectPrefix, queue: config.queue, log };
  let stopping: Promise<void> | undefined;

  const host: Host = {
    nc,
    config,
    state,
    log,
    functions,
    ops,
    async add(def, origin) {
      const running = await startFunction(def, env, origin ?? options.origins?.get(def.name));
      functions.set(def.name, running);
      ops?.track(def.name, def.version, running.stats);
      log.info("function registered", { fn: def.name, version: def.version, subject: running.subject });
      return running;
    },
    async remove(name, graceMs = config.shutdownGraceMs) {
      const running = functions.get(name);
      if (!running) return false;
      functions.delete(name);
      await running.stop(graceMs);
      log.info("function removed", { fn: name, version: running.definition.version });
      return true;
    },
    stop(graceMs = config.shutdownGraceMs) {
      // The whole stop fits in graceMs: with the server gone, unsubscribing and draining wait for a
      // reconnect that may never come, so each step gets what is left and the connection is then closed.
      stopping ??= (async () => {
        const deadline = Date.now() + graceMs;
        const left = () => Math.max(0, deadline - Date.now());
        const stopped = await within(Promise.all([...functions.values()].map((f) => f.stop(graceMs))), left());
        await within(Promise.all([ops?.close(), flushTracing()]), left());
        if (!stopped) log.warn("in-flight requests did not finish within the shutdown grace", { graceMs });
        if (ownsConnection && !nc.isClosed() && !(await within(nc.drain(), left()))) {
          log.warn("NATS did not drain within the shutdown grace: closing the connection", { graceMs });
          await within(nc.close(), Math.min(left(), 1000));
        }
      })();
      return stopping;
    },
  };
  for (const def of defs) await host.add(def);
  return host;
}

/** Waits for `work` at most `ms`; true when it settled in time (its rejection is rethrown), false when time ran out. */
async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const settled = work.then(() => true as const);
  settled.catch(() => {}); // given up on: a late failure must not become an unhandled rejection
  try {
    return await Promise.race([settled, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs `defs` as a process: connect from the environment, serve, and on SIGTERM, SIGINT or SIGHUP stop
 * taking requests, finish those in flight and exit 0. Used by `nfn serve` and by every bundle.
 */
export async function runFunctions(defs: FunctionDefinition[], options: HostOptions = {}): Promise<Host> {
  const beforeStart = new AbortController();
  // Set once the host is up; a signal before that only has the connection attempts to stop.
  const started: { host?: Host } = {};
  const shutdown = (signal: string) => {
    const { host } = started;
    if (!host) {
      beforeStart.abort(new Error(`${signal} before the NATS server was reachable`));
      process.exit(0);
    }
    host.log.info("shutting down: no new requests, finishing those in flight", { signal });
    host.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        host.log.error("shutdown failed", { error: err });
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGHUP", () => shutdown("SIGHUP"));
  const host = await startHost(defs, { ...options, signal: options.signal ?? beforeStart.signal });
  started.host = host;
  void host.nc.closed().then((err) => {
    if (err) host.log.error("NATS connection closed", { error: err });
  });
  return host;
}
