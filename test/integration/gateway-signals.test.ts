/**
 * `nfn gateway` and `nfn dashboard` still waiting for NATS at start stop on SIGTERM or SIGINT:
 * whether the server refuses connections (between two attempts) or accepts and never speaks (in
 * the middle of one). Deadlines only bound "exited before"; nothing asserts a duration.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { freePort } from "../../runtime/nats-server.ts";
import { Cleanup, eventually } from "../helpers/nats.ts";

const BIN = join(import.meta.dirname, "../../cli/bin.mjs");
// Start-up of the CLI itself, on a loaded machine.
const STARTUP_ALLOWANCE_MS = 10_000;

const hooks = new Cleanup();
after(() => hooks.run());

interface Spawned {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: () => boolean;
  exit: Promise<number | null>;
}

function nfn(args: string[]): Spawned {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: "info" },
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

/** A TCP server that accepts connections and never says a word: a NATS connect to it hangs until its own timeout. */
async function silentServer(): Promise<{ url: string; reached: () => boolean }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  hooks.after(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  const address = server.address();
  assert.ok(address && typeof address === "object");
  return { url: `nats://127.0.0.1:${address.port}`, reached: () => sockets.size > 0 };
}

describe("gateway start-up signals", () => {
  it("nfn gateway waiting for an unreachable server exits 0 on SIGTERM without listening", async () => {
    const nothing = `nats://127.0.0.1:${await freePort()}`;
    const gw = nfn(["gateway", "--port", "0", "-s", nothing]);
    await eventually(() => gw.err().includes("NATS not reachable yet") || gw.exited(), 30_000, "the gateway to wait for NATS");
    assert.ok(!gw.exited(), gw.err());
    gw.child.kill("SIGTERM");
    await eventually(() => gw.exited(), STARTUP_ALLOWANCE_MS, "the gateway to exit after SIGTERM");
    assert.equal(await gw.exit, 0, gw.err());
    assert.match(gw.err(), /stopped before the NATS server was reachable/);
    assert.doesNotMatch(gw.out(), /http:\/\//, "it never listened");
  });

  for (const [verb, signal] of [
    ["gateway", "SIGINT"],
    ["dashboard", "SIGTERM"],
  ] as const) {
    it(`nfn ${verb} in the middle of a connection attempt that hangs exits 0 on ${signal}`, async () => {
      const silent = await silentServer();
      const gw = nfn([verb, "--port", "0", "-s", silent.url]);
      // Once its connection is accepted the CLI is inside a connect that will not finish on its own for a while.
      await eventually(() => silent.reached() || gw.exited(), 30_000, `nfn ${verb} to try to connect`);
      assert.ok(!gw.exited(), gw.err());
      gw.child.kill(signal);
      await eventually(() => gw.exited(), STARTUP_ALLOWANCE_MS, `nfn ${verb} to exit after ${signal}`);
      assert.equal(await gw.exit, 0, gw.err());
      assert.match(gw.err(), /stopped before the NATS server was reachable/);
    });
  }
});
