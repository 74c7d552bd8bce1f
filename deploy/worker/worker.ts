/**
 * The worker: a long-running host that serves whatever the registry says should run. It watches
 * `nfn_releases`, fetches bundles from `nfn_bundles`, verifies their sha256, and hot-swaps: the new
 * version is registered before the old one drains, so an update under load fails no request.
 */
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import type { KvWatchEntry } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import { type RuntimeConfig, configFromEnv } from "../../runtime/config.ts";
import { type Host, startHost } from "../../runtime/host.ts";
import { type Logger, createLogger } from "../../runtime/logger.ts";
import { type Registry, openRegistry } from "../registry/registry.ts";
import { type Release, parseRelease } from "../registry/release.ts";
import { BundleRefusedError, loadVerifiedBundle } from "./bundle-loader.ts";
import { type FunctionSelection, selectionFilter } from "./filter.ts";

/** Options of `startWorker`. */
export interface WorkerOptions {
  config?: RuntimeConfig;
  /** An open connection (tests); otherwise the worker connects from `config` and drains on stop. */
  nc?: NatsConnection;
  selection?: FunctionSelection;
  /** Where fetched bundles are written before import. Default NFN_CACHE_DIR or a temp dir. */
  cacheDir?: string;
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
  /** Stops watching, drains every function and, when it opened it, the connection. */
  stop(): Promise<void>;
}

/** Starts a worker and begins serving the desired releases. */
export async function startWorker(options: WorkerOptions = {}): Promise<Worker> {
  const config = options.config ?? configFromEnv();
  const log = (options.log ?? createLogger({}, config.logLevel)).child({ component: "worker" });
  const host = await startHost([], { config, nc: options.nc, log, signal: options.signal });
  const registry = await openRegistry(host.nc, config.replicas);
  const cacheDir = options.cacheDir ?? process.env.NFN_CACHE_DIR ?? join(tmpdir(), `nfn-worker-${process.pid}`);
  const wanted = selectionFilter(options.selection ?? {});
  const graceMs = options.graceMs ?? config.shutdownGraceMs;
  const workerName = options.name ?? process.env.NFN_WORKER_NAME ?? `${hostname()}:${process.pid}`;
  const serving = new Map<string, ServedRelease>();
  const refused = new Map<string, string>();
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
      const refusedForGood = err instanceof BundleRefusedError || (err instanceof Error && /corrupt object/.test(err.message));
      if (refusedForGood) refused.set(refusalKey, err instanceof Error ? err.message : String(err));
      log.error(refusedForGood ? "bundle refused; the running version keeps serving" : "could not load release; will retry", {
        fn: name,
        version: release.version,
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
    only: options.selection?.only ?? null,
    except: options.selection?.except ?? null,
  });
  let stopping: Promise<void> | undefined;
  return {
    host,
    registry,
    serving: () => serving,
    refused: () => refused,
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
      })();
      return stopping;
    },
  };
}
