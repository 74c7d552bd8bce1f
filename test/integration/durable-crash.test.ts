import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { NatsConnection } from "@nats-io/nats-core";
import { configFromEnv } from "../../runtime/config.ts";
import { startHost } from "../../runtime/host.ts";
import { createLogger } from "../../runtime/logger.ts";
import { RunsAdmin, kvKey } from "../../runtime/index.ts";
import type { LocalNatsServer } from "../../runtime/nats-server.ts";
import { createStateAccess } from "../../runtime/state.ts";
import { Cleanup, eventually, natsClient, natsServer } from "../helpers/nats.ts";
import { EFFECTS_BUCKET, durableFunctions } from "../fixtures/durable-functions.ts";

// Boundaries: 0 = before the first step, n = after step n is journaled, 4 = after the last, before the outcome.
const BOUNDARIES = (process.env.NFN_DURABLE_BOUNDARIES ?? "0,1,2,3,4").split(",").map(Number);
const KILLS_PER_BOUNDARY = Number(process.env.NFN_DURABLE_KILLS ?? 2);
const LEASE_MS = 1_000;
const STEPS = ["price", "reserve", "charge", "confirm"];

describe("durable steps survive kill -9 at every step boundary (resumed by another instance)", () => {
  const hooks = new Cleanup();
  let server: LocalNatsServer;
  let nc: NatsConnection;
  after(() => hooks.run());

  before(async () => {
    server = await natsServer(hooks);
    nc = await natsClient(hooks, server);
  });

  function serve(crashAt: number): ChildProcess {
    const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(new URL("../fixtures/durable-serve.ts", import.meta.url))], {
      env: {
        ...process.env,
        NATS_URL: server.url,
        LOG_LEVEL: "error",
        NFN_DURABLE_CRASH_AT: String(crashAt),
        NFN_DURABLE_LEASE_MS: String(LEASE_MS),
        // The crashing instance must not resume the others' invocations: its recovery waits an hour.
        NFN_DURABLE_POLL_MS: "3600000",
      },
      stdio: ["ignore", "ignore", "ignore"],
    });
    hooks.after(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    });
    return child;
  }

  it(
    `kills the serving process ${KILLS_PER_BOUNDARY}× at each of ${BOUNDARIES.length} boundaries: every invocation ends done, each side effect happened once`,
    { timeout: 170_000 },
    async () => {
      const ids: string[] = [];
      for (const boundary of BOUNDARIES) {
        for (let k = 0; k < KILLS_PER_BOUNDARY; k++) {
          const child = serve(boundary);
          const exited = new Promise((resolve) => child.once("exit", (_code, signal) => resolve(signal)));
          await eventually(
            async () => {
              try {
                await nc.request("$SRV.PING.durable_order", "", { timeout: 500 });
                return true;
              } catch {
                return false;
              }
            },
            30_000,
            "the child to serve",
          );
          const id = `crash-${boundary}-${k}`;
          ids.push(id);
          const { headers } = await import("@nats-io/nats-core");
          const h = headers();
          h.set("Idempotency-Key", id);
          await nc
            .request("fn.durable_order", JSON.stringify({ qty: 2, effects: true }), { timeout: 5000, headers: h })
            .catch(() => undefined);
          assert.equal(await exited, "SIGKILL", `the child was killed at boundary ${boundary}`);
        }
      }
      // Another instance, in this process, takes every invocation over once its lease expires.
      const started = Date.now();
      const host = await startHost(durableFunctions, {
        config: configFromEnv({ NATS_URL: server.url, LOG_LEVEL: "silent" }),
        log: createLogger({}, "silent"),
      });
      hooks.after(() => host.stop(1000));
      const admin = await RunsAdmin.open(nc);
      await eventually(
        async () => {
          const shown = await Promise.all(ids.map((id) => admin.show(id, "durable_order")));
          return shown.every((s) => s.status === "done");
        },
        LEASE_MS + 20_000,
        "every killed invocation to end",
      );
      const recoveryMs = Date.now() - started;
      const effects = await createStateAccess(nc, 1).kv(EFFECTS_BUCKET);
      for (const id of ids) {
        const keys: string[] = [];
        for await (const key of await effects.keys(`*.${kvKey(id)}.>`)) keys.push(key);
        assert.deepEqual(
          keys.sort(),
          STEPS.map((s) => `fx.${kvKey(id)}.${s}`).sort(),
          `${id}: each step's effect exactly once, no duplicate`,
        );
        const shown = await admin.show(id, "durable_order");
        assert.equal(shown.runs, 2, `${id} was run by the killed instance, then resumed once`);
      }
      process.stderr.write(
        `durable crash test: ${ids.length} kills, all done ${recoveryMs} ms after the recovering instance started (lease ${LEASE_MS} ms)\n`,
      );
    },
  );
});
