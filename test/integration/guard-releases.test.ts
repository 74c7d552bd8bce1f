/**
 * Signed releases against an attacker who can write nfn_releases and nfn_bundles: unsigned, wrongly
 * signed, untrusted, tampered and renamed releases are never written outside the cache nor imported
 * (the canary bundle's top-level code never runs), the running version serves on with 0 failed
 * requests, and an honest signed deploy still hot-swaps.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, rmSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { after, before, describe, it } from "node:test";
import type { NatsConnection } from "@nats-io/nats-core";
import { createUser } from "@nats-io/nkeys";
import { configFromEnv } from "../../runtime/config.ts";
import { createLogger } from "../../runtime/logger.ts";
import { metricsText } from "../../runtime/ops/metrics.ts";
import type { BundleManifest } from "../../deploy/bundle/manifest.ts";
import { deployBundle } from "../../deploy/registry/operations.ts";
import { type Registry, openRegistry } from "../../deploy/registry/registry.ts";
import { type Release, bundleObjectName } from "../../deploy/registry/release.ts";
import { signRelease } from "../../deploy/registry/signing.ts";
import { type Worker, startWorker } from "../../deploy/worker/worker.ts";
import { Cleanup, eventually, natsClient, natsServer } from "../helpers/nats.ts";
import { TEST_SIGNER, testSigningKey } from "../helpers/signing.ts";
import { ROOT, buildEchoVersions, runBuild, tempDir } from "../fixtures/deploy-build.ts";
import { instancesOf, steadyLoad } from "../fixtures/deploy-services.ts";

const hooks = new Cleanup();

describe("signed releases", () => {
  let nc: NatsConnection;
  let registry: Registry;
  let worker: Worker;
  let dirs: Awaited<ReturnType<typeof buildEchoVersions>>;
  let evil: { bytes: Uint8Array; manifest: BundleManifest };
  let canary: string;
  let url: string;
  const warnings: string[] = [];

  const record = async (key: string, release: Release) => {
    await registry.releases.put(key, JSON.stringify(release));
  };
  const evilRelease = (overrides: Partial<Release> = {}): Release => ({
    name: "deploy_echo",
    version: "6.6.6",
    sha256: evil.manifest.sha256,
    sizeBytes: evil.bytes.length,
    object: bundleObjectName("deploy_echo", evil.manifest.sha256),
    deployedAt: new Date().toISOString(),
    deployedBy: "mallory",
    builtAt: evil.manifest.builtAt,
    gitRevision: "evil",
    ...overrides,
  });

  before(async () => {
    const server = await natsServer(hooks);
    url = server.url;
    nc = await natsClient(hooks, server);
    registry = await openRegistry(nc);
    const dir = tempDir(hooks, "nfn-guard-releases-");
    canary = join(dir, "canary");
    process.env.NFN_TEST_CANARY = canary;
    hooks.after(() => delete process.env.NFN_TEST_CANARY);
    dirs = await buildEchoVersions(dir);
    await runBuild(["--entry", `deploy_echo=${join(ROOT, "test/fixtures/deploy-echo-canary.ts")}`, "--out", join(dir, "evil")]);
    // The build imports the bundle to read its definition (in its own process, without the variable): not the attack.
    rmSync(canary, { force: true });
    const evilDir = join(dir, "evil", "deploy_echo");
    evil = {
      bytes: await readFile(join(evilDir, "index.mjs")),
      manifest: JSON.parse(await readFile(join(evilDir, "manifest.json"), "utf8")) as BundleManifest,
    };
    const log = createLogger({}, "warn", (line) => void warnings.push(line));
    worker = await startWorker({
      config: { ...configFromEnv({ NATS_URL: url }), shutdownGraceMs: 2000 },
      trustedSigners: [TEST_SIGNER.publicKey],
      reconcileMs: 60_000,
      log,
    });
    hooks.after(() => worker.stop());
    await deployBundle(registry, dirs.v1, { deployedBy: "test", signingKey: testSigningKey() });
    await eventually(async () => (await instancesOf(nc, "deploy_echo", 300))[0]?.version === "1.0.0", 15_000, "v1 serving");
  });
  after(() => hooks.run());

  it("makes its own cache with mkdtemp, private to this user (0700)", () => {
    assert.equal(statSync(worker.cacheDir).mode & 0o777, 0o700);
    assert.match(worker.cacheDir, /nfn-worker-/);
  });

  it("refuses unsigned, wrongly signed, untrusted, tampered and renamed releases; v1 serves on with 0 failures", async () => {
    const load = steadyLoad(nc, "fn.deploy_echo", { ratePerSec: 100 });
    const trusted = testSigningKey();
    const mallory = createUser();
    await registry.putBundle(bundleObjectName("deploy_echo", evil.manifest.sha256), evil.bytes);
    const attacks: Array<[string, string, Release]> = [];
    const base = evilRelease();
    attacks.push(["unsigned", "deploy_echo", base]);
    // A real signature of the trusted key, but over the honest v1 fields: it does not cover these.
    const v1 = await registry.current("deploy_echo");
    assert.ok(v1?.signature);
    attacks.push(["wrongly signed", "deploy_echo", evilRelease({ signature: v1.signature, signer: v1.signer, deployedAt: "t2" })]);
    attacks.push(["garbage signature", "deploy_echo", evilRelease({ signature: "AAAA", signer: TEST_SIGNER.publicKey, deployedAt: "t3" })]);
    attacks.push(["untrusted signer", "deploy_echo", evilRelease({ ...signRelease(base, mallory), deployedAt: "t4" })]);
    // Tampered: the honest, trusted signature of v2, with the attacker's bytes under v2's object name.
    const v2bytes = await readFile(join(dirs.v2, "index.mjs"));
    const v2identity = {
      name: "deploy_echo",
      version: "2.0.0",
      sha256: dirs.m2.sha256,
      sizeBytes: v2bytes.length,
      object: bundleObjectName("deploy_echo", dirs.m2.sha256),
    };
    await registry.putBundle(v2identity.object, evil.bytes);
    attacks.push([
      "tampered bytes",
      "deploy_echo",
      { ...evilRelease(), ...v2identity, ...signRelease(v2identity, trusted), deployedAt: "t5" },
    ]);
    // Tampered in place: the same size as the signed bundle, one byte changed.
    const flipped = Buffer.from(v2bytes);
    flipped[flipped.length - 1] = flipped[flipped.length - 1] === 0x20 ? 0x0a : 0x20;
    const sameSize = { ...v2identity, object: "deploy_echo/tampered-in-place" };
    await registry.putBundle(sameSize.object, flipped);
    attacks.push([
      "tampered, same size",
      "deploy_echo",
      { ...evilRelease(), ...sameSize, ...signRelease(sameSize, trusted), deployedAt: "t5b" },
    ]);
    // Renamed: even validly signed by the trusted key, a name that is not its key or not a function name is refused.
    const dotted = { ...base, name: "../x", object: "../x/evil" };
    await registry.putBundle("../x/evil", evil.bytes).catch(() => undefined);
    // (A KV key cannot be "../x" itself: the client and the server refuse such keys.)
    attacks.push(["renamed ../x under key x", "x", { ...evilRelease(dotted), ...signRelease(dotted, trusted), deployedAt: "t6" }]);
    attacks.push([
      "renamed ../x under deploy_echo",
      "deploy_echo",
      { ...evilRelease(dotted), ...signRelease(dotted, trusted), deployedAt: "t7" },
    ]);
    const other = { ...base, name: "other_fn" };
    attacks.push([
      "honest release under another key",
      "other_fn",
      { ...evilRelease(), ...signRelease(v2identity, trusted), deployedAt: "t8" },
    ]);
    attacks.push([
      "another function's signed release under deploy_echo",
      "deploy_echo",
      { ...evilRelease(other), ...signRelease(other, trusted), deployedAt: "t9" },
    ]);

    for (const [, key, release] of attacks) await record(key, release);
    await eventually(() => worker.refusedCount() >= attacks.length, 15_000, `${attacks.length} refusals (got ${worker.refusedCount()})`);
    const reasons = [...worker.refused().values()].join("\n");
    for (const pattern of [
      /not signed/,
      /does not verify/,
      /malformed/,
      /not in NFN_TRUSTED_SIGNERS/,
      /the signed release says/,
      /sha256 [0-9a-f]{12}, release says/,
      /named \.\.\/x/,
    ]) {
      assert.match(reasons, pattern);
    }
    // Stay on v1 a moment longer under load, then stop the load.
    assert.equal(
      (await nc.request("fn.deploy_echo", JSON.stringify({ text: "still" }), { timeout: 3000 })).json<{ version: string }>().version,
      "1.0.0",
    );
    const result = await load.stop();
    assert.equal(result.failed, 0, result.errors.join("; "));
    assert.ok(result.ok > 0);
    assert.deepEqual([...result.versions.keys()], ["1.0.0"]);

    assert.equal(existsSync(canary), false, "the attacker's bundle was imported");
    assert.equal(existsSync(join(dirname(worker.cacheDir), "x")), false, "a file was written outside the cache");
    const files = listFiles(worker.cacheDir).map((f) => relative(worker.cacheDir, f));
    assert.deepEqual(files, [`deploy_echo/${dirs.m1.sha256}.mjs`], "only the honest bundle is in the cache");
    assert.equal(statSync(join(worker.cacheDir, "deploy_echo")).mode & 0o777, 0o700);
    assert.equal(statSync(join(worker.cacheDir, files[0] ?? "")).mode & 0o777, 0o600);
    assert.deepEqual(
      (await instancesOf(nc, "deploy_echo")).map((i) => i.version),
      ["1.0.0"],
    );
    const metrics = await metricsText();
    for (const reason of ["unsigned", "bad_signature", "untrusted_signer", "bytes_mismatch", "bad_name"]) {
      assert.match(metrics, new RegExp(`nfn_worker_releases_refused_total\\{function="[^"]+",reason="${reason}"\\} [1-9]`), reason);
    }
  });

  it("hot-swaps to an honest signed release", async () => {
    await registry.putBundle(bundleObjectName("deploy_echo", dirs.m2.sha256), await readFile(join(dirs.v2, "index.mjs")));
    await deployBundle(registry, dirs.v2, { deployedBy: "test", signingKey: testSigningKey() });
    await eventually(async () => (await instancesOf(nc, "deploy_echo", 300))[0]?.version === "2.0.0", 15_000, "v2 serving");
    assert.equal(
      (await nc.request("fn.deploy_echo", JSON.stringify({ text: "v2" }), { timeout: 3000 })).json<{ version: string }>().version,
      "2.0.0",
    );
  });

  it("warns at start and refuses every release when no signer is trusted", async () => {
    const lines: string[] = [];
    const lonely = await startWorker({
      config: { ...configFromEnv({ NATS_URL: url }), shutdownGraceMs: 500 },
      trustedSigners: [],
      reconcileMs: 60_000,
      log: createLogger({}, "warn", (line) => void lines.push(line)),
    });
    hooks.after(() => lonely.stop());
    assert.match(lines.join(""), /NFN_TRUSTED_SIGNERS is not set: this worker refuses every release/);
    await eventually(() => lonely.refusedCount() >= 1, 15_000, "the honest release refused by a worker that trusts no one");
    assert.equal(lonely.serving().size, 0);
    assert.match(warnings.join(""), /release refused; the running version keeps serving/);
  });
});

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(join(dir, e.name)) : [join(dir, e.name)]));
}
