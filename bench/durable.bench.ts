/**
 * `npm run bench:durable`: latency of the example 4-step durable function (price, reserve, charge,
 * confirm, each journaled) on loopback against a local nats-server with JetStream's default fsync,
 * one invocation in flight and then DURABLE_BENCH_CONCURRENCY at once; plus journal writes and
 * bytes per invocation, read from the journal's own stream.
 */
import { connect } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { configFromEnv } from "../runtime/config.ts";
import { startHost } from "../runtime/host.ts";
import { createLogger } from "../runtime/logger.ts";
import { startNatsServer } from "../runtime/nats-server.ts";
import { durableOrder } from "../test/fixtures/durable-functions.ts";

const COUNT = Number(process.env.DURABLE_BENCH_INVOCATIONS ?? 1000);
const WARMUP = Number(process.env.DURABLE_BENCH_WARMUP ?? 200);
const CONCURRENCY = Number(process.env.DURABLE_BENCH_CONCURRENCY ?? 16);
const STREAM = "KV_durable_runs";

async function run(nc: NatsConnection, count: number, inFlight: number) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const t0 = performance.now();
      const msg = await nc.request("fn.durable_order", JSON.stringify({ qty: 1 + (i % 10) }), { timeout: 30_000 });
      latencies.push(performance.now() - t0);
      const code = msg.headers?.get("Nats-Service-Error-Code");
      if (code) throw new Error(`durable_order failed with ${code}: ${msg.headers?.get("Nats-Service-Error")}`);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const elapsed = performance.now() - started;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  return { perSecond: (count / elapsed) * 1000, p50: at(0.5), p90: at(0.9), p99: at(0.99) };
}

const server = await startNatsServer();
const host = await startHost([durableOrder], { config: configFromEnv({ NATS_URL: server.url }), log: createLogger({}, "error") });
const nc = await connect({ servers: server.url });
try {
  const jsm = await jetstreamManager(nc);
  await run(nc, WARMUP, 1);
  // Let the last open-index removals land before reading the stream.
  await new Promise((r) => setTimeout(r, 200));
  const before = (await jsm.streams.info(STREAM)).state;
  const one = await run(nc, COUNT, 1);
  await new Promise((r) => setTimeout(r, 200));
  const after = (await jsm.streams.info(STREAM)).state;
  const many = await run(nc, COUNT, CONCURRENCY);
  // Every put advances the stream's last sequence; each invocation also removes its open-index entry (one delete).
  const writes = (after.last_seq - before.last_seq) / COUNT + 1;
  const bytes = (after.bytes - before.bytes) / COUNT;
  console.log(
    `durable_order (4 journaled steps) on loopback, nats-server ${server.url}, Node ${process.version}, ${COUNT} invocations per row after ${WARMUP} warm-up`,
  );
  console.table(
    [
      { mode: "1 in flight", r: one },
      { mode: `${CONCURRENCY} in flight`, r: many },
    ].map(({ mode, r }) => ({
      mode,
      "invocations/s": Math.round(r.perSecond),
      "p50 ms": r.p50.toFixed(2),
      "p90 ms": r.p90.toFixed(2),
      "p99 ms": r.p99.toFixed(2),
    })),
  );
  console.log(
    `journal writes per invocation: ${writes.toFixed(2)} (open, 4 steps, outcome, open removed); journal bytes kept per invocation: ${Math.round(bytes)}`,
  );
} finally {
  await nc.close();
  await host.stop(2000);
  await server.stop();
}
