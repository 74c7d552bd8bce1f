/**
 * Keyed records: the one way a function changes a record in KV. An update is a function over the
 * latest value, written with compare-and-set. Updates to the same key from one instance are queued
 * and applied in order to one value, then written once (one write for a whole batch); when another
 * instance wins the race, the batch is re-applied to the fresh value. So a hot key costs one write
 * per round trip, not a storm of lost races and retries.
 */
import type { KV, KvOptions } from "@nats-io/kv";
import { FunctionError, isFunctionError } from "./errors.ts";
import { kvKey } from "./kv-key.ts";
import { isRevisionConflict, isStoreUnavailable } from "./keyed-errors.ts";

/** What an update decides: a new value to write (and the caller's result), or only a result (no write). */
export type KeyedChange<T, R> = { write: T; result: R } | { result: R };

/**
 * An update over the latest value (undefined when the record does not exist). It must be pure: it may
 * be applied more than once (after a lost race), and must return a new value rather than change
 * `current`. Throwing refuses this update alone; the others in the batch go on.
 */
export type KeyedUpdate<T, R> = (current: T | undefined) => KeyedChange<T, R>;

/** How a keyed bucket is made and bounded. */
export interface KeyedOptions {
  /** Largest record in bytes (its JSON); an update that would grow one past it is refused with 409 (one that does not grow it is not). Default 65536. */
  maxBytes?: number;
  /** Options used when the bucket is created: `ttl` (max age, ms), `max_bytes`, `history`. */
  bucket?: Partial<KvOptions>;
  /**
   * The KV key of an id; `kvKey` by default. Only for ids that are keys already, built from
   * `kvKey`-encoded parts (a key with several tokens). The options of a bucket's first use apply.
   */
  keyOf?: (id: string) => string;
}

/** A record as read, with the revision a compare-and-set names (0: never written). */
export interface KeyedRecord<T> {
  value: T | undefined;
  revision: number;
}

/** One bucket of keyed records. */
export interface Keyed<T> {
  /** The bucket's name. */
  readonly bucket: string;
  /** Functions that change it (their STATS show its counters). */
  readonly writers?: Set<string>;
  /** The latest value, read from the server. */
  get(id: string): Promise<T | undefined>;
  /** Applies `fn` to the latest value of `id` and writes the result; resolves with `fn`'s result once written. */
  update<R>(id: string, fn: KeyedUpdate<T, R>, options?: UpdateOptions): Promise<R>;
}

/** Hints for one update. */
export interface UpdateOptions {
  /** The record is most likely new (a fresh id): write without reading first; a lost race reads and re-applies. */
  expectNew?: boolean;
}

/** Default largest record. */
export const DEFAULT_MAX_RECORD_BYTES = 65_536;
// Updates applied in one write: bounds the work of one re-application after a lost race.
const MAX_BATCH = 1024;
// Rounds of read-apply-write for one batch before giving up (only under extreme cross-instance contention).
const MAX_ROUNDS = 200;
// Latest values this instance wrote or read, so the next update of a key needs no read first.
const MAX_CACHED = 4096;
// How long a key counts as contended after this instance lost a race on it.
const CONTENDED_MS = 1000;
// Longest pause between two batches of a contended key.
const MAX_YIELD_MS = 5;

interface Waiting {
  id: string;
  expectNew: boolean;
  fn: KeyedUpdate<unknown, unknown>;
  resolve(result: unknown): void;
  reject(err: unknown): void;
}

type Outcome = { ok: true; result: unknown } | { ok: false; error: unknown };

interface Applied {
  changed: boolean;
  value: unknown;
  body: string;
  outcomes: Outcome[];
}

/** What the keyed records of one bucket did in this process, for STATS (`data.keyed`). */
export interface KeyedCounters {
  /** Updates asked for. */
  updates: number;
  /** Writes that succeeded (one per batch that changed the record). */
  writes: number;
  /** Writes that lost the race to another instance (the batch was re-applied to the fresh value). */
  conflicts: number;
  /** Reads from the server (a key not cached, after a lost race, or to confirm a refusal). */
  reads: number;
}

