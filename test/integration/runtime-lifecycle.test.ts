import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { after, describe, it } from "node:test";
import { connect } from "@nats-io/transport-node";
import { freePort, startNatsServer } from "../../runtime/nats-server.ts";
import { Cleanup, eventually, natsClient, natsServer } from "../helpers/nats.ts";
import { send } from "../helpers/requests.ts";

const SERVE_PROBE = new URL("../fixtures/serve-probe.ts", import.meta.url).pathname;

/** Starts the probe functions in their own process, as a deployed host runs. */
function spawnHost(natsUrl: string, cleanup: Cleanup): { child: ChildProcess; exit: Promise<number | null>; stderr: () => string } {
  const child = spawn(process.execPath, ["--import", "tsx", SERVE_PROBE], {
    env: { ...process.env, NATS_URL: natsUrl, LOG_LEVEL: "info", NFN_SHUTDOWN_GRACE_MS: "15000" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (c: Buffer) => (stderr += c.toString()));
  child.stdout?.resume();
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  cleanup.after(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });
  return { child, exit, stderr: () => stderr };
}

describe("host lifecycle", () => {
  const cleanup = new Cleanup();
  after(() => cleanup.run());

  it("finishes 50 in-flight slow requests on SIGTERM, loses no reply and exits 0", async () => {
    const server = await natsServer(cleanup);
    const nc = await natsClient(cleanup, server);
    const host = spawnHost(server.url, cleanup);
    await eventually(
      async () => {
        const reply = await send(nc, "fn.probe", { text: "up" }, { timeout: 500 }).catch(() => undefined);
        return reply !== undefined && reply.code === undefined;
      },
      20_000,
      "host up",
    );

    const replies = Array.from({ length: 50 }, (_, i) => send(nc, "fn.probe", { text: `r${i}`, sleepMs: 800 }, { timeout: 15_000 }));
    await eventually(
      async () => {
        const stats = JSON.parse((await nc.request("$SRV.STATS.probe")).string()) as { endpoints: Array<{ data: { in_flight: number } }> };
        return stats.endpoints[0]?.data.in_flight === 50;
      },
      10_000,
      "50 requests in flight",
    );
    host.child.kill("SIGTERM");

    const settled = await Promise.allSettled(replies);
    const texts = settled.map((s) => (s.status === "fulfilled" ? (s.value.body as { text?: string }).text : `lost: ${String(s.reason)}`));
    assert.deepEqual(
      texts,
      Array.from({ length: 50 }, (_, i) => `r${i}`),
    );
    assert.equal(await host.exit, 0, host.stderr());
    // After shutdown nobody answers: new requests are not taken.
    await assert.rejects(send(nc, "fn.probe", { text: "late" }, { timeout: 1000 }));
  });

  it("starts before the server exists, keeps trying, and serves once it is up", async () => {
    const port = await freePort();
    const url = `nats://127.0.0.1:${port}`;
    const host = spawnHost(url, cleanup);
    await eventually(() => host.stderr().includes("NATS not reachable yet, retrying"), 20_000, "a retry log line");
    assert.equal(host.child.exitCode, null, "still running while the server is down");

    const server = await startNatsServer({ port });
    cleanup.after(() => server.stop());
    const nc = await connect({ servers: url });
    cleanup.after(() => nc.close());
    const reply = await eventually(
      async () => {
        const r = await send(nc, "fn.probe", { text: "late server" }, { timeout: 500 }).catch(() => undefined);
        return r !== undefined && r.code === undefined ? r : undefined;
      },
      30_000,
      "the host to register after the server came up",
    );
    assert.deepEqual(reply.body, { text: "late server" });
    host.child.kill("SIGTERM");
    assert.equal(await host.exit, 0);
  });
});
