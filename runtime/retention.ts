/**
 * Storage limits of the streams and KV buckets the system creates: how long entries live, how many
 * bytes the whole store may hold, and how many revisions a key keeps. Every store has defaults
 * suited to its data; `NFN_<NAME>_MAX_AGE`, `NFN_<NAME>_MAX_BYTES` and `NFN_<NAME>_HISTORY` override
 * them (README: Configuration). Read when the store is created: an existing one keeps its limits.
 */
import type { KvOptions } from "@nats-io/kv";

/** Limits of one stream or bucket. */
export interface RetentionLimits {
  /** Entries (values and delete markers) older than this are removed, in ms. */
  maxAgeMs: number;
  /** Most bytes the store may hold; a write past it is refused (discard new). */
  maxBytes: number;
  /** Revisions kept per key (KV) or per subject (streams that set it); 1 keeps only the latest. */
  history?: number;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const SIZE_UNITS: Record<string, number> = { "": 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2 };
SIZE_UNITS.g = SIZE_UNITS.gb = SIZE_UNITS.gib = 1024 ** 3;
SIZE_UNITS.t = SIZE_UNITS.tb = SIZE_UNITS.tib = 1024 ** 4;
// A KV key (or stream subject) keeps at most 64 revisions in JetStream.
const MAX_HISTORY = 64;

/** The prefix of a store's variables: `orders_open` → `NFN_ORDERS_OPEN`, `EVENTS_DLQ` → `NFN_EVENTS_DLQ`. */
export function retentionEnvPrefix(store: string): string {
  return `NFN_${store.toUpperCase().replace(/[^A-Z0-9]+/g, "_")}`;
}

/** The limits of `store`: `defaults` with the store's environment variables applied; throws on a malformed value. */
export function retentionFromEnv(store: string, defaults: RetentionLimits, env: NodeJS.ProcessEnv = process.env): RetentionLimits {
  const prefix = retentionEnvPrefix(store);
  const age = env[`${prefix}_MAX_AGE`];
  const bytes = env[`${prefix}_MAX_BYTES`];
  const history = env[`${prefix}_HISTORY`];
  const limits: RetentionLimits = {
    maxAgeMs: age ? parseDurationMs(age, `${prefix}_MAX_AGE`) : defaults.maxAgeMs,
    maxBytes: bytes ? parseBytes(bytes, `${prefix}_MAX_BYTES`) : defaults.maxBytes,
  };
  const h = history ? parseHistory(history, `${prefix}_HISTORY`) : defaults.history;
  if (h !== undefined) limits.history = h;
  return limits;
}

/** KV bucket options (`ttl`, `max_bytes`, `history`) for `store`, to pass to `ctx.kv(bucket, options)`. */
export function kvRetention(store: string, defaults: RetentionLimits, env: NodeJS.ProcessEnv = process.env): Partial<KvOptions> {
  const limits = retentionFromEnv(store, defaults, env);
  return { ttl: limits.maxAgeMs, max_bytes: limits.maxBytes, history: limits.history ?? 1 };
}

/** Stream config fields (`max_age` in ns, `max_bytes`, `max_msgs_per_subject`) for `store`. */
export function streamRetention(
  store: string,
  defaults: RetentionLimits,
  env: NodeJS.ProcessEnv = process.env,
): { max_age: number; max_bytes: number; max_msgs_per_subject?: number } {
  const limits = retentionFromEnv(store, defaults, env);
  const config: { max_age: number; max_bytes: number; max_msgs_per_subject?: number } = {
    max_age: limits.maxAgeMs * 1_000_000,
    max_bytes: limits.maxBytes,
  };
  if (limits.history !== undefined) config.max_msgs_per_subject = limits.history;
  return config;
}

/** Milliseconds of `500ms`, `30s`, `15m`, `24h`, `7d` (a bare number is seconds); throws when it is not one. */
export function parseDurationMs(text: string, name: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  const unit = DURATION_UNITS[match?.[2] ?? "s"];
  const ms = match?.[1] && unit !== undefined ? Math.round(Number(match[1]) * unit) : Number.NaN;
  if (!Number.isFinite(ms) || ms < 1) throw new Error(`${name}=${text.slice(0, 64)} is not a duration: use 30s, 15m, 24h or 7d`);
  return ms;
}

/** Bytes of `1048576`, `512MiB`, `1GB`, `64k` (binary units); throws when it is not a size. */
export function parseBytes(text: string, name: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = SIZE_UNITS[(match?.[2] ?? "").toLowerCase()];
  const n = match?.[1] && unit !== undefined ? Math.floor(Number(match[1]) * unit) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name}=${text.slice(0, 64)} is not a size: use 1048576, 512MiB or 1GiB`);
  return n;
}

function parseHistory(text: string, name: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > MAX_HISTORY)
    throw new Error(`${name}=${text.slice(0, 64)} must be a whole number from 1 to ${MAX_HISTORY}`);
  return n;
}
