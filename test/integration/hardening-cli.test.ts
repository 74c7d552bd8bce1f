/**
 * The CLI and the ops endpoint as an attacker on the same machine would try them: long-lived tokens,
 * tokens in argv, `nfn server stop` on a pid that is no longer our nats-server, an ops port open to
 * the network. And the README's tour (a confirmed and a cancelled order) still works through the CLI.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { decodeJwt } from "jose";
import { runInvoke } from "../../cli/commands/invoke.ts";
import { runServerStart, runServerStop } from "../../cli/commands/server.ts";
import { runToken } from "../../cli/commands/token.ts";
import { EXIT } from "../../cli/lib/exit-codes.ts";
import { captureIo } from "../../cli/lib/io.ts";
import { processAlive, readServerRecord, writeServerRecord } from "../../cli/lib/local-server.ts";
import { readAuth } from "../../cli/lib/payload.ts";
import { runCore } from "../../cli/lib/program.ts";
import { freePort } from "../../runtime/nats-server.ts";
import { startOpsServer } from "../../runtime/ops/ops-server.ts";
import { Cleanup, eventually, natsClient, natsServer } from "../helpers/nats.ts";
import { TEST_JWT_SECRET } from "../helpers/tokens.ts";
import { type Marketplace, startMarketplace } from "../fixtures/marketplace.ts";

const hooks = new Cleanup();
after(() => hooks.run());

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "nfn-hardening-"));
  hooks.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function token(args: { sub: string; scope?: string; ttl?: string }): Promise<{ code: number; out: string; err: string }> {
  const io = captureIo({ env: { AUTH_JWT_SECRET: TEST_JWT_SECRET } });
  const code = await runCore(() => runToken(args, io), io);
  return { code, out: io.out().trim(), err: io.err() };
}

void describe("nfn token --ttl", () => {
  void it("defaults to one hour", async () => {
    const r = await token({ sub: "alice" });
    assert.equal(r.code, EXIT.OK, r.err);
    const claims = decodeJwt(r.out);
    assert.equal((claims.exp ?? 0) - (claims.iat ?? 0), 3600);
  });

  void it("accepts 24h and refuses anything longer with exit 2", async () => {
    assert.equal((await token({ sub: "alice", ttl: "24h" })).code, EXIT.OK);
    for (const ttl of ["25h", "168h", "86401"]) {
      const r = await token({ sub: "alice", ttl });
      assert.equal(r.code, EXIT.USAGE, ttl);
      assert.equal(r.out, "");
      assert.match(r.err, /24h/);
    }
  });
});

void describe("--auth @file and -", () => {
  void it("reads the token from a file, from stdin, or inline, and trims it", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "t.jwt"), "aaa.bbb.ccc\n");
    assert.equal(await readAuth("@t.jwt", captureIo({ cwd: dir })), "aaa.bbb.ccc");
    assert.equal(await readAuth("-", captureIo({ stdin: "  ddd.eee.fff\n" })), "ddd.eee.fff");
    assert.equal(await readAuth("ggg.hhh.iii", captureIo({})), "ggg.hhh.iii");
    assert.equal(await readAuth(undefined, captureIo({})), undefined);
  });

  void it("refuses a missing file, an empty or multi-word token, and stdin wanted twice", async () => {
    await assert.rejects(readAuth("@missing.jwt", captureIo({ cwd: tempDir() })), /cannot read the token file missing\.jwt: ENOENT/);
    await assert.rejects(readAuth("-", captureIo({ stdin: "\n" })), /holds no single token/);
    await assert.rejects(readAuth("-", captureIo({ stdin: "a.b.c d.e.f" })), /holds no single token/);
    await assert.rejects(readAuth("-", captureIo({ stdin: "a.b.c" }), "-"), /both want stdin/);
  });
});

void describe("the README tour through the CLI, with the token in a file and on stdin", () => {
  let m: Marketplace;
  before(async () => {
    m = await startMarketplace(hooks);
    await m.seed([{ sku: "AOVE-PICUAL-500ML", priceCents: 1290, onHand: 10 }]);
  });

  const invoke = async (payload: string, auth: string, stdin?: string, cwd?: string) => {
    const io = captureIo({ stdin, cwd });
    const code = await runCore(() => runInvoke("create_order", payload, { server: m.server.url, timeout: "10s", auth, raw: true }, io), io);
    return { code, out: io.out(), err: io.err() };
  };

  void it("confirms an order with --auth @file and cancels a declined one with --auth -", async () => {
    const dir = tempDir();
    const minted = await token({ sub: "alice", scope: "orders:write" });
    writeFileSync(join(dir, "alice.jwt"), `${minted.out}\n`, { mode: 0o600 });
    const confirmed = await invoke(
      '{"items":[{"sku":"AOVE-PICUAL-500ML","quantity":1}],"paymentMethod":"pm_card_visa"}',
      "@alice.jwt",
      undefined,
      dir,
    );
    assert.equal(confirmed.code, EXIT.OK, confirmed.err);
    assert.equal((JSON.parse(confirmed.out) as { status: string }).status, "confirmed");
    const cancelled = await invoke(
      '{"items":[{"sku":"AOVE-PICUAL-500ML","quantity":1}],"paymentMethod":"pm_card_chargeDeclined"}',
      "-",
      minted.out,
    );
    assert.equal(cancelled.code, EXIT.OK, cancelled.err);
    const order = JSON.parse(cancelled.out) as { status: string; cancelReason: string };
    assert.deepEqual([order.status, order.cancelReason], ["cancelled", "payment_declined"]);
    assert.deepEqual(await m.stock("AOVE-PICUAL-500ML"), { onHand: 9, reserved: 0, sold: 1 });
  });

  void it("refuses a token without orders:write with 403 and exit 1, and sells nothing", async () => {
    const readOnly = await token({ sub: "alice" });
    const r = await invoke('{"items":[{"sku":"AOVE-PICUAL-500ML","quantity":1}],"paymentMethod":"pm_card_visa"}', readOnly.out);
    assert.equal(r.code, EXIT.SERVICE_ERROR);
    assert.match(r.err, /^403 FORBIDDEN: token lacks the scope orders:write/);
    assert.deepEqual(await m.stock("AOVE-PICUAL-500ML"), { onHand: 9, reserved: 0, sold: 1 });
  });
});

void describe("nfn server stop", () => {
  void it("does not signal a recorded pid that is not the nats-server it started, and drops the stale record", async () => {
    const dir = tempDir();
    // A long-lived process that is not nats-server stands in for a pid reused after the server died.
    const bystander = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
    hooks.after(() => bystander.kill("SIGKILL"));
    const pid = bystander.pid ?? 0;
    writeServerRecord(dir, {
      pid,
      url: "nats://127.0.0.1:1",
      port: 1,
      monitorPort: 2,
      storeDir: join(dir, ".nfn", "jetstream"),
      startedBy: "server",
      startedAt: new Date().toISOString(),
    });
    const io = captureIo({ cwd: dir });
    assert.equal(await runCore(() => runServerStop({}, io), io), EXIT.OK);
    assert.match(io.err(), new RegExp(`not stopping pid ${pid}: process ${pid} is node, not nats-server`));
    assert.ok(processAlive(pid), "the bystander is still running");
    assert.equal(existsSync(join(dir, ".nfn", "server.json")), false, "the stale record is gone");
  });

  void it("refuses a nats-server of another store directory, and stops its own", async () => {
    const dir = tempDir();
    const [port, monitorPort] = [await freePort(), await freePort()];
    const io = captureIo({ cwd: dir });
    assert.equal(await runCore(() => runServerStart({ port: String(port), monitorPort: String(monitorPort) }, io), io), EXIT.OK, io.err());
    const record = readServerRecord(dir);
    assert.ok(record?.procStart, "the start time is recorded");
    hooks.after(() => {
      if (record && processAlive(record.pid)) process.kill(record.pid, "SIGKILL");
    });
    // Another project's record pointing at this server (same pid, other store) must not stop it.
    const other = tempDir();
    mkdirSync(join(other, ".nfn"), { recursive: true });
    writeServerRecord(other, { ...record, storeDir: join(other, ".nfn", "jetstream") });
    const otherIo = captureIo({ cwd: other });
    await runCore(() => runServerStop({}, otherIo), otherIo);
    assert.match(otherIo.err(), /another store directory/);
    assert.ok(processAlive(record.pid));
    // The real record stops it.
    const stopIo = captureIo({ cwd: dir });
    assert.equal(await runCore(() => runServerStop({}, stopIo), stopIo), EXIT.OK, stopIo.err());
    await eventually(() => !processAlive(record.pid), 10_000, "nats-server to exit");
  });
});

void describe("the ops HTTP server", () => {
  void it("binds 127.0.0.1 unless NFN_HTTP_HOST says otherwise: the machine's other addresses refuse", async () => {
    const server = await natsServer(hooks);
    const nc = await natsClient(hooks, server);
    const saved = process.env.NFN_HTTP_HOST;
    delete process.env.NFN_HTTP_HOST;
    const ops = await startOpsServer({ nc, endpoints: () => [] }, 0);
    if (saved !== undefined) process.env.NFN_HTTP_HOST = saved;
    hooks.after(() => ops.close());
    assert.equal((await fetch(`http://127.0.0.1:${ops.port}/healthz`)).status, 200);
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === "IPv4" && !a.internal);
    if (external) await assert.rejects(fetch(`http://${external.address}:${ops.port}/healthz`), "not reachable on " + external.address);
  });
});
