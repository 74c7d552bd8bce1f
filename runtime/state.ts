/** JetStream access shared by all functions of one connection: KV buckets opened once. */
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import { Kvm, type KV, type KvOptions } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";

/** KV and JetStream for one connection. */
export interface StateAccess {
  readonly js: JetStreamClient;
  /** The bucket, created (with the configured replicas) on first use. */
  kv(bucket: string, options?: Partial<KvOptions>): Promise<KV>;
}

/** Creates the state access for `nc`; buckets are cached per name. */
export function createStateAccess(nc: NatsConnection, replicas: number): StateAccess {
  const js = jetstream(nc);
  const kvm = new Kvm(js);
  const buckets = new Map<string, Promise<KV>>();
  return {
    js,
    kv(bucket, options) {
      let kv = buckets.get(bucket);
      if (!kv) {
        kv = kvm.create(bucket, { replicas, ...options });
        // A failed open (JetStream down) is retried on the next use instead of cached.
        kv.catch(() => buckets.delete(bucket));
        buckets.set(bucket, kv);
      }
      return kv;
    },
  };
}
