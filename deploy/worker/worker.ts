/**
 * The worker: a long-running host that serves whatever the registry says should run. It watches
 * `nfn_releases`, checks each release's name and signature (NFN_TRUSTED_SIGNERS), fetches the bundle
 * from `nfn_bundles`, verifies its sha256, and hot-swaps: the new version is registered before the
 * old one drains, so an update under load fails no request.
 */
import { rm } from "node:fs/promises";
import { hostname } from "node:os";
import type { KvWatchEntry } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import { type RuntimeConfig, configFromEnv } from "../../runtime/config.ts";
import { clipInput } from "../../runtime/errors.ts";
import { type Host, startHost } from "../../runtime/host.ts";
import { type Logger, createLogger } from "../../runtime/logger.ts";
import { type Registry, openRegistry } from "../registry/registry.ts";
import { type Release, parseRelease } from "../registry/release.ts";
import { loadVerifiedBundle, prepareCacheDir } from "./bundle-loader.ts";
import { type FunctionSelection, selectionFilter } from "./filter.ts";
import { ReleaseRefusedError, checkRelease, trustedSigners } from "./release-check.ts";

// Refusals remembered (so a refused release is not fetched again every reconcile); older ones are forgotten first.
const MAX_REMEMBERED_REFUSALS = 1000;

/** Options of `startWorker`. */
export interface WorkerOptions {
  config?: RuntimeConfig;
  /** An open connection (tests); otherwise the worker connects from `config` and drains on stop. */
  nc?: NatsConnection;
  selection?: FunctionSelection;
  /** Where fetched bundles are written before import (made private, 0700). Default NFN_CACHE_DIR, else a new `mkdtemp` dir. */
  cacheDir?: string;
  /** Public nkeys (`U...`) whose signed releases this worker runs. Default NFN_TRUSTED_SIGNERS. */
  trustedSigners?: string[];
  /** Longest wait for an old version's in-flight requests after a swap. Default config.shutdownGraceMs. */
  graceMs?: number;
  /** Shown as service metadata `worker` in INFO and by nfn status. Default NFN_WORKER_NAME, else host:pid. */
  name?: string;
  /** How often to compare what runs with the registry and retry failed loads. Default 30 s. */
  reconcileMs?: number;
  log?: Logger;
  signal?: AbortSignal;
}

/** What one function runs as on this worker. */
export interface ServedRelease {
  version: string;
  sha256: string;
}

/** A running worker. */
export interface Worker {
  readonly host: Host;
  readonly registry: Registry;
  /** What this worker serves now, by function name. */
  serving(): ReadonlyMap<string, ServedRelease>;
  /** Releases this worker refused (`sha256@deployedAt` → reason); not retried until deployed again. */
  refused(): ReadonlyMap<string, string>;
  /** How many releases this worker refused since it started (also `nfn_worker_releases_refused_total`). */
  refusedCount(): number;
  /** The private directory bundles are written to. */
  readonly cacheDir: string;
  /** Stops watching, drains every function and, when it opened it, the connection. */
  stop(): Promise<void>;
}

