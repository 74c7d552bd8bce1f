/**
 * `npm run bench`: the runtime (validation on) against bare @nats-io/services doing the same handler
 * work, at 1, 32 and 256 requests in flight, each side in its own process against one local
 * nats-server. Prints req/s, p50, p99 and the runtime/bare ratios.
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
