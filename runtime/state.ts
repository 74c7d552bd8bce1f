/** JetStream access shared by all functions of one connection: KV buckets and keyed records opened once. */
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import { Kvm, type KV, type KvOptions } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import { type Keyed, KeyedBucket, type KeyedOptions, type KeyedRecord } from "./keyed.ts";
import { KvView, type View } from "./view.ts";

/** KV and JetStream for one connection. */
export interface StateAccess {
  readonly js: JetStreamClient;
  /** The bucket, created (with the configured replicas) on first use. */
  kv(bucket: string, options?: Partial<KvOptions>): Promise<KV>;
  /** The keyed records of `bucket`: one queue per key for the whole connection, so concurrent updates coalesce. */
  keyed<T>(bucket: string, options?: KeyedOptions): Keyed<T>;
  /** `bucket` held in memory and kept current by a watch (one per connection), for reads that may be slightly stale. */
  view<T>(bucket: string, options?: KeyedOptions): View<T>;
}

/** Creates the state access for `nc`; buckets are cached per name. */
export function createStateAccess(nc: NatsConnection, replicas: number): StateAccess {
  const js = jetstream(nc);
  const kvm = new Kvm(js);
  const buckets = new Map<string, Promise<KV>>();
  const keyedBuckets = new Map<string, KeyedBucket<unknown>>();
  const views = new Map<string, KvView<unknown>>();
  const kv = (bucket: string, options?: Partial<KvOptions>): Promise<KV> => {
    let opened = buckets.get(bucket);
    if (!opened) {
      opened = kvm.create(bucket, { replicas, ...options });
      // A failed open (JetStream down) is retried on the next use instead of cached.
      opened.catch(() => buckets.delete(bucket));
      buckets.set(bucket, opened);
    }
    return opened;
  };
  // STREAM.MSG.GET is answered by the stream's leader, unlike a direct get that any replica may answer.
  const leaderRead = async (bucket: string, key: string): Promise<KeyedRecord<unknown>> => {
    await kv(bucket);
    const jsm = await js.jetstreamManager(false);
    const msg = await jsm.streams.getMessage(`KV_${bucket}`, { last_by_subj: `$KV.${bucket}.${key}` });
    if (!msg) return { value: undefined, revision: 0 };
    const op = msg.header?.get("KV-Operation");
    if (op === "DEL" || op === "PURGE" || msg.data.length === 0) return { value: undefined, revision: msg.seq };
    return { value: JSON.parse(new TextDecoder().decode(msg.data)) as unknown, revision: msg.seq };
  };
  return {
    js,
    kv,
    keyed<T>(bucket: string, options?: KeyedOptions): Keyed<T> {
      let keyed = keyedBuckets.get(bucket);
      if (!keyed) {
        keyed = new KeyedBucket<unknown>(
          bucket,
          () => kv(bucket, options?.bucket),
          options,
          (key) => leaderRead(bucket, key),
        );
        keyedBuckets.set(bucket, keyed);
      }
      // One store per bucket holds records of one shape: the caller names it.
      return keyed as Keyed<T>;
    },
    view<T>(bucket: string, options?: KeyedOptions): View<T> {
      let view = views.get(bucket);
      if (!view) {
        view = new KvView<unknown>(
          bucket,
          () => kv(bucket, options?.bucket),
          (key) => keyedBuckets.get(bucket)?.peek(key),
        );
        views.set(bucket, view);
      }
      return view as View<T>;
    },
  };
}
