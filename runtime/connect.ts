/** Connecting to NATS: credentials and TLS from config, retry until the server is up, reconnect forever. */
import { readFileSync } from "node:fs";
import { connect } from "@nats-io/transport-node";
import { credsAuthenticator, nkeyAuthenticator, type ConnectionOptions, type NatsConnection } from "@nats-io/nats-core";
import type { RuntimeConfig } from "./config.ts";
import type { Logger } from "./logger.ts";
import { shareRequestCancelError } from "./nats-request-quirk.ts";

/** Client options for `config`: reconnect forever with backoff and jitter. */
export function connectionOptions(config: RuntimeConfig): ConnectionOptions {
  const options: ConnectionOptions = {
    servers: config.servers,
    name: config.clientName,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 1000,
    reconnectJitter: 500,
    reconnectJitterTLS: 1000,
    pingInterval: 20_000,
    // The client would otherwise build an Error (with a stack trace) for every request just in case
    // it fails; profiling the saga showed that as a large share of CPU per nested call.
    noAsyncTraces: true,
  };
  if (config.token) options.token = config.token;
  if (config.user) options.user = config.user;
  if (config.password) options.pass = config.password;
  if (config.credsFile) {
    const path = config.credsFile;
    options.authenticator = credsAuthenticator(() => readFileSync(path));
  }
  const seed = nkeySeedSource(config);
  if (seed) options.authenticator = nkeyAuthenticator(seed);
  if (config.inboxPrefix) options.inboxPrefix = config.inboxPrefix;
  if (config.tls) options.tls = { ...config.tls };
  return options;
}

/** True when `config` carries any NATS credentials (token, user, creds file or nkey seed). */
export function hasCredentials(config: RuntimeConfig): boolean {
  return Boolean(config.token || config.user || config.credsFile || config.nkeySeed || config.nkeyFile);
}

/** True when every server URL of `servers` is on the loopback interface. */
export function onlyLoopback(servers: string[]): boolean {
  return servers.every((url) => {
    const host = hostOf(url);
    return host === "localhost" || host === "::1" || host === "[::1]" || /^127\./.test(host);
  });
}

function hostOf(url: string): string {
  try {
    return new URL(url.includes("://") ? url : `nats://${url}`).hostname.toLowerCase();
  } catch {
    return url;
  }
}

// The seed is read when the client signs the server's nonce, and checked first so a typo gets a
// clear message (never the seed itself) instead of a failed handshake.
function nkeySeedSource(config: RuntimeConfig): (() => Uint8Array) | undefined {
  const { nkeySeed, nkeyFile } = config;
  if (!nkeySeed && !nkeyFile) return undefined;
  const read = (): string => (nkeySeed ?? readFileSync(nkeyFile as string, "utf8")).trim();
  const where = nkeySeed ? "NATS_NKEY_SEED" : `the nkey file ${nkeyFile}`;
  if (!read().startsWith("SU"))
    throw new Error(`${where} does not hold an nkey user seed (SU...): run \`nfn auth init\` and use the role's .env file`);
  return () => new TextEncoder().encode(read());
}

/** Options of `connectWithRetry`. */
export interface RetryOptions {
  log: Logger;
  /** Stop trying when this fires (for example on SIGTERM before the server came up). */
  signal?: AbortSignal;
  /** Longest wait between two attempts. */
  maxDelayMs?: number;
}

/**
 * Connects, and when the server is not reachable yet keeps trying with exponential backoff and
 * jitter, logging each failure, until it connects or `signal` fires.
 */
export async function connectWithRetry(config: RuntimeConfig, { log, signal, maxDelayMs = 5000 }: RetryOptions): Promise<NatsConnection> {
  const options = connectionOptions(config);
  if (!hasCredentials(config) && !onlyLoopback(config.servers)) {
    log.warn(
      "connecting to NATS without credentials on a network address: anyone who reaches the server can call, answer and deploy functions",
      {
        servers: config.servers.join(","),
        fix: "run `nfn auth init` and start this process with the role's .env file (NATS_NKEY_SEED)",
      },
    );
  }
  shareRequestCancelError();
  for (let attempt = 1; ; attempt++) {
    try {
      const nc = await connect(options);
      log.info("connected to NATS", { server: nc.getServer(), attempt });
      watchStatus(nc, log);
      return nc;
    } catch (err) {
      if (isAuthError(err)) throw err; // retrying a bad password will not help
      const delay = Math.min(maxDelayMs, 250 * 2 ** Math.min(attempt, 8)) * (0.5 + Math.random() / 2);
      log.warn("NATS not reachable yet, retrying", {
        servers: config.servers.join(","),
        attempt,
        retryInMs: Math.round(delay),
        reason: err instanceof Error ? err.message : String(err),
      });
      await sleep(delay, signal);
    }
  }
}

function isAuthError(err: unknown): boolean {
  return err instanceof Error && /authoriz|authentic/i.test(err.message);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

// Disconnects and reconnects are what an operator wants to see in the log.
function watchStatus(nc: NatsConnection, log: Logger): void {
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect") log.warn("disconnected from NATS", { server: s.server });
      else if (s.type === "reconnect") log.info("reconnected to NATS", { server: s.server });
      else if (s.type === "error") log.error("NATS connection error", { error: s.error });
    }
  })().catch(() => {});
}

/** The inbox prefix `nc` was opened with (NATS_INBOX_PREFIX), for code that makes its own inboxes. */
export function inboxPrefixOf(nc: NatsConnection): string | undefined {
  // The implementation keeps its options; the public interface does not show them.
  const options = (nc as unknown as { options?: ConnectionOptions }).options;
  return typeof options?.inboxPrefix === "string" && options.inboxPrefix !== "" ? options.inboxPrefix : undefined;
}
