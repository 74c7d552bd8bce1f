/** JSON records in JetStream KV with compare-and-set on the revision: the only way stock state changes. */
import type { JetStreamClient } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import { idFromKvKey, kvKey } from "../../runtime/index.ts";

/** A record as read, with the revision a compare-and-set must name. */
export interface Versioned<T> {
  value: T;
  revision: number;
}

// JetStream API codes for "wrong last sequence": someone else wrote the key since we read it.
const WRONG_LAST_SEQUENCE = new Set([10071, 10164]);

/** True when a KV write failed because the key changed since it was read (or exists, for create). */
export function isRevisionConflict(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "number" && WRONG_LAST_SEQUENCE.has(code)) return true;
    if (/wrong last sequence/i.test(e.message)) return true;
  }
  return false;
}

/**
 * The ids stored in `bucket`, from one stream-info request (a key listing through a consumer can
 * stall for its full timeout when the connection is busy shutting down). Deleted keys may appear.
 */
export async function listIds(js: JetStreamClient, bucket: string): Promise<string[]> {
  const jsm = await js.jetstreamManager(false);
  const prefix = `$KV.${bucket}.`;
  const info = await jsm.streams.info(`KV_${bucket}`, { subjects_filter: `${prefix}>` });
  return Object.keys(info.state.subjects ?? {}).map((subject) => idFromKvKey(subject.slice(prefix.length)));
}

/** Removes every message of one key, leaving no delete marker behind (so listings stay small). */
export async function purgeKey(js: JetStreamClient, bucket: string, id: string): Promise<void> {
  // false: the bucket exists, so JetStream does; skipping the account check saves a round trip.
  const jsm = await js.jetstreamManager(false);
  await jsm.streams.purge(`KV_${bucket}`, { filter: `$KV.${bucket}.${kvKey(id)}` });
}

/** Reads `key` as JSON; undefined when it does not exist or was deleted. */
export async function readJson<T>(kv: KV, key: string): Promise<Versioned<T> | undefined> {
  const entry = await kv.get(kvKey(key));
  if (!entry || entry.operation !== "PUT" || entry.length === 0) return undefined;
  return { value: entry.json<T>(), revision: entry.revision };
}

/**
 * Writes `value` only if the key is still at `revision` (or, with `undefined`, does not exist yet).
 * Returns the new revision, or undefined when another writer got there first: re-read and decide again.
 */
export async function writeIfUnchanged<T>(kv: KV, key: string, value: T, revision: number | undefined): Promise<number | undefined> {
  try {
    const body = JSON.stringify(value);
    return revision === undefined ? await kv.create(kvKey(key), body) : await kv.update(kvKey(key), body, revision);
  } catch (err) {
    if (isRevisionConflict(err)) return undefined;
    throw err;
  }
}

/** Deletes `key` only if it is still at `revision`; false when it changed. */
export async function deleteIfUnchanged(kv: KV, key: string, revision: number): Promise<boolean> {
  try {
    await kv.delete(kvKey(key), { previousSeq: revision });
    return true;
  } catch (err) {
    if (isRevisionConflict(err)) return false;
    throw err;
  }
}

/** Most read-decide-write rounds one operation makes before it gives up (only under extreme contention). */
export const MAX_CAS_ATTEMPTS = 500;

/** A short random pause after a lost race, so a crowd of writers on one key spreads out. */
export function backoff(attempt: number): Promise<void> {
  const ms = Math.random() * Math.min(20, 1 + attempt);
  return new Promise((resolve) => setTimeout(resolve, ms));
}
