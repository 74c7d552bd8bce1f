/**
 * `npm run bench:flash`: a flash sale on one sku. One product with FLASH_UNITS units; FLASH_RESERVATIONS
 * reservations of one unit each (distinct orderIds) by FLASH_CONCURRENCY callers at once, against one
 * instance and then three (each a process serving the marketplace functions). Prints, per row, the
 * rate of the first and the last 10% of reservations, p50/p99/max latency, errors by code, the sku
 * record's size at the end and the oversold units.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { connect } from "@nats-io/transport-node";
import { headers as natsHeaders, type NatsConnection } from "@nats-io/nats-core";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { startNatsServer } from "../runtime/nats-server.ts";
import { mintToken } from "../test/helpers/tokens.ts";

const UNITS = Number(process.env.FLASH_UNITS ?? 1_000_000);
const RESERVATIONS = Number(process.env.FLASH_RESERVATIONS ?? 100_000);
const CONCURRENCY = Number(process.env.FLASH_CONCURRENCY ?? 256);
const INSTANCES = (process.env.FLASH_INSTANCES ?? "1,3").split(",").map(Number);
const TIMEOUT_MS = 10_000;
// Enough for the instances' JIT to settle: the rows measure the steady state, not the first compile.
const WARMUP = 2000;
const SECRET = "nfn-bench-secret-0123456789abcdef-0123456789";
const SERVE = fileURLToPath(new URL("../test/fixtures/marketplace-serve.ts", import.meta.url));

// An hour: longer than any run of the bench.
const token = (sub: string, scope: string): Promise<string> => mintToken({ sub, scope, expiresInSec: 3600, secret: SECRET });

/** One instance: a process serving the marketplace; resolves once its functions answer. */
function startInstance(url: string): ChildProcess {
  // FLASH_NODE_ARGS: extra node flags for the instances, such as --cpu-prof.
  const extra = (process.env.FLASH_NODE_ARGS ?? "").split(" ").filter(Boolean);
  return spawn(process.execPath, [...extra, "--import", "tsx", SERVE], {
    env: { ...process.env, NATS_URL: url, AUTH_JWT_SECRET: SECRET, LOG_LEVEL: "error" },
    stdio: ["ignore", "ignore", "inherit"],
  });
}

async function waitForInstances(nc: NatsConnection, count: number): Promise<void> {
  const end = Date.now() + 60_000;
  for (;;) {
    const inbox = `_INBOX.flash.${Math.random().toString(36).slice(2)}`;
    const seen = new Set<string>();
    const sub = nc.subscribe(inbox);
    nc.publish("$SRV.PING.reserve_stock", "", { reply: inbox });
    const timer = setTimeout(() => sub.unsubscribe(), 500);
    for await (const m of sub) if (m.data.length > 0) seen.add(m.json<{ id: string }>().id);
    clearTimeout(timer);
    if (seen.size >= count) return;
    if (Date.now() > end) throw new Error(`only ${seen.size} of ${count} instances answered`);
  }
}

/** The inventory bucket's keyed counters, summed over every reserve_stock instance (STATS `data.keyed`). */
interface Counters {
  updates: number;
  writes: number;
  conflicts: number;
  reads: number;
}

async function skuCounters(nc: NatsConnection): Promise<Counters> {
  const inbox = `_INBOX.flash.${Math.random().toString(36).slice(2)}`;
  const sum: Counters = { updates: 0, writes: 0, conflicts: 0, reads: 0 };
  const sub = nc.subscribe(inbox);
  nc.publish("$SRV.STATS.reserve_stock", "", { reply: inbox });
  const timer = setTimeout(() => sub.unsubscribe(), 500);
  for await (const m of sub) {
    const stats = m.json<{ endpoints?: Array<{ data?: { keyed?: Record<string, Partial<Counters>> } }> }>();
    const c = stats.endpoints?.[0]?.data?.keyed?.inventory;
    for (const k of ["updates", "writes", "conflicts", "reads"] as const) sum[k] += c?.[k] ?? 0;
  }
  clearTimeout(timer);
  return sum;
}

interface Result {
  instances: number;
  firstRate: number;
  lastRate: number;
  p50: number;
  p99: number;
  max: number;
  errors: Record<string, number>;
  recordBytes: number;
  oversold: number;
  reservedOk: number;
  reservedInRecord: number;
  sku: Counters;
}

