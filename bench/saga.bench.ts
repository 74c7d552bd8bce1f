/**
 * `npm run bench:saga`: latency of the whole create_order saga (token check, pricing, pending,
 * reserve, pay, commit, confirmed, with every KV write and event) on loopback against a local
 * nats-server with JetStream's default fsync, one order in flight and then SAGA_BENCH_CONCURRENCY
 * at once. Prints a table with NATS publishes, journal writes and journal bytes per order.
 */
import { connect } from "@nats-io/transport-node";
import { headers as natsHeaders, type NatsConnection } from "@nats-io/nats-core";
import { jetstreamManager } from "@nats-io/jetstream";
import { configFromEnv } from "../runtime/config.ts";
import { startHost } from "../runtime/host.ts";
import { createLogger } from "../runtime/logger.ts";
import { startNatsServer } from "../runtime/nats-server.ts";
import { mintToken } from "../test/helpers/tokens.ts";
import { marketplaceFunctions } from "../test/fixtures/marketplace-functions.ts";
import { RunsAdmin } from "../runtime/index.ts";

const ORDERS = Number(process.env.SAGA_BENCH_ORDERS ?? 1000);
const WARMUP = Number(process.env.SAGA_BENCH_WARMUP ?? 200);
const CONCURRENCY = Number(process.env.SAGA_BENCH_CONCURRENCY ?? 16);
const SECRET = "nfn-bench-secret-0123456789abcdef-0123456789";

