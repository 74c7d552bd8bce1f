/**
 * Global connection options, natscli style: flags, then a natscli context, then the runtime's
 * environment variables (runtime/config.ts), then a dev server recorded in `.nfn/server.json`.
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { type RuntimeConfig, configFromEnv } from "../../runtime/config.ts";
import { connectionOptions } from "../../runtime/connect.ts";
import { parseDuration } from "./duration.ts";
import { CliError, usageError } from "./errors.ts";
import { EXIT } from "./exit-codes.ts";
import type { CliIo } from "./io.ts";
import { readServerRecord } from "./local-server.ts";

/** The global options every verb accepts (see `addGlobalOptions`). */
export interface GlobalOptions {
  server?: string;
  creds?: string;
  /** A file holding an nkey user seed (natscli's --nkey). */
  nkey?: string;
  user?: string;
  password?: string;
  /** The NATS connection token (not a JWT for functions: that is `invoke --auth`). */
  token?: string;
  tlsca?: string;
  tlscert?: string;
  tlskey?: string;
  context?: string;
  timeout?: string;
  json?: boolean;
}

/** Default wait for replies and discovery. */
export const DEFAULT_TIMEOUT_MS = 5000;

/** Adds the global options to the program; verbs read them with `command.optsWithGlobals()`. */
export function addGlobalOptions(program: Command): Command {
  return program
    .option("-s, --server <urls>", "NATS server URLs, comma-separated (env NATS_URL)")
    .option("--creds <file>", "NATS credentials file (env NATS_CREDS)")
    .option("--nkey <file>", "file holding an nkey user seed (env NATS_NKEY; or the seed itself in NATS_NKEY_SEED)")
    .option("--user <user>", "NATS user (env NATS_USER)")
    .option("--password <password>", "NATS password (env NATS_PASSWORD)")
    .option("--token <token>", "NATS connection token (env NATS_TOKEN); the JWT for functions is `invoke --auth`")
    .option("--tlsca <file>", "CA certificate to verify the server (env NATS_CA)")
    .option("--tlscert <file>", "client certificate (env NATS_CERT)")
    .option("--tlskey <file>", "client key (env NATS_KEY)")
    .option("--context <name>", "natscli context from ~/.config/nats/context/<name>.json (env NATS_CONTEXT)")
    .option("--timeout <duration>", "how long to wait for replies: 500ms, 5s, 1m (default 5s)");
}

/** Where the connection settings came from, for messages. */
export interface ResolvedConnection {
  config: RuntimeConfig;
  /** True when the user named a server (flag, context or NATS_URL), so nothing should be started for them. */
  explicitServer: boolean;
  /** Where the server URL came from. */
  serverSource: "--server" | "context" | "NATS_URL" | ".nfn/server.json" | "default";
  timeoutMs: number;
}

/** The fields of a natscli context file that matter here. */
interface NatsContext {
  url?: string;
  token?: string;
  user?: string;
  password?: string;
  creds?: string;
  nkey?: string;
  cert?: string;
  key?: string;
  ca?: string;
}

/** Reads a natscli context by name (`$XDG_CONFIG_HOME/nats/context/<name>.json`). */
export function readNatsContext(name: string, env: NodeJS.ProcessEnv): NatsContext {
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw usageError(`context name "${name}" may only hold letters, digits, ".", "_" and "-"`);
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
  const file = join(base, "nats", "context", `${name}.json`);
  if (!existsSync(file))
    throw usageError(`no natscli context "${name}" at ${file}: create it with \`nats context save ${name} --server ...\``);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    throw usageError(`context file ${file} is not valid JSON (${err instanceof Error ? err.message : String(err)}): fix or recreate it`);
  }
  if (typeof parsed !== "object" || parsed === null) throw usageError(`context file ${file} does not hold a JSON object`);
  const ctx: NatsContext = {};
  for (const key of ["url", "token", "user", "password", "creds", "nkey", "cert", "key", "ca"] as const) {
    const value = (parsed as Record<string, unknown>)[key];
    if (typeof value === "string" && value !== "") ctx[key] = value;
  }
  return ctx;
}