const liveKeyed = new Set<KeyedBucket<unknown>>();

/** The counters of every keyed bucket of this process (only those `writer` changes, when given), summed by bucket. */
export function keyedStats(writer?: string): Record<string, KeyedCounters> {
  const out: Record<string, KeyedCounters> = Object.create(null) as Record<string, KeyedCounters>;
  for (const k of liveKeyed) {
    if (writer !== undefined && !k.writers.has(writer)) continue;
    const sum = (out[k.bucket] ??= { updates: 0, writes: 0, conflicts: 0, reads: 0 });
    sum.updates += k.counters.updates;
    sum.writes += k.counters.writes;
    sum.conflicts += k.counters.conflicts;
    sum.reads += k.counters.reads;
  }
  return out;
}

/** The keyed records of `bucket`, over the KV `open()` yields; share one per connection so updates coalesce. */
export class KeyedBucket<T> implements Keyed<T> {
  /** Functions that change it. */
  readonly writers = new Set<string>();
  /** What it did so far. */
  readonly counters: KeyedCounters = { updates: 0, writes: 0, conflicts: 0, reads: 0 };
  private readonly queues = new Map<string, Waiting[]>();
  private readonly cache = new Map<string, KeyedRecord<unknown>>();
  // Keys another instance also writes: until when, and how long our last write of each took (ms).
  private readonly contended = new Map<string, { until: number; putMs: number }>();
  private readonly maxBytes: number;
  private readonly keyOf: (id: string) => string;

  constructor(
    readonly bucket: string,
    private readonly open: () => Promise<KV>,
    options: KeyedOptions = {},
    /** A read answered by the stream's leader (a replica's direct get may lag); the plain read when absent. */
    private readonly leaderRead?: (key: string) => Promise<KeyedRecord<unknown>>,
  ) {
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_RECORD_BYTES;
    this.keyOf = options.keyOf ?? kvKey;
    liveKeyed.add(this as KeyedBucket<unknown>);
  }

  /** The value this instance last wrote or read for an encoded key, without asking the server. */
  peek(key: string): KeyedRecord<unknown> | undefined {
    return this.cache.get(key);
  }

  async get(id: string): Promise<T | undefined> {
    const key = this.keyOf(id);
    try {
      const rec = await this.read(await this.open(), key);
      return rec.value as T | undefined;
    } catch (err) {
      throw asStoreError(err);
    }
  }

