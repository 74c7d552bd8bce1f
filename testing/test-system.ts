/**
 * A whole system for one test file: a nats-server with JetStream on a free port with a temporary
 * store, the functions under test served on it, and a caller's view of it (invoke, tokens, KV, events).
 */
import { randomBytes } from "node:crypto";
import { resolve } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { decodeReply, requestFunction } from "../runtime/client/index.ts";
import { configFromEnv, subjectFor } from "../runtime/config.ts";
import type { FunctionDefinition } from "../runtime/define-function.ts";
import { isFunctionError } from "../runtime/errors.ts";
import { EVENTS_STREAM } from "../runtime/events.ts";
import { CORRELATION_ID } from "../runtime/headers.ts";
import { type Host, startHost } from "../runtime/host.ts";
import { findFunctionSources, loadFunctionModule } from "../runtime/loader.ts";
import { type LogLevel, createLogger } from "../runtime/logger.ts";
import { type LocalNatsServer, startNatsServer } from "../runtime/nats-server.ts";
import type { DomainEvent } from "../runtime/types.ts";
import { mintToken } from "../cli/lib/tokens.ts";

/** Options of `startTestSystem`. */
export interface TestSystemOptions {
  /** A functions directory (`<dir>/<name>/index.ts`) whose functions are all served. */
  dir?: string;
  /** Definitions to serve (next to, or instead of, those of `dir`; a name given here wins). */
  functions?: FunctionDefinition[];
  /** Level of the functions' logs on stderr (default `LOG_LEVEL`, else `error`). */
  logLevel?: LogLevel;
}

/** What `invoke` returns: the reply value, or the function's error as the contract describes it. */
export type InvokeResult =
  { value: unknown; error?: undefined } | { value?: undefined; error: { code: number; type: string; message: string; details?: unknown } };

/** Options of one `invoke`. */
export interface InvokeOptions {
  headers?: Record<string, string>;
  /** A JWT sent as `Authorization: Bearer <token>` (see `token()`). */
  token?: string;
  /** How long to wait for the reply (default 10 s). */
  timeoutMs?: number;
}

/** A running test system. */
export interface TestSystem {
  /** The server's URL, for your own clients. */
  readonly natsUrl: string;
  /** The host serving the functions. */
  readonly host: Host;
  /** A client connection of its own, as any caller would have. */
  readonly nc: NatsConnection;
  /** Calls a function through NATS; `input` is sent JSON-encoded (a `Uint8Array` as it is). */
  invoke(fn: string, input: unknown, options?: InvokeOptions): Promise<InvokeResult>;
  /** A token that the served `verify_token` accepts: subject `sub` with `scopes`, valid for an hour. */
  token(sub: string, scopes?: string[]): Promise<string>;
  /** A JetStream KV bucket (created when missing). */
  kv(bucket: string): Promise<KV>;
  /** The domain events stored so far, oldest first; only those of `type` when given. */
  events(type?: string): Promise<DomainEvent[]>;
  /** Stops the functions, the connection and the server, and removes the store. */
  stop(): Promise<void>;
}

/** Starts a nats-server, serves the functions and resolves once they answer. */
export async function startTestSystem(options: TestSystemOptions = {}): Promise<TestSystem> {
  // verify_token reads its key from the environment: a secret of this process's own unless one is set.
  process.env.AUTH_JWT_SECRET ||= randomBytes(32).toString("base64url");
  const secret = process.env.AUTH_JWT_SECRET;
  const defs = await functionsToServe(options);
  const server = await startNatsServer();
  let host: Host | undefined;
  let nc: NatsConnection | undefined;
  try {
    const config = { ...configFromEnv({ ...process.env, NATS_URL: server.url }), clientName: "nfn-test-system" };
    const level = options.logLevel ?? (process.env.LOG_LEVEL ? config.logLevel : "error");
    host = await startHost(defs, { config, log: createLogger({}, level) });
    nc = await connect({ servers: server.url, name: "nfn-test-caller" });
  } catch (err) {
    await host?.stop(500).catch(() => {});
    await server.stop();
    throw err;
  }
  return systemOf(server, host, nc, secret);
}

async function functionsToServe(options: TestSystemOptions): Promise<FunctionDefinition[]> {
  const byName = new Map<string, FunctionDefinition>();
  if (options.dir !== undefined) {
    const sources = findFunctionSources(resolve(options.dir));
    if (sources.size === 0) throw new Error(`no functions in ${options.dir}: expected <dir>/<name>/index.ts files`);
    for (const [name, file] of sources) byName.set(name, await loadFunctionModule(file));
  }
  for (const def of options.functions ?? []) byName.set(def.name, def);
  if (byName.size === 0) throw new Error("startTestSystem needs functions: pass { dir } or { functions }");
  return [...byName.values()];
}

function systemOf(server: LocalNatsServer, host: Host, nc: NatsConnection, secret: string): TestSystem {
  let stopped: Promise<void> | undefined;
  return {
    natsUrl: server.url,
    host,
    nc,
    async invoke(fn, input, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      if (opts.token !== undefined) headers.Authorization = `Bearer ${opts.token}`;
      headers[CORRELATION_ID] ??= `test-${randomBytes(6).toString("hex")}`;
      const body = input instanceof Uint8Array ? input : JSON.stringify(input);
      try {
        const msg = await requestFunction(nc, {
          subject: subjectFor(host.config, fn),
          fn,
          body,
          headers,
          timeoutMs: opts.timeoutMs ?? 10_000,
        });
        return { value: decodeReply(fn, msg) };
      } catch (err) {
        if (!isFunctionError(err)) throw err;
        const error: { code: number; type: string; message: string; details?: unknown } = {
          code: err.code,
          type: err.type,
          message: err.message,
        };
        if (err.details !== undefined) error.details = err.details;
        return { error };
      }
    },
    token: (sub, scopes = []) => mintToken(secret, { sub, scopes, ttlSeconds: 3600 }),
    kv: (bucket) => host.state.kv(bucket),
    async events(type) {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.streams.info(EVENTS_STREAM);
      const out: DomainEvent[] = [];
      for (let seq = info.state.first_seq; seq > 0 && seq <= info.state.last_seq; seq++) {
        const msg = await jsm.streams.getMessage(EVENTS_STREAM, { seq }).catch(() => null);
        if (!msg) continue; // deleted
        const event = msg.json<DomainEvent>();
        if (type === undefined || event.eventType === type) out.push(event);
      }
      return out;
    },
    stop() {
      stopped ??= (async () => {
        try {
          await host.stop(1000);
        } finally {
          if (!nc.isClosed()) await nc.close();
          await server.stop();
        }
      })();
      return stopped;
    },
  };
}