/** Starts a worker and begins serving the desired releases. */
export async function startWorker(options: WorkerOptions = {}): Promise<Worker> {
  const config = options.config ?? configFromEnv();
  const log = (options.log ?? createLogger({}, config.logLevel)).child({ component: "worker" });
  // Checked before connecting: a bad key list or cache dir should stop the worker at once.
  const trusted = trustedSigners(options.trustedSigners);
  const cache = await prepareCacheDir(options.cacheDir ?? (process.env.NFN_CACHE_DIR || undefined));
  const cacheDir = cache.dir;
  if (trusted.size === 0) {
    log.warn(
      "NFN_TRUSTED_SIGNERS is not set: this worker refuses every release. Set it to the deployer's public nkey (U...; nfn auth init writes it into worker.env)",
    );
  }
  const host = await startHost([], { config, nc: options.nc, log, signal: options.signal });
  const registry = await openRegistry(host.nc, config.replicas);
  const wanted = selectionFilter(options.selection ?? {});
  const graceMs = options.graceMs ?? config.shutdownGraceMs;
  const workerName = options.name ?? process.env.NFN_WORKER_NAME ?? `${hostname()}:${process.pid}`;
  const serving = new Map<string, ServedRelease>();
  const refused = new Map<string, string>();
  let refusedTotal = 0;
  let stopped = false;
  // One change at a time: a swap must finish before the next decision about the same function.
  let queue: Promise<void> = Promise.resolve();
  const enqueue = (job: () => Promise<void>) => {
    queue = queue.then(job).catch((err: unknown) => log.error("worker step failed", { error: err }));
    return queue;
  };

  const apply = async (name: string, release: Release | undefined): Promise<void> => {
    if (stopped || !wanted(name)) return;
    if (!release) {
      if (await host.remove(name, graceMs)) log.info("undeployed: no longer serving", { fn: name });
      serving.delete(name);
      return;
    }
    const current = serving.get(name);
    const refusalKey = `${release.sha256}@${release.deployedAt}`;
    if (current?.sha256 === release.sha256 || refused.has(refusalKey)) return;
    const old = host.functions.get(name);
    try {
      // Name and signature before a byte is fetched; sha256 and size before a byte is written or imported.
      checkRelease(name, release, trusted);
      // The signed size bounds what is read: an object of any other size is not fetched at all.
      const stored = await registry.bundles.info(release.object);
      if (stored && !stored.deleted && stored.size !== release.sizeBytes) {
        throw new ReleaseRefusedError(
          "bytes_mismatch",
          `bundle ${release.object} is ${stored.size} bytes; the signed release says ${release.sizeBytes}`,
        );
      }
      const bytes = await registry.getBundle(release);
      if (!bytes) throw new Error(`bundle ${release.object} is missing from the object store; redeploy ${name}`);
      const def = await loadVerifiedBundle(bytes, release, cacheDir);
      await host.add(def, { bundleSha256: release.sha256, worker: workerName });
      serving.set(name, { version: release.version, sha256: release.sha256 });
      log.info(old ? "swapped to new release" : "serving release", {
        fn: name,
        version: release.version,
        sha256: release.sha256,
        from: current?.version,
      });
    } catch (err) {
      const refusedForGood = err instanceof ReleaseRefusedError || (err instanceof Error && /corrupt object/.test(err.message));
      if (refusedForGood) {
        if (refused.size >= MAX_REMEMBERED_REFUSALS) refused.delete(refused.keys().next().value ?? "");
        refused.set(refusalKey, err instanceof Error ? err.message : String(err));
        refusedTotal++;
        const reason = err instanceof ReleaseRefusedError ? err.reason : "bytes_mismatch";
        void import("./worker-metrics.ts").then(
          (m) => m.countRefusedRelease(name, reason),
          (e: unknown) => log.warn("could not count the refusal in metrics", { error: e }),
        );
      }
      log.error(refusedForGood ? "release refused; the running version keeps serving" : "could not load release; will retry", {
        fn: clipInput(name),
        version: clipInput(release.version),
        running: current?.version ?? null,
        error: err,
      });
      return;
    }
    // Only now that the new version takes requests does the old one stop taking them.
    if (old) await old.stop(graceMs);
  };

  const onEntry = (e: KvWatchEntry) => {
    const release = e.operation === "PUT" ? parseRelease(e.value) : undefined;
    if (e.operation === "PUT" && !release) {
      log.warn("ignoring a registry entry that is not a release", { key: e.key, revision: e.revision });
      return Promise.resolve();
    }
    return enqueue(() => apply(e.key, release));
  };

  const watcher = await registry.watch();
  const watching = (async () => {
    for await (const e of watcher) await onEntry(e);
  })().catch((err: unknown) => {
    if (!stopped) log.error("registry watch ended", { error: err });
  });

  // A safety net: a load that failed for a passing reason (object store leader election) is retried.
  const reconcile = setInterval(() => {
    void enqueue(async () => {
      const desired = await registry.all();
      for (const [name, release] of desired) await apply(name, release);
      for (const name of [...serving.keys()]) if (!desired.has(name)) await apply(name, undefined);
    });
  }, options.reconcileMs ?? 30_000);
  reconcile.unref();

  log.info("worker started", {
    worker: workerName,
    cacheDir,
    trustedSigners: trusted.size,
    only: options.selection?.only ?? null,
    except: options.selection?.except ?? null,
  });
  let stopping: Promise<void> | undefined;
  return {
    host,
    registry,
    serving: () => serving,
    refused: () => refused,
    refusedCount: () => refusedTotal,
    cacheDir,
    stop() {
      stopping ??= (async () => {
        stopped = true;
        clearInterval(reconcile);
        watcher.stop();
        await watching;
        await queue;
        // With NATS unreachable a drain never finishes; give up after the grace period plus a margin.
        let timer: NodeJS.Timeout | undefined;
        const giveUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs + 5000)));
        await Promise.race([host.stop(graceMs).catch((err: unknown) => log.warn("drain failed", { error: err })), giveUp]);
        clearTimeout(timer);
        if (options.nc === undefined && !host.nc.isClosed()) await host.nc.close();
        // A cache this worker made is its own; a given one is left for the operator.
        if (cache.made) await rm(cacheDir, { recursive: true, force: true }).catch(() => {});
      })();
      return stopping;
    },
  };
}