  update<R>(id: string, fn: KeyedUpdate<T, R>, options: UpdateOptions = {}): Promise<R> {
    let key: string;
    try {
      key = this.keyOf(id);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    this.counters.updates++;
    return new Promise<R>((resolve, reject) => {
      const waiting: Waiting = {
        id,
        expectNew: options.expectNew === true,
        fn: fn as KeyedUpdate<unknown, unknown>,
        resolve: resolve as (r: unknown) => void,
        reject,
      };
      const queue = this.queues.get(key);
      if (queue) {
        queue.push(waiting);
        return;
      }
      this.queues.set(key, [waiting]);
      void this.drain(key);
    });
  }

  // Runs batches for one key until its queue is empty; updates that arrive meanwhile join the next batch.
  private async drain(key: string): Promise<void> {
    const queue = this.queues.get(key);
    if (!queue) return;
    try {
      while (queue.length > 0) {
        const batch = queue.splice(0, MAX_BATCH);
        try {
          await this.runBatch(key, batch);
        } catch (err) {
          this.cache.delete(key);
          const e = asStoreError(err);
          for (const w of batch) w.reject(e);
        }
        await this.yieldIfContended(key);
      }
    } finally {
      this.queues.delete(key);
    }
  }

  private async runBatch(key: string, batch: Waiting[]): Promise<void> {
    const kv = await this.open();
    let base = this.cache.get(key);
    let fresh = false;
    // A new id is written blind (create-if-absent); if it exists after all, the write fails and we read.
    if (!base && batch.every((w) => w.expectNew)) base = { value: undefined, revision: 0 };
    if (!base) {
      base = await this.read(kv, key);
      fresh = this.leaderRead === undefined;
    }
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const applied = this.apply(base.value, batch);
      if (!applied.changed) {
        // Nothing to write: the answers (a refusal, say) must come from the latest value, not a cached
        // one or a lagging replica's, so they are confirmed by the leader.
        if (!fresh) {
          const latest = await this.readLatest(kv, key);
          fresh = true;
          if (latest.revision !== base.revision) {
            base = latest;
            continue;
          }
        }
        settle(batch, applied.outcomes);
        return;
      }
      const putAt = performance.now();
      try {
        const revision = await kv.put(key, applied.body, { previousSeq: base.revision });
        this.counters.writes++;
        this.remember(key, { value: applied.value, revision });
        settle(batch, applied.outcomes);
        const seen = this.contended.get(key);
        if (seen) seen.putMs = performance.now() - putAt;
        return;
      } catch (err) {
        if (!isRevisionConflict(err)) throw err;
        this.counters.conflicts++;
        this.contended.set(key, { until: Date.now() + CONTENDED_MS, putMs: performance.now() - putAt });
        this.cache.delete(key);
        base = await this.read(kv, key);
        fresh = this.leaderRead === undefined;
      }
    }
    throw new Error(`keyed record ${this.bucket}/${key}: gave up after ${MAX_ROUNDS} conflicting writes`);
  }

  // Another instance writes this key too: the one that just wrote holds the latest value and would
  // win every next race (it needs no read first) while the others starve. Pausing about one write's
  // time before its next batch lets a loser's read and write land; meanwhile its own batch grows.
  private async yieldIfContended(key: string): Promise<void> {
    const seen = this.contended.get(key);
    if (!seen) return;
    if (Date.now() > seen.until) {
      this.contended.delete(key);
      return;
    }
    const ms = Math.min(MAX_YIELD_MS, Math.max(0.5, seen.putMs * 1.5));
    await new Promise((resolve) => setTimeout(resolve, ms));
  }

  // Applies the batch in order; if the result is over the size limit, finds and refuses the updates that grew it.
  private apply(base: unknown, batch: Waiting[]): Applied {
    let value = base;
    let changed = false;
    const outcomes: Outcome[] = [];
    for (const w of batch) {
      try {
        const change = w.fn(value);
        if ("write" in change) {
          value = change.write;
          changed = true;
        }
        outcomes.push({ ok: true, result: change.result });
      } catch (error) {
        outcomes.push({ ok: false, error });
      }
    }
    if (!changed) return { changed, value, body: "", outcomes };
    const body = JSON.stringify(value);
    if (Buffer.byteLength(body) <= this.maxBytes) return { changed, value, body, outcomes };
    return this.applyWithinLimit(base, batch);
  }

  // The rare path: apply one by one, measuring after each write, and refuse each update that would
  // grow the record past the limit. One that does not grow it goes through, so a record already over
  // the limit (written under an older limit or shape) can still shrink back under it.
  private applyWithinLimit(base: unknown, batch: Waiting[]): Applied {
    let value = base;
    let body = "";
    let bytesNow = base === undefined ? 0 : Buffer.byteLength(JSON.stringify(base));
    let changed = false;
    const outcomes: Outcome[] = [];
    for (const w of batch) {
      try {
        const change = w.fn(value);
        if ("write" in change) {
          const next = JSON.stringify(change.write);
          const bytes = Buffer.byteLength(next);
          if (bytes > this.maxBytes && bytes > bytesNow) throw this.tooLarge(w.id, bytes);
          value = change.write;
          body = next;
          bytesNow = bytes;
          changed = true;
        }
        outcomes.push({ ok: true, result: change.result });
      } catch (error) {
        outcomes.push({ ok: false, error });
      }
    }
    return { changed, value, body, outcomes };
  }

