/**
 * `npm run bench`: the runtime (validation on) against bare @nats-io/services doing the same handler
 * work, at 1, 32 and 256 requests in flight, each side in its own process against one local
 * nats-server. Prints req/s, p50, p99 and the runtime/bare ratios. Then load shedding: a 50 ms
 * function at its in-flight limit of 32 under 400 closed-loop callers, the round trip of a 429
 * beside a successful reply, and the function process's CPU time per 429.
 */
import { spawn } from "node:child_process";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/nats-core";
import { startNatsServer } from "../runtime/nats-server.ts";

const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 4000);
const WARMUP_MS = 1000;
const LEVELS = [1, 32, 256];
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const payload = JSON.stringify({ sku: "AOVE-PICUAL-500ML", quantity: 3 });
const OVERLOAD_CALLERS = 400;

interface Result {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

async function load(nc: NatsConnection, subject: string, inFlight: number, ms: number, body = payload): Promise<Result> {
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + ms;
  const worker = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        const reply = await nc.request(subject, body, { timeout: 5000 });
        if (reply.headers?.get("Nats-Service-Error-Code")) errors++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - t0);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const elapsed = performance.now() - started;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)] ?? 0;
  return { rps: latencies.length / (elapsed / 1000), p50: at(0.5), p99: at(0.99), errors };
}

async function serve(mode: string, url: string, script = "./bench-service.ts"): Promise<() => void> {
  const child = spawn(process.execPath, ["--import", "tsx", new URL(script, import.meta.url).pathname, mode], {
    env: { ...process.env, NATS_URL: url, LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (c: Buffer) => c.toString().includes("ready") && resolve());
    child.once("exit", (code) => reject(new Error(`${mode} service exited with ${code}`)));
  });
  return () => child.kill("SIGKILL");
}

const server = await startNatsServer();
const nc = await connect({ servers: server.url, noAsyncTraces: true });
// Every round's result per side and level; the table shows the median round (by throughput).
const results = new Map<string, Result[]>();
try {
  for (let round = 1; round <= ROUNDS; round++) {
    // Alternate which side goes first, so neither always runs on a warmer machine.
    const order = round % 2 === 1 ? ["bare", "runtime"] : ["runtime", "bare"];
    for (const mode of order) {
      const stop = await serve(mode, server.url);
      const subject = `bench.bench_${mode}`;
      try {
        for (const inFlight of LEVELS) {
          await load(nc, subject, inFlight, WARMUP_MS);
          const r = await load(nc, subject, inFlight, DURATION_MS);
          process.stderr.write(
            `round ${round} ${mode.padEnd(7)} in-flight ${String(inFlight).padStart(3)}: ${Math.round(r.rps)} req/s, p50 ${r.p50.toFixed(3)} ms, p99 ${r.p99.toFixed(3)} ms, errors ${r.errors}\n`,
          );
          const key = `${mode}:${inFlight}`;
          results.set(key, [...(results.get(key) ?? []), r]);
        }
      } finally {
        stop();
      }
    }
  }
  // The real check_inventory: two lines, the catalog in KV, read from the function's local view.
  await checkInventoryRounds(nc, server.url);
} finally {
  await nc.close();
  await server.stop();
}

const overload = await measureOverload();

const row = (cells: string[]) => `| ${cells.join(" | ")} |`;
const median = (key: string): Result | undefined => {
  const rounds = [...(results.get(key) ?? [])].sort((a, b) => a.rps - b.rps);
  return rounds[Math.floor(rounds.length / 2)];
};
console.log(`\nMedian of ${ROUNDS} rounds, ${DURATION_MS / 1000} s each, ${payload.length}-byte request, one local nats-server:\n`);
console.log(
  row(["in flight", "bare req/s", "nfn req/s", "throughput ratio", "bare p50 ms", "nfn p50 ms", "bare p99 ms", "nfn p99 ms", "p99 ratio"]),
);
console.log(row(Array(9).fill("---")));
for (const inFlight of LEVELS) {
  const bare = median(`bare:${inFlight}`);
  const nfn = median(`runtime:${inFlight}`);
  if (!bare || !nfn) continue;
  console.log(
    row([
      String(inFlight),
      String(Math.round(bare.rps)),
      String(Math.round(nfn.rps)),
      `${(nfn.rps / bare.rps).toFixed(2)}×`,
      bare.p50.toFixed(3),
      nfn.p50.toFixed(3),
      bare.p99.toFixed(3),
      nfn.p99.toFixed(3),
      `${(nfn.p99 / bare.p99).toFixed(2)}×`,
    ]),
  );
}