/** Turns global options, a context and the environment into a runtime configuration. */
export function resolveConnection(opts: GlobalOptions, io: Pick<CliIo, "env" | "cwd">): ResolvedConnection {
  const base = configFromEnv(io.env);
  const contextName = opts.context ?? io.env.NATS_CONTEXT;
  const ctx = contextName ? readNatsContext(contextName, io.env) : {};
  const envUrl = io.env.NATS_URL !== undefined && io.env.NATS_URL !== "";
  let servers = base.servers;
  let serverSource: ResolvedConnection["serverSource"] = "NATS_URL";
  if (opts.server) [servers, serverSource] = [splitUrls(opts.server), "--server"];
  else if (ctx.url) [servers, serverSource] = [splitUrls(ctx.url), "context"];
  else if (!envUrl) {
    const recorded = readServerRecord(io.cwd);
    if (recorded) [servers, serverSource] = [[recorded.url], ".nfn/server.json"];
    else serverSource = "default";
  }
  const explicitServer = serverSource !== ".nfn/server.json" && serverSource !== "default";
  const caFile = opts.tlsca ?? ctx.ca ?? base.tls?.caFile;
  const certFile = opts.tlscert ?? ctx.cert ?? base.tls?.certFile;
  const keyFile = opts.tlskey ?? ctx.key ?? base.tls?.keyFile;
  const config: RuntimeConfig = {
    ...base,
    servers,
    token: opts.token ?? ctx.token ?? base.token,
    user: opts.user ?? ctx.user ?? base.user,
    password: opts.password ?? ctx.password ?? base.password,
    credsFile: opts.creds ?? ctx.creds ?? base.credsFile,
    // A file named by a flag or a context wins over a seed in the environment.
    nkeyFile: opts.nkey ?? ctx.nkey ?? base.nkeyFile,
    nkeySeed: opts.nkey || ctx.nkey ? undefined : base.nkeySeed,
    tls: caFile || certFile || keyFile ? { caFile, certFile, keyFile } : undefined,
    clientName: `nfn-cli-${process.pid}`,
  };
  const timeoutMs = opts.timeout ? parseDuration(opts.timeout, "--timeout") : DEFAULT_TIMEOUT_MS;
  return { config, explicitServer, serverSource, timeoutMs };
}

function splitUrls(text: string): string[] {
  return text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Connects once (no waiting for a server that is not there) and turns failures into one clear line. */
export async function connectCli(resolved: ResolvedConnection): Promise<NatsConnection> {
  const { config } = resolved;
  const where = config.servers.join(",");
  try {
    return await connect({ ...connectionOptions(config), maxReconnectAttempts: 0, timeout: Math.min(resolved.timeoutMs, 5000) });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    if (/authoriz|authentic|permission/i.test(reason)) {
      throw new CliError(
        EXIT.CONNECTION,
        `NATS at ${where} refused the credentials (${reason}): check --creds, --nkey (NATS_NKEY_SEED), --user/--password, --token or --context`,
        { cause: err },
      );
    }
    throw new CliError(
      EXIT.CONNECTION,
      `cannot connect to NATS at ${where} (${reason}): start one with \`npx nfn server start\` or \`npx nfn serve\`, or point -s/--server or NATS_URL at a running server`,
      { cause: err },
    );
  }
}

/** Runs `fn` with a connection from `opts` and closes it afterwards. */
export async function withConnection<T>(
  opts: GlobalOptions,
  io: CliIo,
  fn: (nc: NatsConnection, resolved: ResolvedConnection) => Promise<T>,
): Promise<T> {
  const resolved = resolveConnection(opts, io);
  const nc = await connectCli(resolved);
  try {
    return await fn(nc, resolved);
  } finally {
    if (!nc.isClosed()) await nc.close();
  }
}