  private tooLarge(id: string, bytes: number): FunctionError {
    const shown = id.length > 64 ? `${id.slice(0, 64)}…` : id;
    return new FunctionError(
      409,
      `record ${shown} in ${this.bucket} would grow to ${bytes} bytes, over its limit of ${this.maxBytes}; the change was not made`,
    );
  }

  private async readLatest(kv: KV, key: string): Promise<KeyedRecord<unknown>> {
    if (!this.leaderRead) return this.read(kv, key);
    this.counters.reads++;
    const rec = await this.leaderRead(key);
    this.remember(key, rec);
    return rec;
  }

  private async read(kv: KV, key: string): Promise<KeyedRecord<unknown>> {
    this.counters.reads++;
    const entry = await kv.get(key);
    let rec: KeyedRecord<unknown>;
    if (!entry) rec = { value: undefined, revision: 0 };
    else if (entry.operation !== "PUT" || entry.length === 0) rec = { value: undefined, revision: entry.revision };
    else rec = { value: JSON.parse(entry.string()) as unknown, revision: entry.revision };
    this.remember(key, rec);
    return rec;
  }

  private remember(key: string, rec: KeyedRecord<unknown>): void {
    this.cache.delete(key);
    this.cache.set(key, rec);
    if (this.cache.size > MAX_CACHED) {
      const oldest = this.cache.keys().next();
      if (!oldest.done) this.cache.delete(oldest.value);
    }
  }
}

function settle(batch: Waiting[], outcomes: Outcome[]): void {
  batch.forEach((w, i) => {
    const o = outcomes[i];
    if (!o) w.reject(new Error("keyed update lost its outcome"));
    else if (o.ok) w.resolve(o.result);
    else w.reject(o.error);
  });
}

/** A transient store failure as the contract's 503 (the caller retries); anything else unchanged. */
export function asStoreError(err: unknown): unknown {
  if (isFunctionError(err) || !isStoreUnavailable(err)) return err;
  return new FunctionError(503, "the state store is unavailable for the moment; retry shortly", undefined, { cause: err });
}

// Time kept back before a request's deadline to send the 503 of a store that did not answer.
const REPLY_MARGIN_MS = 200;

/**
 * `work`, or a 503 when the store has not answered shortly before `deadline` (epoch ms): a store
 * that hangs (a leader election, a lost node) is a retry for the caller, never its timeout. What the
 * store does later is safe to repeat: every keyed change is idempotent for the retry that follows.
 */
export function storeWithin<T>(work: Promise<T>, deadline: number | undefined): Promise<T> {
  if (deadline === undefined) return work;
  const ms = deadline - Date.now() - REPLY_MARGIN_MS;
  if (ms <= 0 || !Number.isFinite(ms)) return work;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new FunctionError(503, "the state store did not answer in time; retry shortly")), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/**
 * `keyed` used only once `gate` resolves: how a request's context makes keyed records pass the same
 * bucket checks as `ctx.kv`; with `deadline`, a store that does not answer in time is a 503.
 */
export function gatedKeyed<T>(keyed: Keyed<T>, gate: Promise<unknown>, deadline?: number): Keyed<T> {
  // A refused gate is reported by each use; nobody waiting on it is not an unhandled rejection.
  gate.catch(() => undefined);
  return {
    bucket: keyed.bucket,
    get: (id) =>
      storeWithin(
        gate.then(() => keyed.get(id)),
        deadline,
      ),
    update: (id, fn, options) =>
      storeWithin(
        gate.then(() => keyed.update(id, fn, options)),
        deadline,
      ),
  };
}
