/** Runtime configuration from the environment (documented in README, "Configuration"). */
import type { LogLevel } from "./logger.ts";
import { levelFromEnv } from "./logger.ts";

/** How to reach NATS and how functions are exposed. */
export interface RuntimeConfig {
  /** Comma-separated server URLs. */
  servers: string[];
  token?: string;
  user?: string;
  password?: string;
  /** Path of a .creds file (JWT + nkey seed). */
  credsFile?: string;
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
  /** An nkey user seed (`SU...`) to sign the server's challenge with (`NATS_NKEY_SEED`). */
  nkeySeed?: string;
  /** A file holding the nkey user seed, natscli style (`NATS_NKEY`). */
  nkeyFile?: string;
  /** Subject prefix of this connection's reply inboxes (`NATS_INBOX_PREFIX`); per identity, so callers never share inboxes. */
  inboxPrefix?: string;
  /** Connection name shown in the server's monitoring. */
  clientName: string;
  /** Endpoint subjects are `<prefix>.<function>`. */
  subjectPrefix: string;
  queue: string;
  /** Replicas for the KV buckets and streams the runtime creates (3 on a 3-node cluster). */
  replicas: number;
  logLevel: LogLevel;
  /** Longest wait for in-flight requests on SIGTERM before the process exits anyway. */
  shutdownGraceMs: number;
}

/** Default server when `NATS_URL` is not set. */
export const DEFAULT_NATS_URL = "nats://127.0.0.1:4222";

/** Reads the configuration; later keys in the list are aliases (`NATS_CREDS_FILE`, `NATS_TLS_*`, as older deployments name them). */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const pick = (...names: string[]) => names.map((n) => env[n]).find((v) => v !== undefined && v !== "");
  const caFile = pick("NATS_CA", "NATS_TLS_CA");
  const certFile = pick("NATS_CERT", "NATS_TLS_CERT");
  const keyFile = pick("NATS_KEY", "NATS_TLS_KEY");
  const tls = caFile || certFile || keyFile ? { caFile, certFile, keyFile } : undefined;
  return {
    servers: (pick("NATS_URL") ?? DEFAULT_NATS_URL)
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
    token: pick("NATS_TOKEN"),
    user: pick("NATS_USER"),
    password: pick("NATS_PASSWORD"),
    credsFile: pick("NATS_CREDS", "NATS_CREDS_FILE"),
    nkeySeed: pick("NATS_NKEY_SEED"),
    nkeyFile: pick("NATS_NKEY"),
    inboxPrefix: pick("NATS_INBOX_PREFIX"),
    tls,
    clientName: pick("NATS_CLIENT_ID") ?? `nfn-${process.pid}`,
    subjectPrefix: pick("NFN_SUBJECT_PREFIX") ?? "fn",
    queue: pick("NFN_QUEUE") ?? "q",
    replicas: positiveInt(pick("NFN_REPLICAS"), 1, "NFN_REPLICAS"),
    logLevel: levelFromEnv(env),
    shutdownGraceMs: positiveInt(pick("NFN_SHUTDOWN_GRACE_MS"), 10_000, "NFN_SHUTDOWN_GRACE_MS"),
  };
}

function positiveInt(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name}=${value} is not a positive integer`);
  return n;
}

/** The endpoint subject of a function. */
export function subjectFor(config: Pick<RuntimeConfig, "subjectPrefix">, fn: string): string {
  return config.subjectPrefix === "" ? fn : `${config.subjectPrefix}.${fn}`;
}
