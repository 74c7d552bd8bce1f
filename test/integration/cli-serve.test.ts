/** nfn serve, dev and server against real nats-servers, with functions written into a temporary project. */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { NatsConnection } from "@nats-io/nats-core";
import { runDev } from "../../cli/commands/dev.ts";
import { runServe } from "../../cli/commands/serve.ts";
import { runServerStart, runServerStatus, runServerStop } from "../../cli/commands/server.ts";
import { discoverInfo } from "../../runtime/client/index.ts";
import { EXIT } from "../../cli/lib/exit-codes.ts";
import { captureIo } from "../../cli/lib/io.ts";
import { readServerRecord } from "../../cli/lib/local-server.ts";
import { runCore } from "../../cli/lib/program.ts";
import { freePort } from "../../runtime/nats-server.ts";
import { Cleanup, eventually, natsClient, natsServer } from "../helpers/nats.ts";

const RUNTIME = join(import.meta.dirname, "../../runtime/index.ts");
const PROBES = join(import.meta.dirname, "../fixtures/probe-functions.ts");
const BIN = join(import.meta.dirname, "../../cli/bin.mjs");

const hooks = new Cleanup();

/** A temporary project: package.json (ESM) and functions/<name>/index.ts files. */
function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "nfn-serve-"));
  hooks.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "package.json"), '{"type":"module"}\n');
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

/** A function that replies with a constant, so a test can see which code is serving. */
function versionedFunction(name: string, version: string, value: number): string {
  return `import { defineFunction } from ${JSON.stringify(RUNTIME)};
export default defineFunction({
  name: ${JSON.stringify(name)}, version: ${JSON.stringify(version)}, description: "replies with a constant",
  request: { type: "object" }, response: { type: "object" },
  handler: () => ({ value: ${value} }),
});
`;
}

const PROBE_MODULE = `export { probe as default } from ${JSON.stringify(PROBES)};\n`;

async function call(nc: NatsConnection, subject: string, body: unknown): Promise<unknown> {
  const msg = await nc.request(subject, JSON.stringify(body), { timeout: 3000 });
  return JSON.parse(new TextDecoder().decode(msg.data));
}

function spawnNfn(
  args: string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): { child: ChildProcess; out: () => string; err: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  hooks.after(async () => {
    if (child.exitCode === null) child.kill("SIGKILL");
    await exit;
  });
  return { child, out: () => out, err: () => err, exit };
}

