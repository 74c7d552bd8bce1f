/** The deploy story through the `nfn` command, as a user types it: build, deploy, worker, status, releases, rollback, undeploy. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { eventually, natsClient, natsServer } from "../helpers/nats.ts";
import { ROOT, tempDir } from "../fixtures/deploy-build.ts";
import { startBundle } from "./bundle-process.ts";
import { TEST_SIGNER, signingEnv } from "../helpers/signing.ts";

const run = promisify(execFile);
const BIN = join(ROOT, "cli/bin.mjs");

interface StatusRow {
  name: string;
  state: string;
  skew: boolean;
  desired: { version: string } | null;
  instances: { version: string; worker: string }[];
}

test("nfn build, deploy, worker, status, releases, rollback and undeploy work end to end", async (t) => {
  const server = await natsServer(t);
  const nc = await natsClient(t, server);
  const dir = tempDir(t, "nfn-e2e-cli-");
  const env = { ...process.env, ...signingEnv(), NATS_URL: server.url, NFN_DEPLOYED_BY: "e2e", LOG_LEVEL: "warn" };
  const nfn = async (...args: string[]) => {
    try {
      return await run(process.execPath, [BIN, ...args], { cwd: ROOT, env });
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; code?: number };
      throw new Error(`nfn ${args.join(" ")} exited ${e.code}: ${e.stderr ?? ""}${e.stdout ?? ""}`);
    }
  };
  const status = async () => JSON.parse((await nfn("status", "--json", "--timeout", "1s")).stdout) as StatusRow[];
  const echo = async () =>
    (await nc.request("fn.deploy_echo", JSON.stringify({ text: "x" }), { timeout: 3000 })).json<{ version: string }>().version;

  for (const v of ["1", "2"]) await nfn("build", "--out", join(dir, `v${v}`), "--entry", `deploy_echo=test/fixtures/deploy-echo-v${v}.ts`);
  const deployed = await nfn("deploy", "--dist", join(dir, "v1"), "deploy_echo");
  assert.match(deployed.stdout, /deployed deploy_echo@1\.0\.0 sha256 [0-9a-f]{12} \(uploaded [\d.]+ KiB\)/);
  assert.ok(deployed.stdout.includes(`signed by ${TEST_SIGNER.publicKey}`), deployed.stdout);
  assert.match(deployed.stderr, /deploy_echo: uploading .*\(100%\)/);

  // Before any worker runs, status says the function is down.
  assert.deepEqual(
    (await status()).map((r) => [r.name, r.state]),
    [["deploy_echo", "down"]],
  );

  // Start workers as a user would; the one with --only serves nothing of ours.
  const cache = join(dir, "cache");
  const worker = startBundle(BIN, server.url, { LOG_LEVEL: "info", NFN_WORKER_NAME: "w1", NFN_TRUSTED_SIGNERS: TEST_SIGNER.publicKey }, [
    "worker",
    "--cache-dir",
    cache,
  ]);
  const other = startBundle(BIN, server.url, { LOG_LEVEL: "info", NFN_TRUSTED_SIGNERS: TEST_SIGNER.publicKey }, [
    "worker",
    "--only",
    "check_*",
    "--cache-dir",
    cache,
  ]);
  t.after(() => Promise.all([worker.stop(), other.stop()]).then(() => undefined));
  await eventually(async () => (await status())[0]?.state === "ok", 30_000, `worker serving v1 (log: ${worker.log().slice(-500)})`);
  await eventually(() => other.log().includes('"worker started"'), 30_000, "the --only worker started");
  assert.deepEqual(
    (await status())[0]?.instances.map((i) => i.worker),
    ["w1"],
    "only w1 serves deploy_echo: the --only check_* worker does not",
  );
  assert.equal(await echo(), "1.0.0");

  await nfn("deploy", "--dist", join(dir, "v2"), "deploy_echo");
  await eventually(
    async () => {
      const row = (await status())[0];
      return row?.state === "ok" && row.desired?.version === "2.0.0" && row.instances.every((i) => i.version === "2.0.0");
    },
    30_000,
    "v2 everywhere",
  );
  assert.equal(await echo(), "2.0.0");
  const releases = (await nfn("releases", "deploy_echo")).stdout;
  assert.match(releases, /^\* 2 .* 2\.0\.0 .* e2e/m);
  assert.match(releases, /^ {2}1 .* 1\.0\.0 .* e2e/m);

  assert.match((await nfn("rollback", "deploy_echo")).stdout, /rolled back deploy_echo from 2\.0\.0 to 1\.0\.0/);
  await eventually(async () => (await echo()) === "1.0.0", 30_000, "v1 after rollback");
  await assert.rejects(nfn("rollback", "deploy_echo", "9.9.9"), /has no release 9\.9\.9 in its history \(releases: 1\.0\.0, 2\.0\.0\)/);

  assert.match((await nfn("undeploy", "deploy_echo")).stdout, /undeployed deploy_echo/);
  await eventually(async () => (await status()).length === 0, 30_000, "nothing deployed or running");
  await assert.rejects(nc.request("fn.deploy_echo", "{}", { timeout: 2000 }), /no responders/i);
  await assert.rejects(nfn("undeploy", "deploy_echo"), /exited 1: nfn: deploy_echo is not deployed/);
});
