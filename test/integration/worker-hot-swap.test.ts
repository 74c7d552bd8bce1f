/** Deploy → worker → hot swap under load → rollback → tampered bundle → undeploy, on a real nats-server. */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { NatsConnection } from "@nats-io/nats-core";
import { configFromEnv } from "../../runtime/config.ts";
import type { LocalNatsServer } from "../../runtime/nats-server.ts";
import { type Registry, openRegistry } from "../../deploy/registry/registry.ts";
import { deployBundle, rollbackRelease } from "../../deploy/registry/operations.ts";
import type { BundleManifest } from "../../deploy/bundle/manifest.ts";
import { type Worker, startWorker } from "../../deploy/worker/worker.ts";
import { Cleanup, eventually, natsClient, natsServer } from "../helpers/nats.ts";
import { TEST_SIGNER, testSigningKey } from "../helpers/signing.ts";
import { buildEchoVersions, tempDir } from "../fixtures/deploy-build.ts";
import { instancesOf, requestsPerInstance, steadyLoad } from "../fixtures/deploy-services.ts";

// Cleanups run after the whole suite: node:test's after() called inside before() runs too early.
const hooks = new Cleanup();

describe("worker serving deployed bundles", () => {
  let server: LocalNatsServer;
  let nc: NatsConnection;
  let registry: Registry;
  let dirs: { v1: string; v2: string; m1: BundleManifest; m2: BundleManifest };
  let cache: string;
  const workers: Worker[] = [];

  const newWorker = async () => {
    const config = { ...configFromEnv({ NATS_URL: server.url, LOG_LEVEL: "silent" }), shutdownGraceMs: 3000 };
    const w = await startWorker({ trustedSigners: [TEST_SIGNER.publicKey], config, cacheDir: cache, reconcileMs: 60_000 });
    workers.push(w);
    return w;
  };
  const call = async (text: string) =>
    (await nc.request("fn.deploy_echo", JSON.stringify({ text }), { timeout: 3000 })).json<{ version: string }>();
  const everyInstanceRuns = (m: BundleManifest, count: number) => async () => {
    const all = await instancesOf(nc, "deploy_echo", 300);
    return all.length === count && all.every((i) => i.version === m.version && i.sha256 === m.sha256) ? all : undefined;
  };

  before(async () => {
    server = await natsServer(hooks);
    nc = await natsClient(hooks, server);
    registry = await openRegistry(nc);
    const dir = tempDir(hooks, "nfn-worker-test-");
    cache = join(dir, "cache");
    dirs = await buildEchoVersions(dir);
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await hooks.run();
  });

  it("serves a deployed bundle and advertises its sha256 in INFO", async () => {
    await newWorker();
    const { release, uploaded } = await deployBundle(registry, dirs.v1, { deployedBy: "test", signingKey: testSigningKey() });
    assert.equal(uploaded, true);
    assert.equal(release.sha256, dirs.m1.sha256);
    await eventually(everyInstanceRuns(dirs.m1, 1), 15_000, "v1 on the worker");
    assert.deepEqual(await call("hello"), { text: "hello", version: "1.0.0" });
  });

  it("shares the load between two workers in the queue group", async () => {
    await newWorker();
    await eventually(everyInstanceRuns(dirs.m1, 2), 15_000, "v1 on both workers");
    await Promise.all(Array.from({ length: 200 }, (_, i) => call(`share-${i}`)));
    const perInstance = await requestsPerInstance(nc, "deploy_echo");
    assert.equal(perInstance.size, 2);
    for (const [id, n] of perInstance) assert.ok(n > 0, `instance ${id} served no request`);
  });

  it("swaps to v2 under 250 req/s with no failed request and v2 on every instance within 2 s", async (t) => {
    const load = steadyLoad(nc, "fn.deploy_echo");
    await eventually(async () => (await requestsPerInstance(nc, "deploy_echo")).size === 2, 5000, "load flowing");
    await new Promise((r) => setTimeout(r, 500)); // let the load run on v1 before the deploy
    const deployedAt = Date.now();
    await deployBundle(registry, dirs.v2, { deployedBy: "test", signingKey: testSigningKey() });
    await eventually(everyInstanceRuns(dirs.m2, 2), 2000, "v2 on every instance within 2 s");
    t.diagnostic(`v2 on every instance ${Date.now() - deployedAt} ms after the deploy was recorded`);
    await eventually(async () => (await call("after")).version === "2.0.0", 5000, "v2 replying");
    await new Promise((r) => setTimeout(r, 500)); // keep the load on v2 for a moment
    const result = await load.stop();
    t.diagnostic(`load: ${result.sent} requests in ${result.elapsedMs} ms, versions ${JSON.stringify([...result.versions])}`);
    assert.equal(result.failed, 0, `failed requests: ${result.errors.join("; ")}`);
    assert.ok(result.sent >= (200 * result.elapsedMs) / 1000 - 5, `offered ${result.sent} requests in ${result.elapsedMs} ms`);
    assert.ok((result.versions.get("1.0.0") ?? 0) > 0 && (result.versions.get("2.0.0") ?? 0) > 0, "load ran across the swap");
  });

  it("rolls back to the previous release", async () => {
    const release = await rollbackRelease(registry, "deploy_echo", undefined, "test");
    assert.equal(release.version, "1.0.0");
    assert.equal(release.rollbackFrom, "2.0.0");
    await eventually(everyInstanceRuns(dirs.m1, 2), 15_000, "v1 again on every instance");
    assert.equal((await call("back")).version, "1.0.0");
  });

  it("refuses a tampered or truncated bundle and keeps serving the running version", async () => {
    const good = await readFile(join(dirs.v2, "index.mjs"));
    const tampered = Buffer.concat([good, Buffer.from("\nglobalThis.pwned = true;\n")]);
    const current = await registry.current("deploy_echo");
    assert.ok(current);
    const v2 = { ...current, version: "2.0.0", sha256: dirs.m2.sha256, object: `deploy_echo/${dirs.m2.sha256}`, sizeBytes: good.length };
    await registry.putBundle(v2.object, tampered);
    await registry.record({ ...v2, deployedAt: new Date().toISOString() });
    await eventually(() => workers.every((w) => w.refused().size === 1), 15_000, "both workers refusing the tampered bundle");
    await registry.putBundle(v2.object, good.subarray(0, good.length >> 1));
    await registry.record({ ...v2, deployedAt: new Date(Date.now() + 1).toISOString() });
    await eventually(() => workers.every((w) => w.refused().size === 2), 15_000, "both workers refusing the truncated bundle");
    assert.deepEqual(
      (await instancesOf(nc, "deploy_echo")).map((i) => i.version),
      ["1.0.0", "1.0.0"],
    );
    assert.equal((await call("still")).version, "1.0.0");
    assert.equal((globalThis as { pwned?: boolean }).pwned, undefined);
  });

  it("stops serving an undeployed function: callers get no responders", async () => {
    assert.equal(await registry.remove("deploy_echo"), true);
    await eventually(async () => (await instancesOf(nc, "deploy_echo", 300)).length === 0, 15_000, "no instances left");
    await assert.rejects(nc.request("fn.deploy_echo", JSON.stringify({ text: "gone" }), { timeout: 2000 }), /no responders/i);
  });
});