describe("nfn serve, dev and server", () => {
  let url = "";
  let nc: NatsConnection;

  after(() => hooks.run());

  before(async () => {
    const server = await natsServer(hooks);
    url = server.url;
    nc = await natsClient(hooks, server);
  });

  it("serve runs every function in functions/ until told to stop, then leaves $SRV", async () => {
    const dir = project({
      "functions/probe/index.ts": PROBE_MODULE,
      "functions/answer/index.ts": versionedFunction("answer", "1.0.0", 42),
    });
    const io = captureIo({ cwd: dir, env: { AUTH_JWT_SECRET: "x-test-secret-of-32-bytes-or-more-0123456789" } });
    let stop = () => {};
    const done = runServe({ server: url }, io, [], new Promise<void>((r) => (stop = r)));
    await eventually(() => io.out().includes("serving 2 functions"), 10_000, "serve to start");
    assert.match(io.out(), /serving 2 functions on nats:\/\/127\.0\.0\.1:\d+: answer@1\.0\.0, probe@1\.0\.0/);
    assert.deepEqual(await call(nc, "fn.answer", {}), { value: 42 });
    assert.deepEqual(await call(nc, "fn.probe", { text: "hi" }), { text: "hi" });
    stop();
    assert.equal(await done, EXIT.OK);
    assert.deepEqual(await discoverInfo(nc, { name: "answer", timeoutMs: 1000 }), []);
  });

  it("serve [fn] runs only the named function, and an unknown name is a usage error listing the available ones", async () => {
    const dir = project({ "functions/probe/index.ts": PROBE_MODULE, "functions/answer/index.ts": versionedFunction("answer", "1.0.0", 1) });
    const io = captureIo({ cwd: dir, env: { AUTH_JWT_SECRET: "x-test-secret-of-32-bytes-or-more-0123456789" } });
    const code = await runCore(() => runServe({ server: url }, io, ["nope"], Promise.resolve()), io);
    assert.equal(code, EXIT.USAGE);
    assert.match(io.err(), /^nfn: no function nope in .*functions: available are answer, probe\n$/);
  });

  it("serve with no server configured or reachable starts a local nats-server -js, records it in .nfn/, and stops it on exit", async () => {
    const dir = project({ "functions/answer/index.ts": versionedFunction("answer", "1.0.0", 7) });
    const port = await freePort();
    const io = captureIo({ cwd: dir, env: {} });
    let stop = () => {};
    const done = runServe({}, io, [], new Promise<void>((r) => (stop = r)), {
      defaultUrl: `nats://127.0.0.1:${port}`,
      preferredPort: port,
      preferredMonitorPort: await freePort(),
    });
    await eventually(() => io.out().includes("serving 1 function"), 15_000, "serve to start a server");
    assert.match(io.err(), /AUTH_JWT_SECRET is not set: generated a development secret into \.nfn\/auth-secret/);
    assert.match(
      io.err(),
      new RegExp(
        `started a local nats-server -js at nats://127\\.0\\.0\\.1:${port} \\(monitoring http://127\\.0\\.0\\.1:\\d+, data in \\.nfn/jetstream\\)`,
      ),
    );
    assert.equal(readServerRecord(dir)?.url, `nats://127.0.0.1:${port}`);
    const local = await natsClient(hooks, { url: `nats://127.0.0.1:${port}` });
    assert.deepEqual(await call(local, "fn.answer", {}), { value: 7 });
    stop();
    assert.equal(await done, EXIT.OK);
    assert.equal(readServerRecord(dir), undefined);
  });

  it("serve --demo puts the whole demo catalog through put_product with an inventory:admin token", async () => {
    const putProduct = `import { defineFunction, FunctionError } from ${JSON.stringify(RUNTIME)};
export default defineFunction({
  name: "put_product", version: "0.0.1", description: "test double", request: { type: "object" }, response: { type: "object" },
  handler(input, ctx) {
    const token = (ctx.header("Authorization") ?? "").replace("Bearer ", "");
    const claims = JSON.parse(Buffer.from(token.split(".")[1] ?? "", "base64url").toString());
    if (claims.scope !== "inventory:admin") throw new FunctionError(403, "needs inventory:admin");
    return input;
  },
});
`;
    const dir = project({ "functions/put_product/index.ts": putProduct });
    const io = captureIo({ cwd: dir, env: { AUTH_JWT_SECRET: "x-test-secret-of-32-bytes-or-more-0123456789" } });
    assert.equal(await runServe({ server: url, demo: true }, io, [], Promise.resolve()), EXIT.OK);
    assert.match(io.out(), /demo catalog: 34 of 34 products loaded through put_product/);
    assert.match(io.out(), /npx nfn token --sub alice --scope "orders:write"/);
    assert.match(io.out(), /npx nfn invoke check_inventory '\{"items":\[\{"sku":"AOVE-PICUAL-500ML","quantity":2\}\]\}'/);
  });

  it("dev reloads a changed function (new instance before the old leaves), leaves the others alone, and keeps the old one when the new code fails", async () => {
    const dir = project({ "functions/probe/index.ts": PROBE_MODULE, "functions/answer/index.ts": versionedFunction("answer", "1.0.0", 1) });
    const io = captureIo({ cwd: dir, env: { AUTH_JWT_SECRET: "x-test-secret-of-32-bytes-or-more-0123456789" } });
    let stop = () => {};
    const done = runDev({ server: url }, io, [], new Promise<void>((r) => (stop = r)));
    await eventually(() => io.err().includes("watching"), 10_000, "dev to start");
    const probeBefore = (await discoverInfo(nc, { name: "probe", timeoutMs: 1000 }))[0]?.id;

    writeFileSync(join(dir, "functions/answer/index.ts"), versionedFunction("answer", "1.0.1", 2));
    await eventually(async () => ((await call(nc, "fn.answer", {})) as { value: number }).value === 2, 10_000, "the new code to answer");
    await eventually(
      async () => {
        const infos = await discoverInfo(nc, { name: "answer", timeoutMs: 1000 });
        return infos.length === 1 && infos[0]?.version === "1.0.1";
      },
      10_000,
      "the old instance to leave",
    );
    assert.match(io.err(), /nfn dev: reloaded answer@1\.0\.1 in \d+ ms/);
    const probes = await discoverInfo(nc, { name: "probe", timeoutMs: 1000 });
    assert.deepEqual(
      probes.map((p) => p.id),
      [probeBefore],
      "probe was not restarted",
    );

    writeFileSync(join(dir, "functions/answer/index.ts"), "export default 42;\n");
    await eventually(() => io.err().includes("answer did not reload, the previous version keeps serving"), 10_000, "the failed reload");
    assert.deepEqual(await call(nc, "fn.answer", {}), { value: 2 });
    stop();
    assert.equal(await done, EXIT.OK);
  });

  it("spawned: serve prints what it serves, answers requests, and exits 0 on SIGTERM", async () => {
    const dir = project({ "functions/answer/index.ts": versionedFunction("answer", "1.0.0", 5) });
    const p = spawnNfn(["serve", "-s", url], dir, { AUTH_JWT_SECRET: "x-test-secret-of-32-bytes-or-more-0123456789", LOG_LEVEL: "warn" });
    await eventually(() => p.out().includes("serving 1 function"), 20_000, "spawned serve to start");
    assert.deepEqual(await call(nc, "fn.answer", {}), { value: 5 });
    p.child.kill("SIGTERM");
    assert.equal(await p.exit, 0);
    assert.match(p.err(), /nfn: stopping: no new requests, finishing those in flight/);
  });

  it("spawned: dev starts, reloads on a change, and exits 0 on SIGINT", async () => {
    const dir = project({ "functions/answer/index.ts": versionedFunction("answer", "1.0.0", 1) });
    const p = spawnNfn(["dev", "-s", url], dir, { AUTH_JWT_SECRET: "x-test-secret-of-32-bytes-or-more-0123456789", LOG_LEVEL: "warn" });
    await eventually(() => p.err().includes("watching"), 20_000, "spawned dev to start");
    writeFileSync(join(dir, "functions/answer/index.ts"), versionedFunction("answer", "1.0.1", 3));
    await eventually(() => p.err().includes("reloaded answer@1.0.1"), 10_000, "the spawned reload");
    assert.deepEqual(await call(nc, "fn.answer", {}), { value: 3 });
    p.child.kill("SIGINT");
    assert.equal(await p.exit, 0);
  });

  it("server start/status/stop manage a dev nats-server under .nfn/, in-process and spawned", async () => {
    const dir = project({});
    const [port, monitorPort] = [await freePort(), await freePort()];
    const io = captureIo({ cwd: dir });
    hooks.after(() => runServerStop({}, captureIo({ cwd: dir })));
    assert.equal(await runServerStart({ port: String(port), monitorPort: String(monitorPort) }, io), EXIT.OK);
    assert.match(
      io.out(),
      new RegExp(
        `nats-server running at nats://127\\.0\\.0\\.1:${port} \\(monitoring http://127\\.0\\.0\\.1:${monitorPort}, JetStream data in \\.nfn/jetstream, pid \\d+\\)`,
      ),
    );
    const again = captureIo({ cwd: dir });
    await runServerStart({}, again);
    assert.match(again.out(), /^already running: /);
    const status = spawnNfn(["server", "status", "--json"], dir);
    assert.equal(await status.exit, 0, status.err());
    assert.equal((JSON.parse(status.out()) as { port: number }).port, port);
    const stop = spawnNfn(["server", "stop"], dir);
    assert.equal(await stop.exit, 0, stop.err());
    assert.match(stop.out(), /^stopped nats-server nats:\/\/127\.0\.0\.1:\d+ \(pid \d+\)/);
    const after = captureIo({ cwd: dir });
    assert.equal(await runServerStatus({}, after), EXIT.NO_RESPONDERS);
    assert.equal(existsSync(join(dir, ".nfn", "server.json")), false);
  });
});