// ---- check_inventory from a local view, beside the in-memory variant and bare micro (same run) ----

async function checkInventoryRounds(client: NatsConnection, url: string): Promise<void> {
  const { Kvm } = await import("@nats-io/kv");
  const { jetstream } = await import("@nats-io/jetstream");
  const inventory = await new Kvm(jetstream(client)).create("inventory");
  for (const [sku, priceCents] of [
    ["AOVE-PICUAL-500ML", 1250],
    ["MIEL-AZAHAR-1KG", 900],
  ] as const) {
    const rec = { sku, name: sku, priceCents, currency: "EUR", onHand: 1000, reserved: 0, sold: 0, marks: [], updatedAt: "" };
    await inventory.put(sku, JSON.stringify(rec));
  }
  const body = JSON.stringify({
    items: [
      { sku: "AOVE-PICUAL-500ML", quantity: 3 },
      { sku: "MIEL-AZAHAR-1KG", quantity: 1 },
    ],
  });
  for (let round = 1; round <= ROUNDS; round++) {
    const stop = await serve("check", url, "./check-inventory-service.ts");
    try {
      for (const inFlight of LEVELS) {
        await load(client, "bench.check_inventory", inFlight, WARMUP_MS, body);
        const r = await load(client, "bench.check_inventory", inFlight, DURATION_MS, body);
        process.stderr.write(
          `round ${round} check   in-flight ${String(inFlight).padStart(3)}: ${Math.round(r.rps)} req/s, p50 ${r.p50.toFixed(3)} ms, p99 ${r.p99.toFixed(3)} ms, errors ${r.errors}\n`,
        );
        const key = `check:${inFlight}`;
        results.set(key, [...(results.get(key) ?? []), r]);
      }
    } finally {
      stop();
    }
  }
}

console.log(`\ncheck_inventory (2 lines, catalog in KV, local view) against the in-memory nfn variant and bare micro:\n`);
console.log(
  row(["in flight", "bare req/s", "nfn in-memory req/s", "check_inventory req/s", "vs bare", "check p50 ms", "check p99 ms", "errors"]),
);
console.log(row(Array(8).fill("---")));
for (const inFlight of LEVELS) {
  const bare = median(`bare:${inFlight}`);
  const nfn = median(`runtime:${inFlight}`);
  const check = median(`check:${inFlight}`);
  if (!bare || !nfn || !check) continue;
  console.log(
    row([
      String(inFlight),
      String(Math.round(bare.rps)),
      String(Math.round(nfn.rps)),
      String(Math.round(check.rps)),
      `${(check.rps / bare.rps).toFixed(2)}×`,
      check.p50.toFixed(3),
      check.p99.toFixed(3),
      String(check.errors),
    ]),
  );
}

console.log(
  `\nLoad shedding: bench_slow (50 ms handler, maxInFlight 32), ${OVERLOAD_CALLERS} callers in a closed loop for ${DURATION_MS / 1000} s:\n`,
);
console.log(row(["reply", "req/s", "p50 ms", "p99 ms"]));
console.log(row(Array(4).fill("---")));
for (const [name, r] of [
  ["200 (served)", overload.ok],
  ["429 (shed)", overload.shed],
] as const) {
  console.log(row([name, String(Math.round(r.rps)), r.p50.toFixed(3), r.p99.toFixed(3)]));
}
console.log(
  `\nCPU of the function process per 429: ${overload.cpuPer429.toFixed(2)} µs (process.cpuUsage over ${overload.rejected} rejected requests, all slots held);` +
    ` a bare subscription of the same process answering the same bytes: ${overload.floorCpu.toFixed(2)} µs per reply (the NATS client's own receive and send)`,
);

interface Split {
  rps: number;
  p50: number;
  p99: number;
}

