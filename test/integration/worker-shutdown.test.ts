/** A worker stops even when NATS is gone: the drain is given up after the grace period. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { configFromEnv } from "../../runtime/config.ts";
import { deployBundle } from "../../deploy/registry/operations.ts";
import { openRegistry } from "../../deploy/registry/registry.ts";
import { startWorker } from "../../deploy/worker/worker.ts";
import { eventually, natsClient, natsServer } from "../helpers/nats.ts";
import { TEST_SIGNER, testSigningKey } from "../helpers/signing.ts";
import { ROOT, runBuild, tempDir } from "../fixtures/deploy-build.ts";

test("stops and closes its connection when the server died while it was serving", async (t) => {
  const server = await natsServer(t);
  const nc = await natsClient(t, server);
  const dir = tempDir(t, "nfn-worker-stop-");
  await runBuild(["--out", dir, "--entry", `deploy_echo=${join(ROOT, "test/fixtures/deploy-echo-v1.ts")}`]);
  const config = configFromEnv({ NATS_URL: server.url, LOG_LEVEL: "silent" });
  const worker = await startWorker({ trustedSigners: [TEST_SIGNER.publicKey], config, cacheDir: join(dir, "cache"), graceMs: 300 });
  await deployBundle(await openRegistry(nc), join(dir, "deploy_echo"), { deployedBy: "test", signingKey: testSigningKey() });
  await eventually(() => worker.serving().get("deploy_echo")?.version === "1.0.0", 15_000, "the worker serving v1");

  await server.stop();
  const stopped = worker.stop().then(() => "stopped" as const);
  const outcome = await Promise.race([stopped, new Promise<"hung">((r) => setTimeout(() => r("hung"), 30_000).unref())]);
  assert.equal(outcome, "stopped");
  assert.equal(worker.host.nc.isClosed(), true);
});
