/**
 * The index of open event waits, kept in the journal bucket beside the open records:
 * `wait.<fn>.<type>.<by>.<value>.<id>.<n>`, one key per suspended `ctx.waitForEvent`, filed under
 * the most selective field of its match (`a` aggregateId, `c` correlationId, else `any._`; a value
 * whose key token is over 256 characters counts as absent). An
 * arriving event lists only the keys filed under its own aggregate id and correlation id (and the
 * `any` waits), so what it reads does not depend on how many other invocations are open.
 */
import type { JetStreamClient } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import { idFromKvKey, kvKey } from "../kv-key.ts";
import type { DomainEvent } from "../types.ts";
import { RUNS_BUCKET } from "./journal.ts";
import type { OpenRecord, Wake } from "./records.ts";

/** One waiter found in the index. */
export interface IndexedWait {
  /** The index key (removed once the wait is over). */
  key: string;
  id: string;
  /** The step number of the wait. */
  n: number;
}

/** Counters of the index, for tests and operators: what an event lookup touched. */
export const waitIndexStats = {
  /** Events looked up in the index. */
  lookups: 0,
  /** Index keys those lookups returned (each costs one open-record read). */
  keysRead: 0,
};

/** A wait for an event, as the open record keeps it. */
export type EventWake = Extract<Wake, { kind: "event" }>;

// Longest key token of a match value: a longer one (any value from the bus may be long) would make
// listing subjects the server refuses, so such waits are filed, and such events looked up, under `any`.
const MAX_TOKEN = 256;

// A value becomes one key token; "" (which kvKey refuses) is "=", a token kvKey never makes.
function token(value: string): string {
  return value === "" ? "=" : kvKey(value);
}

function shortToken(value: string | undefined): string | undefined {
  if (value === undefined || value.length > MAX_TOKEN) return undefined;
  const t = token(value);
  return t.length <= MAX_TOKEN ? t : undefined;
}

function prefix(fn: string, eventType: string): string {
  return `wait.${fn}.${token(eventType)}`;
}

function bucketOf(wake: EventWake): string {
  const aggregate = shortToken(wake.match.aggregateId);
  if (aggregate !== undefined) return `a.${aggregate}`;
  const correlation = shortToken(wake.match.correlationId);
  if (correlation !== undefined) return `c.${correlation}`;
  return "any._";
}

/** The index key of the wait `wake` of invocation `id` of `fn`. */
export function waitKey(fn: string, id: string, wake: EventWake): string {
  return `${prefix(fn, wake.eventType)}.${bucketOf(wake)}.${kvKey(id)}.${wake.n}`;
}

/** Files the wait `wake` of invocation `id` in the index; returns its key. */
export async function indexWait(kv: KV, fn: string, id: string, wake: EventWake): Promise<string> {
  const key = waitKey(fn, id, wake);
  await kv.put(key, JSON.stringify({ v: 1, at: wake.at }));
  return key;
}

/**
 * Removes the index key of the wait `record` was suspended in (when it has one): the message
 * itself, not a delete marker, so the index holds only waits that are open.
 */
export async function unindexWait(js: JetStreamClient, kv: KV, record: OpenRecord): Promise<void> {
  const wake = record.wake;
  if (wake?.kind !== "event") return;
  await removeKey(js, kv, waitKey(record.fn, record.id, wake));
}

/** Removes one index key. */
export async function removeKey(js: JetStreamClient, kv: KV, key: string): Promise<void> {
  const entry = await kv.get(key);
  if (!entry || entry.operation !== "PUT") return;
  const jsm = await js.jetstreamManager(false);
  await jsm.streams.deleteMessage(`KV_${RUNS_BUCKET}`, entry.revision, false).catch((err: unknown) => {
    // Removed already (by the run that resumed, or a stale-key sweep): nothing left to do.
    if (!/no message found/i.test(String((err as Error | null)?.message))) throw err;
  });
}

/** The waits of `fn` that `event` may satisfy: those filed under its aggregate id, its correlation id, or neither. */
export async function waitersOf(kv: KV, fn: string, event: DomainEvent): Promise<IndexedWait[]> {
  waitIndexStats.lookups++;
  // No wait is for a type that long (a function declares the types it waits for).
  if (shortToken(event.eventType) === undefined) return [];
  const base = prefix(fn, event.eventType);
  const filters = [`${base}.any.>`];
  const aggregate = shortToken(event.aggregateId);
  if (aggregate !== undefined) filters.push(`${base}.a.${aggregate}.>`);
  const correlationId = event.metadata.correlationId;
  const correlation = typeof correlationId === "string" ? shortToken(correlationId) : undefined;
  if (correlation !== undefined) filters.push(`${base}.c.${correlation}.>`);
  // One filter per listing: nats-server 2.9 has one filter subject per consumer.
  const lists = await Promise.all(filters.map((f) => listKeys(kv, f)));
  const out: IndexedWait[] = [];
  for (const key of lists.flat()) {
    const parts = key.split(".");
    const id = parts[5];
    const n = Number(parts[6]);
    if (parts.length !== 7 || !id || !Number.isSafeInteger(n)) continue;
    out.push({ key, id: idFromKvKey(id), n });
  }
  waitIndexStats.keysRead += out.length;
  return out;
}

async function listKeys(kv: KV, filter: string): Promise<string[]> {
  const out: string[] = [];
  for await (const key of await kv.keys(filter)) out.push(key);
  return out;
}
