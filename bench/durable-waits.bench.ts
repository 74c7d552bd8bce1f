/**
 * `npm run bench:waits`: what waking one `ctx.waitForEvent` costs while other invocations of the
 * same function wait, on loopback against a local nats-server. For each count of other open waits
 * (WAITS_BENCH_OPEN, default 0,1000), PROBES probe invocations each wait for their own aggregate;
 * the event for it is published, and the time until the invocation announces its end is measured,
 * with the wait-index keys the event's lookup read.
 */
import { connect } from "@nats-io/transport-node";
import { headers as natsHeaders, type NatsConnection } from "@nats-io/nats-core";
import { jetstream } from "@nats-io/jetstream";
import { configFromEnv } from "../runtime/config.ts";
import { startHost } from "../runtime/host.ts";
import { createLogger } from "../runtime/logger.ts";
import { startNatsServer } from "../runtime/nats-server.ts";
import { newEvent, publishEvent } from "../runtime/events.ts";
import { RunsAdmin } from "../runtime/index.ts";
import { waitIndexStats } from "../runtime/durable/wait-index.ts";

const OPEN = (process.env.WAITS_BENCH_OPEN ?? "0,1000").split(",").map(Number);
const PROBES = Number(process.env.WAITS_BENCH_PROBES ?? 50);
const origin = {
  correlationId: "bench",
  causationId: "bench",
  source: "bench",
  traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
};

/** Starts one waiting invocation for `aggregate`; resolves once its first reply (202) came. */
async function startWait(nc: NatsConnection, id: string, aggregate: string): Promise<void> {
  const h = natsHeaders();
  h.set("Idempotency-Key", id);
  h.set("Nfn-Timeout-Ms", "300");
  await nc.request("fn.durable_sleeper", JSON.stringify({ sleepMs: 0, waitFor: aggregate, waitMs: 600_000 }), {
    timeout: 10_000,
    headers: h,
  });
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function countKeys(admin: RunsAdmin, filter: string): Promise<number> {
  let n = 0;
  for await (const _ of await admin.journal.kv.keys(filter)) n++;
  return n;
}

// The product's default recovery interval (the test fixture's is shorter); set before the fixture is loaded.
process.env.NFN_DURABLE_POLL_MS ??= "1000";
const { durableSleeper } = await import("../test/fixtures/durable-functions.ts");
const server = await startNatsServer();
const host = await startHost([durableSleeper], { config: configFromEnv({ NATS_URL: server.url }), log: createLogger({}, "error") });
const nc = await connect({ servers: server.url });
const js = jetstream(nc);
const admin = await RunsAdmin.open(nc);
const rows: Record<string, string | number>[] = [];
try {
  let opened = 0;
  for (const open of OPEN) {
    // Background waits that never get their event: they only make the function's open index larger.
    const batch: Promise<void>[] = [];
    for (; opened < open; opened++) {
      batch.push(startWait(nc, `bg-${opened}`, `bg-agg-${opened}`));
      if (batch.length >= 64) await Promise.all(batch.splice(0));
    }
    await Promise.all(batch);
    await until(async () => (await countKeys(admin, "wait.durable_sleeper.>")) >= open, `${open} waits in the index`);
    const latencies: number[] = [];
    let keysRead = 0;
    for (let p = 0; p < PROBES; p++) {
      const id = `probe-${open}-${p}`;
      await startWait(nc, id, `probe-agg-${open}-${p}`);
      await until(async () => (await countKeys(admin, `wait.durable_sleeper.*.a.probe-agg-${open}-${p}.>`)) === 1, `${id} in the index`);
      const ended = nc.subscribe(`nfn.runs.ended.durable_sleeper.${id}`, { max: 1 });
      const done = (async () => {
        for await (const _ of ended) return;
      })();
      const before = waitIndexStats.keysRead;
      const t0 = performance.now();
      await publishEvent(js, newEvent("payment.settled", `probe-agg-${open}-${p}`, {}, origin), origin.traceparent);
      await done;
      latencies.push(performance.now() - t0);
      keysRead += waitIndexStats.keysRead - before;
    }
    latencies.sort((a, b) => a - b);
    const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
    rows.push({
      "other open waits": open,
      probes: PROBES,
      "event → ended p50 ms": Number(at(0.5).toFixed(2)),
      "p99 ms": Number(at(0.99).toFixed(2)),
      "index keys read per event": Number((keysRead / PROBES).toFixed(2)),
    });
  }
  console.log(`durable_sleeper waits on loopback, nats-server ${server.url}, Node ${process.version}`);
  console.table(rows);
} finally {
  await nc.close();
  await host.stop(1000);
  await server.stop();
}
