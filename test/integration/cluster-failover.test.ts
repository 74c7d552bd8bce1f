/** A 3-node cluster with R3 registry and KV: one node killed mid-load, calls go on and no KV write is lost. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/nats-core";
import { configFromEnv } from "../../runtime/config.ts";
import { deployBundle } from "../../deploy/registry/operations.ts";
import { openRegistry } from "../../deploy/registry/registry.ts";
import { startWorker } from "../../deploy/worker/worker.ts";
import { natsCluster } from "../helpers/cluster.ts";
import { eventually } from "../helpers/nats.ts";
import { TEST_SIGNER, testSigningKey } from "../helpers/signing.ts";
import { ROOT, runBuild, tempDir } from "../fixtures/deploy-build.ts";

// One call, retried (a lost reply is safe: the handler's KV put is idempotent) until it succeeds or 20 s pass.
async function callUntilOk(nc: NatsConnection, key: string): Promise<{ attempts: number }> {
  const end = Date.now() + 20_000;
  for (let attempts = 1; ; attempts++) {
    try {
      const reply = await nc.request("fn.deploy_echo", JSON.stringify({ text: `value-${key}`, storeKey: key }), { timeout: 3000 });
      if (!reply.headers?.get("Nats-Service-Error-Code")) return { attempts };
    } catch {
      // no responders or timeout while the cluster re-elects: retry below
    }
    if (Date.now() > end) throw new Error(`call for ${key} did not succeed within 20 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test("a node killed mid-load: calls keep succeeding after reconnect and no acknowledged KV write is lost", async (t) => {
  const cluster = await natsCluster(t);
  const dir = tempDir(t, "nfn-cluster-");
  await runBuild(["--out", dir, "--entry", `deploy_echo=${join(ROOT, "test/fixtures/deploy-echo-v1.ts")}`]);

  const env = { NATS_URL: cluster.urls.join(","), NFN_REPLICAS: "3", LOG_LEVEL: "silent" };
  const worker = await startWorker({
    trustedSigners: [TEST_SIGNER.publicKey],
    config: { ...configFromEnv(env), shutdownGraceMs: 2000 },
    cacheDir: join(dir, "cache"),
  });
  // node:test runs after-hooks in the order they were added, so the cluster (added first) would stop
  // before the worker; stop the worker and the client here, while the cluster still runs.
  let nc: NatsConnection | undefined;
  try {
    await scenario();
  } finally {
    await worker.stop();
    await nc?.close();
  }

  async function scenario(): Promise<void> {
    const victimUrl = `nats://${worker.host.nc.getServer()}`;
    const victim = cluster.nodes.find((n) => n.url === victimUrl);
    assert.ok(victim, `the worker is connected to ${victimUrl}, one of ${cluster.urls.join(", ")}`);

    // The client talks only to the nodes that survive, so what is measured is the worker's failover.
    const survivors = cluster.urls.filter((u) => u !== victimUrl);
    nc = await connect({ servers: survivors, maxReconnectAttempts: -1 });
    const client = nc;
    const registry = await openRegistry(client, 3);
    await deployBundle(registry, join(dir, "deploy_echo"), { deployedBy: "test", signingKey: testSigningKey() });
    await eventually(async () => (await callUntilOk(client, "warmup")).attempts > 0, 30_000, "the worker serving deploy_echo");

    const acked: string[] = [];
    let killed = false;
    let retries = 0;
    const lane = async (lane: number) => {
      for (let i = 0; i < 30; i++) {
        const key = `k-${lane}-${i}`;
        retries += (await callUntilOk(client, key)).attempts - 1;
        acked.push(key);
        if (!killed && acked.length >= 40) {
          killed = true;
          victim.process.kill("SIGKILL");
        }
      }
    };
    await Promise.all([0, 1, 2, 3].map(lane));
    assert.equal(killed, true);
    assert.equal(acked.length, 120);
    t.diagnostic(`killed ${victimUrl} after 40 of 120 calls; ${retries} retries while the cluster failed over`);
    await eventually(
      () => worker.host.nc.getServer() !== victimUrl.slice("nats://".length),
      20_000,
      "the worker reconnected to another node",
    );

    // After the reconnect, calls succeed at the first attempt again.
    await eventually(async () => (await callUntilOk(client, "settle")).attempts === 1, 20_000, "first-attempt success after failover");
    for (let i = 0; i < 20; i++) assert.equal((await callUntilOk(client, `after-${i}`)).attempts, 1, `call ${i} after reconnect`);

    const kv = await new Kvm(client).open("deploy_echo");
    const status = await kv.status();
    assert.equal(status.replicas, 3);
    for (const key of acked) assert.equal((await kv.get(key))?.string(), `value-${key}`, `KV kept ${key}`);
  }
});
