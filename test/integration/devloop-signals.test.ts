/**
 * Nothing left behind, nothing hanging: a closed terminal (SIGHUP) or SIGTERM stops the nats-server
 * that `nfn serve` started; one-shot verbs give up on a stopped server within their timeout plus a
 * second; `nfn serve` whose server is gone still exits on SIGTERM within NFN_SHUTDOWN_GRACE_MS.
 * Every deadline below is generous and only bounds "exited before"; nothing asserts a duration.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { freePort } from "../../runtime/nats-server.ts";
import { Cleanup, eventually, natsServer } from "../helpers/nats.ts";

const BIN = join(import.meta.dirname, "../../cli/bin.mjs");
const RUNTIME = join(import.meta.dirname, "../../runtime/index.ts");
// Start-up of the CLI itself, on a loaded machine and from source when the build is stale.
const STARTUP_ALLOWANCE_MS = 10_000;

const hooks = new Cleanup();

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), "nfn-signals-"));
  hooks.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "package.json"), '{"type":"module"}\n');
  mkdirSync(join(dir, "functions", "answer"), { recursive: true });
  writeFileSync(
    join(dir, "functions", "answer", "index.ts"),
    `import { defineFunction } from ${JSON.stringify(RUNTIME)};
export default defineFunction({
  name: "answer", version: "1.0.0", description: "replies 42",
  request: { type: "object" }, response: { type: "object" },
  handler: () => ({ value: 42 }),
});
`,
  );
  return dir;
}

interface Spawned {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: () => boolean;
  exit: Promise<number | null>;
}

function nfn(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Spawned {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AUTH_JWT_SECRET: "signals-test-secret-of-32-bytes-or-more",
      LOG_LEVEL: "warn",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  let done = false;
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolve) =>
    child.once("close", (code) => {
      done = true;
      resolve(code);
    }),
  );
  hooks.after(async () => {
    if (!done) child.kill("SIGKILL");
    await exit;
  });
  return { child, out: () => out, err: () => err, exited: () => done, exit };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts `nfn serve` in a fresh project with no server configured, so it starts its own on free ports. */
async function serveWithOwnServer(): Promise<{ serve: Spawned; natsPid: number }> {
  const dir = project();
  const env = { NFN_LOCAL_NATS_PORT: String(await freePort()), NFN_LOCAL_MONITOR_PORT: String(await freePort()) };
  const serve = nfn(["serve"], dir, env);
  await eventually(() => serve.out().includes("serving 1 function") || serve.exited(), 30_000, "serve to start its nats-server");
  assert.ok(!serve.exited(), serve.err());
  const record = JSON.parse(readFileSync(join(dir, ".nfn", "server.json"), "utf8")) as { pid: number; startedBy: string };
  assert.equal(record.startedBy, "serve");
  assert.ok(alive(record.pid), "the nats-server serve started is running");
  hooks.after(() => {
    if (alive(record.pid)) process.kill(record.pid, "SIGKILL");
  });
  return { serve, natsPid: record.pid };
}

describe("signals and timeouts", () => {
  after(() => hooks.run());

  for (const signal of ["SIGHUP", "SIGTERM"] as const) {
    it(`${signal} to nfn serve stops the nats-server it started, then serve exits`, async () => {
      const { serve, natsPid } = await serveWithOwnServer();
      serve.child.kill(signal);
      assert.equal(
        await eventually(() => serve.exited() && !alive(natsPid), 15_000, `serve and its nats-server to exit after ${signal}`),
        true,
      );
      assert.equal(await serve.exit, 0, serve.err());
    });
  }

  it("one-shot verbs against a stopped (SIGSTOP) server say 'cannot connect … (timeout)' and exit within --timeout plus a second", async (t) => {
    const server = await natsServer(hooks);
    server.process.kill("SIGSTOP");
    t.after(() => void server.process.kill("SIGCONT"));
    const dir = project();
    const verbs = [["invoke", "answer", "{}"], ["ls"], ["ping"], ["stats"], ["info", "answer"]];
    const runs = verbs.map((args) => ({ args, run: nfn([...args, "--timeout", "2s", "-s", server.url], dir) }));
    const deadline = 2000 + 1000 + STARTUP_ALLOWANCE_MS;
    for (const { args, run } of runs) {
      await eventually(() => run.exited(), deadline, `nfn ${args[0]} to exit`);
      assert.notEqual(await run.exit, 0, args.join(" "));
    }
    const invoke = runs[0]?.run;
    assert.match(invoke?.err() ?? "", /cannot connect to NATS at nats:\/\/127\.0\.0\.1:\d+ \(timeout\)/);
  });

  it("nfn serve still waiting for an unreachable server exits 0 on SIGTERM", async () => {
    const nothing = `nats://127.0.0.1:${await freePort()}`;
    const serve = nfn(["serve", "-s", nothing], project());
    await eventually(() => serve.err().includes("NATS not reachable yet") || serve.exited(), 30_000, "serve to wait for NATS");
    serve.child.kill("SIGTERM");
    await eventually(() => serve.exited(), STARTUP_ALLOWANCE_MS, "serve to exit after SIGTERM");
    assert.equal(await serve.exit, 0, serve.err());
    assert.match(serve.err(), /stopped before the NATS server was reachable/);
  });

  it("nfn serve whose nats-server has gone away exits on SIGTERM within NFN_SHUTDOWN_GRACE_MS", async () => {
    const server = await natsServer(hooks);
    const serve = nfn(["serve", "-s", server.url], project(), { NFN_SHUTDOWN_GRACE_MS: "1500" });
    await eventually(() => serve.out().includes("serving 1 function") || serve.exited(), 30_000, "serve to start");
    assert.ok(!serve.exited(), serve.err());
    server.process.kill("SIGKILL");
    await eventually(() => serve.err().includes("disconnected from NATS"), 15_000, "serve to notice the server is gone");
    serve.child.kill("SIGTERM");
    await eventually(() => serve.exited(), 1500 + STARTUP_ALLOWANCE_MS, "serve to exit after SIGTERM");
    assert.equal(await serve.exit, 0, serve.err());
  });
});
