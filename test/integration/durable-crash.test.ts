import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { createInbox, headers, type NatsConnection } from "@nats-io/nats-core";
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
const BATCH = 8;
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

  // How many instances of durable_order answer $SRV.PING within 300 ms.
  async function instances(): Promise<number> {
    const inbox = createInbox();
    const sub = nc.subscribe(inbox);
    let count = 0;
    const counting = (async () => {
      for await (const _ of sub) count++;
    })();
    nc.publish("$SRV.PING.durable_order", "", { reply: inbox });
    await new Promise((r) => setTimeout(r, 300));
    sub.unsubscribe();
    await counting;
    return count;
  }

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
    { timeout: KILLS_PER_BOUNDARY > 2 ? 3_600_000 : 170_000 },
    async () => {
      const ids: string[] = [];
      for (const boundary of BOUNDARIES) {
        // Children start in batches (all crashing at this boundary); each request kills whichever one it reaches.
        for (let done = 0; done < KILLS_PER_BOUNDARY;) {
          const batch = Math.min(BATCH, KILLS_PER_BOUNDARY - done);
          const children = Array.from({ length: batch }, () => serve(boundary));
          let killed = 0;
          for (const child of children) child.once("exit", (_code, signal) => signal === "SIGKILL" && killed++);
          await eventually(async () => (await instances()) >= batch, 60_000, `${batch} children to serve`);
          for (let k = 0; k < batch; k++, done++) {
            const id = `crash-${boundary}-${done}`;
            ids.push(id);
            const h = headers();
            h.set("Idempotency-Key", id);
            await nc
              .request("fn.durable_order", JSON.stringify({ qty: 2, effects: true }), { timeout: 5000, headers: h })
              .catch(() => undefined);
            await eventually(() => killed > k, 10_000, `the child that took ${id} to be killed at boundary ${boundary}`);
          }
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
