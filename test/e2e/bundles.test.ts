/** Every function built into a bundle and run alone, as `NATS_URL=... node dist/<fn>/index.mjs`. */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { readManifest } from "../../deploy/bundle/manifest.ts";
import { compileValidator } from "../../runtime/validation.ts";
import { eventually, natsClient, natsServer } from "../helpers/nats.ts";
import { ROOT, runBuild, tempDir } from "../fixtures/deploy-build.ts";
import { firstReply, startBundle } from "./bundle-process.ts";

test("builds every function and each bundle serves alone: $SRV.PING, INFO sha256 and a real call", async (t) => {
  const server = await natsServer(t);
  const nc = await natsClient(t, server);
  const out = tempDir(t, "nfn-e2e-bundles-");
  await runBuild(["--out", out, "--entry", `deploy_echo=${join(ROOT, "test/fixtures/deploy-echo-v1.ts")}`]);
  await runBuild(["--out", out]);
  const names = readdirSync(out).sort();
  assert.ok(names.includes("deploy_echo"), "the fixture was built");
  t.diagnostic(`bundles: ${names.join(", ")}`);

  for (const name of names) {
    const manifest = await readManifest(join(out, name));
    assert.equal(manifest.name, name);
    const proc = startBundle(join(out, name, manifest.entry), server.url);
    t.after(() => proc.stop());
    await eventually(() => proc.log().includes('"function registered"'), 20_000, `${name} registered (log: ${proc.log().slice(-400)})`);
    if (manifest.subjects.endpoint === null) {
      await proc.stop();
      continue; // event-only: no endpoint, nothing answers $SRV
    }
    const ping = (await nc.request(`$SRV.PING.${name}`, "", { timeout: 5000 })).json<{ name: string; version: string }>();
    assert.deepEqual([ping.name, ping.version], [name, manifest.version]);
    const info = (await nc.request(`$SRV.INFO.${name}`, "", { timeout: 5000 })).json<{
      endpoints: { metadata: Record<string, string> }[];
    }>();
    assert.equal(info.endpoints[0]?.metadata.bundle_sha256, manifest.sha256, `${name} advertises its bundle hash`);
    // A real call through the bundle's precompiled validator: an unknown field is a 400 with the
    // same details the source runtime (ajv at run time) gives.
    const bad = { nfn_unknown_field: true };
    const reply = await nc.request(manifest.subjects.endpoint, JSON.stringify(bad), { timeout: 5000 });
    assert.equal(reply.headers?.get("Nats-Service-Error-Code"), "400", `${name}: ${reply.string()}`);
    const body = reply.json<{ error: { details: unknown } }>();
    assert.deepEqual(body.error.details, compileValidator(manifest.schemas.request)(bad));
    await proc.stop();
    assert.equal(proc.child.exitCode, 0, `${name} exits 0 on SIGTERM`);
  }
});

test("a bundle answers a successful call and its first reply comes after start", async (t) => {
  const server = await natsServer(t);
  const nc = await natsClient(t, server);
  const out = tempDir(t, "nfn-e2e-echo-");
  await runBuild(["--out", out, "--entry", `deploy_echo=${join(ROOT, "test/fixtures/deploy-echo-v2.ts")}`]);
  const proc = startBundle(join(out, "deploy_echo", "index.mjs"), server.url, { LOG_LEVEL: "warn" });
  t.after(() => proc.stop());
  const { msg, ms } = await firstReply(nc, "fn.deploy_echo", JSON.stringify({ text: "cold" }), proc.startedAt);
  assert.deepEqual(msg.json(), { text: "cold", version: "2.0.0" });
  t.diagnostic(`process start to first reply: ${ms.toFixed(0)} ms`);
});