/** Runs the overload side: the CPU per 429 with every slot held, then the mixed closed loop. */
async function measureOverload(): Promise<{ ok: Split; shed: Split; cpuPer429: number; rejected: number; floorCpu: number }> {
  const srv = await startNatsServer();
  const client = await connect({ servers: srv.url, noAsyncTraces: true });
  const stop = await serve("overload", srv.url);
  try {
    const cpu = async () => (await client.request("bench.control", "cpu", { timeout: 5000 })).json<{ cpuMicros: number }>().cpuMicros;
    // Every slot held, so each further request is a 429 and the process's CPU time is theirs alone.
    const holds = Array.from({ length: 32 }, () =>
      client.request("bench.bench_slow", JSON.stringify({ sku: "AOVE-PICUAL-500ML", quantity: 3, hold: true }), { timeout: 120_000 }),
    );
    await waitForInFlight(client, 32);
    await closedLoop(client, OVERLOAD_CALLERS, WARMUP_MS); // warm-up: JIT the 429 path
    const before = await cpu();
    const run = await closedLoop(client, OVERLOAD_CALLERS, DURATION_MS);
    const after = await cpu();
    // The same measure against the floor subscription, for comparison.
    await closedLoop(client, OVERLOAD_CALLERS, WARMUP_MS, "bench.floor");
    const floorBefore = await cpu();
    const floor = await closedLoop(client, OVERLOAD_CALLERS, DURATION_MS, "bench.floor");
    const floorAfter = await cpu();
    const floorCpu = (floorAfter - floorBefore) / Math.max(1, floor.shed.length);
    await client.request("bench.control", "release", { timeout: 5000 });
    await Promise.allSettled(holds);
    if (run.ok.length > 0) process.stderr.write(`overload: ${run.ok.length} requests were served while every slot was held\n`);
    const rejected = run.shed.length;
    process.stderr.write(`overload: ${rejected} rejected with every slot held, ${after - before} µs of CPU in the function process\n`);
    const mixed = await closedLoop(client, OVERLOAD_CALLERS, DURATION_MS);
    const seconds = DURATION_MS / 1000;
    const split = (xs: number[]): Split => {
      xs.sort((a, b) => a - b);
      const at = (q: number) => xs[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)] ?? 0;
      return { rps: xs.length / seconds, p50: at(0.5), p99: at(0.99) };
    };
    const ok = split(mixed.ok);
    const shed = split(mixed.shed);
    process.stderr.write(
      `overload mixed: ${Math.round(ok.rps)} served/s p50 ${ok.p50.toFixed(3)} ms; ${Math.round(shed.rps)} shed/s p50 ${shed.p50.toFixed(3)} ms p99 ${shed.p99.toFixed(3)} ms; errors ${mixed.errors}\n`,
    );
    return { ok, shed, cpuPer429: rejected === 0 ? Number.NaN : (after - before) / rejected, rejected, floorCpu };
  } finally {
    stop();
    await client.close();
    await srv.stop();
  }
}

/** `callers` loops sending the 40-byte request for `ms`; round trips split by served and shed. */
async function closedLoop(
  client: NatsConnection,
  callers: number,
  ms: number,
  subject = "bench.bench_slow",
): Promise<{ ok: number[]; shed: number[]; errors: number }> {
  const ok: number[] = [];
  const shed: number[] = [];
  let errors = 0;
  const end = performance.now() + ms;
  const caller = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        const reply = await client.request(subject, payload, { timeout: 10_000 });
        const code = reply.headers?.get("Nats-Service-Error-Code");
        if (!code) ok.push(performance.now() - t0);
        else if (code === "429") shed.push(performance.now() - t0);
        else errors++;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: callers }, caller));
  return { ok, shed, errors };
}

async function waitForInFlight(client: NatsConnection, n: number): Promise<void> {
  const end = Date.now() + 10_000;
  for (;;) {
    const stats = (await client.request("$SRV.STATS.bench_slow", "", { timeout: 5000 })).json<{
      endpoints: Array<{ data: { in_flight: number } }>;
    }>();
    if ((stats.endpoints[0]?.data.in_flight ?? 0) >= n) return;
    if (Date.now() > end) throw new Error(`bench_slow never reached ${n} requests in flight`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