interface Row {
  mode: string;
  orders: number;
  /** Messages published by the client and the host (requests, replies, KV writes, events, acks) per order. */
  publishes: number;
  /** Writes to the durable journal per order: every put or create (its stream's sequence) and the open record's removal. */
  journalWrites: number;
  /** Bytes the journal keeps per order once it ended (steps and outcome; the open record is gone). */
  journalBytes: number;
  perSecond: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

// An hour: longer than any run of the bench.
const token = (sub: string, scope: string): Promise<string> => mintToken({ sub, scope, expiresInSec: 3600, secret: SECRET });

async function request(nc: NatsConnection, fn: string, body: unknown, bearer: string): Promise<unknown> {
  const h = natsHeaders();
  h.set("Authorization", `Bearer ${bearer}`);
  const msg = await nc.request(`fn.${fn}`, JSON.stringify(body), { timeout: 30_000, headers: h });
  const code = msg.headers?.get("Nats-Service-Error-Code");
  if (code) throw new Error(`${fn} failed with ${code}: ${msg.headers?.get("Nats-Service-Error")}`);
  return JSON.parse(msg.string()) as unknown;
}

async function run(nc: NatsConnection, customer: string, count: number, inFlight: number, mode: string, ids: string[] = []): Promise<Row> {
  const latencies: number[] = [];
  let next = 0;
  const outBefore = nc.stats().outMsgs + host.nc.stats().outMsgs;
  const journalBefore = await journalState();
  const started = performance.now();
  const worker = async () => {
    for (let i = next++; i < count; i = next++) {
      const t0 = performance.now();
      const order = (await request(
        nc,
        "create_order",
        { items: [{ sku: `bench-${i % 4}`, quantity: 1 }], paymentMethod: "pm_card_visa" },
        customer,
      )) as { status: string; orderId: string };
      latencies.push(performance.now() - t0);
      ids.push(order.orderId);
      if (order.status !== "confirmed") throw new Error(`order ${i} is ${order.status}, expected confirmed`);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const elapsed = performance.now() - started;
  const publishes = (nc.stats().outMsgs + host.nc.stats().outMsgs - outBefore) / count;
  // The open record's removal is not awaited by the reply: let the last ones land before reading the stream.
  await new Promise((r) => setTimeout(r, 300));
  const journalAfter = await journalState();
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  return {
    mode,
    orders: count,
    publishes,
    // Each order also removes its open record (a delete by sequence, which adds no sequence).
    journalWrites: (journalAfter.lastSeq - journalBefore.lastSeq) / count + 1,
    journalBytes: (journalAfter.bytes - journalBefore.bytes) / count,
    perSecond: (count / elapsed) * 1000,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: latencies.at(-1) ?? Number.NaN,
  };
}

/**
 * Median time per part of an order, from what the journal records: each step's own duration, the
 * gaps between steps (journaling the previous step's record), the start (the open record and the
 * handler reaching its first step) and the end (order record and event, then the outcome record).
 */
async function profile(ids: string[]): Promise<Record<string, string>> {
  const admin = await RunsAdmin.open(nc);
  const parts = new Map<string, number[]>();
  const add = (name: string, ms: number) => parts.set(name, [...(parts.get(name) ?? []), ms]);
  for (const id of ids) {
    const run = await admin.show(id, "create_order");
    let at = run.createdAt;
    add("open record → first step", (run.steps[0]?.startedAt ?? at) - at);
    for (const [i, step] of run.steps.entries()) {
      if (i > 0) add("journal write of the step before", step.startedAt - at);
      add(`step ${step.name}`, step.ms);
      at = step.startedAt + step.ms;
    }
    if (run.endedAt !== undefined) add("last step → outcome recorded (settle + final)", run.endedAt - at);
    if (run.endedAt !== undefined) add("total inside the instance", run.endedAt - run.createdAt);
  }
  const out: Record<string, string> = {};
  for (const [name, values] of parts) {
    values.sort((a, b) => a - b);
    out[name] = (values[Math.floor(values.length / 2)] ?? 0).toFixed(2);
  }
  return out;
}

/** Median latency of each sequential part of an order, measured alone: what an order's p50 is made of. */
async function parts(bearer: string): Promise<Record<string, string>> {
  const kv = await host.state.kv("bench_scratch");
  const median = async (n: number, work: (i: number) => Promise<unknown>): Promise<string> => {
    const ms: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await work(i);
      ms.push(performance.now() - t0);
    }
    ms.sort((a, b) => a - b);
    return (ms[Math.floor(n / 2)] ?? 0).toFixed(2);
  };
  const tag = Date.now().toString(36);
  const item = [{ sku: "bench-0", quantity: 1 }];
  return {
    "KV create (a journal write)": await median(200, (i) =>
      kv.create(`w.${tag}.${i}`, JSON.stringify({ v: 1, n: i, pad: "x".repeat(300) })),
    ),
    check_inventory: await median(200, () => request(nc, "check_inventory", { items: item }, bearer)),
    reserve_stock: await median(200, (i) => request(nc, "reserve_stock", { orderId: `p-${tag}-${i}`, items: item }, bearer)),
    process_payment: await median(200, (i) =>
      request(nc, "process_payment", { orderId: `p-${tag}-${i}`, amountCents: 1000, currency: "EUR", method: "pm_card_visa" }, bearer),
    ),
    commit_stock: await median(200, (i) => request(nc, "commit_stock", { orderId: `p-${tag}-${i}` }, bearer)),
  };
}

async function journalState(): Promise<{ lastSeq: number; bytes: number }> {
  const info = await (await jetstreamManager(nc)).streams.info("KV_durable_runs");
  return { lastSeq: info.state.last_seq, bytes: info.state.bytes };
}

const server = await startNatsServer();
process.env.AUTH_JWT_SECRET = SECRET;
const host = await startHost(marketplaceFunctions, { config: configFromEnv({ NATS_URL: server.url }), log: createLogger({}, "error") });
const nc = await connect({ servers: server.url });
try {
  const [admin, customer] = await Promise.all([token("admin-1", "inventory:admin"), token("customer-1", "orders:write")]);
  for (let i = 0; i < 4; i++)
    await request(nc, "put_product", { sku: `bench-${i}`, name: `Bench ${i}`, priceCents: 1000 + i, onHand: 1_000_000 }, admin);
  await run(nc, customer, WARMUP, 1, "warmup");
  const serial: string[] = [];
  const rows = [
    await run(nc, customer, ORDERS, 1, "1 in flight", serial),
    await run(nc, customer, ORDERS, CONCURRENCY, `${CONCURRENCY} in flight`),
  ];
  console.log(
    `create_order saga on loopback (nats-server ${server.url}, Node ${process.version}, ${ORDERS} orders per row after ${WARMUP} warm-up)`,
  );
  console.table(
    rows.map((r) => ({
      mode: r.mode,
      orders: r.orders,
      "orders/s": Math.round(r.perSecond),
      "p50 ms": r.p50.toFixed(2),
      "p90 ms": r.p90.toFixed(2),
      "p99 ms": r.p99.toFixed(2),
      "max ms": r.max.toFixed(2),
      "publishes/order": r.publishes.toFixed(1),
      "journal writes/order": r.journalWrites.toFixed(1),
      "journal bytes/order": Math.round(r.journalBytes),
    })),
  );
  console.log("where the time of one order goes (1 in flight, medians from the journal's own timings, ms):");
  console.table(await profile(serial.slice(0, 200)));
  console.log("one round trip of each kind on its own (median of 200, sequential, ms):");
  console.table(await parts(admin));
} finally {
  await nc.close();
  await host.stop(2000);
  await server.stop();
}
