/** The deploy registry: bundles in the JetStream object store `nfn_bundles`, releases in the KV bucket `nfn_releases`. */
import { Kvm, type KV, type KvWatchEntry } from "@nats-io/kv";
import type { NatsConnection, QueuedIterator } from "@nats-io/nats-core";
import { Objm, type ObjectStore } from "@nats-io/obj";
import { sha256Hex } from "../../runtime/hash.ts";
import { type Release, parseRelease } from "./release.ts";

/** KV bucket of releases: key = function name, value = the desired release, history = past releases. */
export const RELEASES_BUCKET = "nfn_releases";
/** Object store of bundles, named `<fn>/<sha256>`. */
export const BUNDLES_BUCKET = "nfn_bundles";
/** Releases kept per function (the most JetStream KV allows). */
export const RELEASE_HISTORY = 64;

/** One entry of a function's release history. */
export interface HistoryEntry {
  revision: number;
  /** "PUT" for a release, "DEL"/"PURGE" for an undeploy. */
  operation: "PUT" | "DEL" | "PURGE";
  at: Date;
  release: Release | undefined;
}

/** Access to releases and bundles on one connection. */
export interface Registry {
  readonly releases: KV;
  readonly bundles: ObjectStore;
  /** The desired release of `name`, or undefined when it is not deployed. */
  current(name: string): Promise<Release | undefined>;
  /** Every desired release, by function name. */
  all(): Promise<Map<string, Release>>;
  /** Releases and undeploys of `name`, oldest first. */
  history(name: string): Promise<HistoryEntry[]>;
  /** Makes `release` the desired one; returns the KV revision. */
  record(release: Release): Promise<number>;
  /** Removes the desired release of `name`, so workers stop serving it. False when it was not deployed. */
  remove(name: string): Promise<boolean>;
  /** Stores `bytes` as `object` unless an object with that name and the same hash is there; true when uploaded. */
  putBundle(object: string, bytes: Uint8Array, onProgress?: (sent: number, total: number) => void): Promise<boolean>;
  /** The bytes of `release`'s bundle, or undefined when the object is missing. */
  getBundle(release: Release): Promise<Uint8Array | undefined>;
  /** Desired releases as they are now, then every change. */
  watch(): Promise<QueuedIterator<KvWatchEntry>>;
}

/** Opens (creating on first use) the registry bucket and object store with `replicas`. */
export async function openRegistry(nc: NatsConnection, replicas = 1): Promise<Registry> {
  const releases = await new Kvm(nc).create(RELEASES_BUCKET, { history: RELEASE_HISTORY, replicas });
  const bundles = await new Objm(nc).create(BUNDLES_BUCKET, { replicas, description: "nats-functions bundles, <fn>/<sha256>" });
  const current = async (name: string): Promise<Release | undefined> => {
    const entry = await releases.get(name);
    return entry && entry.operation === "PUT" ? parseRelease(entry.value) : undefined;
  };
  return {
    releases,
    bundles,
    current,
    async all() {
      const out = new Map<string, Release>();
      for await (const key of await releases.keys()) {
        const release = await current(key);
        if (release) out.set(key, release);
      }
      return new Map([...out].sort(([a], [b]) => a.localeCompare(b)));
    },
    async history(name) {
      const out: HistoryEntry[] = [];
      const iter = await releases.history({ key: name });
      for await (const e of iter) {
        out.push({
          revision: e.revision,
          operation: e.operation,
          at: e.created,
          release: e.operation === "PUT" ? parseRelease(e.value) : undefined,
        });
      }
      return out.sort((a, b) => a.revision - b.revision);
    },
    record(release) {
      return releases.put(release.name, JSON.stringify(release));
    },
    async remove(name) {
      if (!(await current(name))) return false;
      await releases.delete(name);
      return true;
    },
    async putBundle(object, bytes, onProgress) {
      const existing = await bundles.info(object);
      if (existing && !existing.deleted && existing.digest === objectDigest(sha256Hex(bytes))) {
        onProgress?.(bytes.length, bytes.length);
        return false;
      }
      await bundles.put({ name: object }, chunked(bytes, 32 * 1024, onProgress));
      return true;
    },
    async getBundle(release) {
      return (await bundles.getBlob(release.object)) ?? undefined;
    },
    watch() {
      return releases.watch();
    },
  };
}

// The object store's own digest form: "SHA-256=" + padded base64url of the hash.
function objectDigest(sha256: string): string {
  return `SHA-256=${Buffer.from(sha256, "hex").toString("base64").replace(/\+/g, "-").replace(/\//g, "_")}`;
}

// A stream of `bytes` in chunks, reporting each chunk as the object store reads it.
function chunked(bytes: Uint8Array, size: number, onProgress?: (sent: number, total: number) => void): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (offset >= bytes.length) {
        controller.close();
        return;
      }
      const end = Math.min(bytes.length, offset + size);
      controller.enqueue(bytes.subarray(offset, end));
      offset = end;
      onProgress?.(offset, bytes.length);
    },
  });
}
