/**
 * Local views: a bucket held in memory and kept current by a KV watch, for reads that may be a
 * little stale (a catalog, what is available to show). How far behind a view is shows in STATS
 * (`data.views`) and `/metrics`; a read that must be current asks the server (`fresh`). Invariants
 * are never decided from a view: they live on the write path (keyed updates).
 */
import type { KV } from "@nats-io/kv";
import { kvKey } from "./kv-key.ts";
import { type KeyedRecord, storeWithin } from "./keyed.ts";

/** Options of one read. */
export interface ViewReadOptions {
  /** Read from the server (and update the view) instead of from memory. */
  fresh?: boolean;
}

/** A bucket held in memory. */
export interface View<T> {
  /** The bucket's name. */
  readonly bucket: string;
  /** The value of `id` in the view (from the server until the first load is done), or from the server with `fresh`. */
  get(id: string, options?: ViewReadOptions): Promise<T | undefined>;
  /** How far behind the view is now. */
  lag(): ViewLag;
  /** Functions that read it (their STATS show its lag). */
  readonly readers: Set<string>;
}

/** How far behind a view is. */
export interface ViewLag {
  bucket: string;
  /** Keys held. */
  keys: number;
  /** Updates the server had not yet delivered when the last one arrived. */
  pending: number;
  /** Time from the last update's write on the server to its arrival in the view, ms. */
  lag_ms: number;
  /** Time since the last update arrived, ms (a quiet bucket is not a lagging one). */
  idle_ms: number;
  /** The initial load is done. */
  ready: boolean;
}

/** Every view of this process, for STATS and /metrics. */
const liveViews = new Set<KvView<unknown>>();

/** The lag of every view of this process (only those `reader` reads, when given), by bucket: the worst when a bucket has several. */
export function viewLags(reader?: string): Record<string, ViewLag> {
  const out: Record<string, ViewLag> = Object.create(null) as Record<string, ViewLag>;
  for (const v of liveViews) {
    if (reader !== undefined && !v.readers.has(reader)) continue;
    const lag = v.lag();
    const seen = out[lag.bucket];
    if (!seen || lag.lag_ms + lag.pending > seen.lag_ms + seen.pending) out[lag.bucket] = lag;
  }
  return out;
}

/** A view of one bucket over the KV `open()` yields; `peek` offers values this instance wrote itself (read-your-writes). */
export class KvView<T> implements View<T> {
  /** Functions that read this view (their STATS show its lag). */
  readonly readers = new Set<string>();
  private readonly values = new Map<string, KeyedRecord<T>>();
  private ready: Promise<void> | undefined;
  private loaded = false;
  private pending = 0;
  private lagMs = 0;
  private lastAt = 0;
  private revision = 0;
  private stopped = false;
  private stopWatch: (() => void) | undefined;

  constructor(
    readonly bucket: string,
    private readonly open: () => Promise<KV>,
    private readonly peek: (key: string) => KeyedRecord<unknown> | undefined = () => undefined,
  ) {}

  async get(id: string, options: ViewReadOptions = {}): Promise<T | undefined> {
    const key = kvKey(id);
    // Until the first load is done (or while the watch is being restarted) reads go to the server.
    this.start().catch(() => undefined);
    if (options.fresh || !this.loaded) return this.readThrough(key);
    const held = this.values.get(key);
    const own = this.peek(key);
    // A value this instance wrote after the view last heard of the key is newer: use it.
    if (own && own.revision > (held?.revision ?? 0)) return own.value as T | undefined;
    return held?.value;
  }

  lag(): ViewLag {
    return {
      bucket: this.bucket,
      keys: this.values.size,
      pending: this.pending,
      lag_ms: Math.round(this.lagMs),
      idle_ms: this.lastAt === 0 ? 0 : Date.now() - this.lastAt,
      ready: this.loaded,
    };
  }

  /** Stops the watch. */
  stop(): void {
    this.stopped = true;
    this.stopWatch?.();
    liveViews.delete(this as KvView<unknown>);
  }

  private async readThrough(key: string): Promise<T | undefined> {
    const entry = await (await this.open()).get(key);
    if (!entry) return undefined;
    this.apply(key, entry.revision, entry.operation === "PUT" && entry.length > 0 ? entry.json<T>() : undefined);
    return this.values.get(key)?.value;
  }

  private start(): Promise<void> {
    this.ready ??= this.watch().catch((err: unknown) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  // Loads every key, then follows updates; resumes after the last revision seen if the watch ends.
  private async watch(): Promise<void> {
    liveViews.add(this as KvView<unknown>);
    const kv = await this.open();
    const iter = await kv.watch(this.revision > 0 ? { resumeFromRevision: this.revision + 1 } : {});
    this.stopWatch = () => iter.stop();
    let markReady: () => void = () => undefined;
    const loaded = new Promise<void>((resolve) => (markReady = resolve));
    // An empty bucket sends nothing: it is loaded at once. Otherwise it is loaded once the watch has
    // delivered what the stream held when it started (or reports nothing pending).
    const status = await kv.status();
    const lastAtStart = status.streamInfo.state.last_seq;
    if (status.values === 0) {
      this.loaded = true;
      markReady();
    }
    void (async () => {
      for await (const e of iter) {
        this.apply(e.key, e.revision, e.operation === "PUT" && e.length > 0 ? e.json<T>() : undefined);
        this.pending = e.delta ?? 0;
        this.lastAt = Date.now();
        this.lagMs = Math.max(0, this.lastAt - e.created.getTime());
        if ((this.pending === 0 || e.revision >= lastAtStart) && !this.loaded) {
          this.loaded = true;
          markReady();
        }
      }
      // The watch ended (connection closed or the iterator stopped): the next read starts a new one.
      this.loaded = false;
      if (!this.stopped) this.ready = undefined;
    })().catch(() => {
      this.loaded = false;
      this.ready = undefined;
    });
    await loaded;
  }

  private apply(key: string, revision: number, value: T | undefined): void {
    const held = this.values.get(key);
    if (held && held.revision >= revision) return;
    if (value === undefined) this.values.delete(key);
    else this.values.set(key, { value, revision });
    this.revision = Math.max(this.revision, revision);
  }
}

/** `view` used only once `gate` resolves (the bucket checks of `ctx.kv`, applied to a request's reads), bounded by `deadline`. */
export function gatedView<T>(view: View<T>, gate: Promise<unknown>, deadline?: number): View<T> {
  gate.catch(() => undefined);
  return {
    bucket: view.bucket,
    readers: view.readers,
    // A read that must go to the server is bounded like a keyed one: a store that hangs is a 503.
    get: (id, options) =>
      storeWithin(
        gate.then(() => view.get(id, options)),
        deadline,
      ),
    lag: () => view.lag(),
  };
}