async function flash(nc: NatsConnection, sku: string, instances: number): Promise<Result> {
  const latencies: number[] = [];
  const doneAt: number[] = [];
  const errors: Record<string, number> = {};
  let next = 0;
  let ok = 0;
  const before = await skuCounters(nc);
  const started = performance.now();
  const worker = async () => {
    for (let i = next++; i < RESERVATIONS; i = next++) {
      const t0 = performance.now();
      try {
        const msg = await nc.request("fn.reserve_stock", JSON.stringify({ orderId: `flash-${sku}-${i}`, items: [{ sku, quantity: 1 }] }), {
          timeout: TIMEOUT_MS,
        });
        const code = msg.headers?.get("Nats-Service-Error-Code");
        if (code) errors[code] = (errors[code] ?? 0) + 1;
        else ok++;
      } catch (err) {
        const name = err instanceof Error ? err.name : "error";
        errors[name] = (errors[name] ?? 0) + 1;
      }
      const t1 = performance.now();
      latencies.push(t1 - t0);
      doneAt.push(t1 - started);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  latencies.sort((a, b) => a - b);
  doneAt.sort((a, b) => a - b);
  const tenth = Math.max(1, Math.floor(RESERVATIONS / 10));
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  const firstRate = (tenth / (doneAt[tenth - 1] ?? 1)) * 1000;
  const lastRate = (tenth / ((doneAt.at(-1) ?? 0) - (doneAt[doneAt.length - tenth - 1] ?? 0))) * 1000;
  const afterCounters = await skuCounters(nc);
  const kv = await new Kvm(jetstream(nc)).open("inventory");
  // The marks of the last reservations are forgotten just after their replies: the record once settled.
  let entry = await kv.get(sku);
  for (let end = Date.now() + 5000; Date.now() < end && (entry?.json<{ marks?: unknown[] }>().marks?.length ?? 0) > 0;) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    entry = await kv.get(sku);
  }
  const rec = entry?.json<{ onHand: number; reserved: number }>();
  return {
    instances,
    firstRate,
    lastRate,
    p50: at(0.5),
    p99: at(0.99),
    max: latencies.at(-1) ?? Number.NaN,
    errors,
    recordBytes: entry?.length ?? 0,
    oversold: Math.max(0, (rec?.reserved ?? 0) - (rec?.onHand ?? 0)),
    reservedOk: ok,
    // The warm-up reservations are open too.
    reservedInRecord: (rec?.reserved ?? 0) - WARMUP,
    sku: {
      updates: afterCounters.updates - before.updates,
      writes: afterCounters.writes - before.writes,
      conflicts: afterCounters.conflicts - before.conflicts,
      reads: afterCounters.reads - before.reads,
    },
  };
}

const server = await startNatsServer();
// The load generator shares the cores with the instances: no stack trace captured per request.
const nc = await connect({ servers: server.url, noAsyncTraces: true });
const children: ChildProcess[] = [];
const rows: Result[] = [];
try {
  const admin = await token("admin-1", "inventory:admin");
  for (const count of INSTANCES) {
    while (children.length < count) children.push(startInstance(server.url));
    await waitForInstances(nc, count);
    const sku = `flash-${count}`;
    const h = natsHeaders();
    h.set("Authorization", `Bearer ${admin}`);
    await nc.request("fn.put_product", JSON.stringify({ sku, name: "Flash sale", priceCents: 999, onHand: UNITS }), {
      timeout: 10_000,
      headers: h,
    });
    // A short warm-up, so the first row does not measure bucket creation and JIT.
    let warm = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let i = warm++; i < WARMUP; i = warm++) {
          await nc.request("fn.reserve_stock", JSON.stringify({ orderId: `warm-${sku}-${i}`, items: [{ sku: `${sku}`, quantity: 1 }] }), {
            timeout: TIMEOUT_MS,
          });
        }
      }),
    );
    rows.push(await flash(nc, sku, count));
  }
  console.log(
    `flash sale: ${RESERVATIONS} reservations of 1 unit on one sku with ${UNITS} units, ${CONCURRENCY} callers (nats-server ${server.url}, Node ${process.version})`,
  );
  console.table(
    rows.map((r) => ({
      instances: r.instances,
      "first 10% /s": Math.round(r.firstRate),
      "last 10% /s": Math.round(r.lastRate),
      "p50 ms": r.p50.toFixed(1),
      "p99 ms": r.p99.toFixed(1),
      "max ms": r.max.toFixed(1),
      errors: JSON.stringify(r.errors),
      "record bytes": r.recordBytes,
      "reserved ok": r.reservedOk,
      "reserved in record": r.reservedInRecord,
      oversold: r.oversold,
    })),
  );
  // How the one sku's record was written: updates per write (the coalescing), races lost to another instance.
  console.table(
    rows.map((r) => ({
      instances: r.instances,
      "sku updates": r.sku.updates,
      "sku writes": r.sku.writes,
      "updates per write": (r.sku.updates / Math.max(1, r.sku.writes)).toFixed(1),
      "lost races": r.sku.conflicts,
      "lost per write": (r.sku.conflicts / Math.max(1, r.sku.writes)).toFixed(2),
      "sku reads": r.sku.reads,
    })),
  );
} finally {
  await nc.close();
  for (const child of children) child.kill("SIGTERM");
  await Promise.all(children.map((c) => new Promise((resolve) => (c.exitCode !== null ? resolve(undefined) : c.once("exit", resolve)))));
  await server.stop();
}
