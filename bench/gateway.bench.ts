/**
 * `npm run bench:gateway`: the same function (check_inventory, two lines, catalog loaded) called
 * (a) directly over NATS with the project's client at C in flight and (b) through the HTTP gateway
 * with C keep-alive connections (autocannon, its own process), interleaved, for C = 16, 64, 256.
 * The functions and the gateway each run in their own process; the gateway's CPU time per request
 * is read from /proc/<pid>/stat. Prints req/s, p50, p99, max, errors, the ratios and the load average.
 * When `wrk` is on PATH (Debian package wrk; it is not on npm) the gateway is also driven by it, a
 * load generator in C that needs a fraction of autocannon's CPU, in a second table: on two cores
 * the load generator's CPU is taken from the gateway, so the two rows show how much it skews the ratio.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/nats-core";
import { callFunction, requestWithRetry, replyErrorCode } from "../runtime/client/index.ts";
import { startNatsServer } from "../runtime/nats-server.ts";
import { mintToken } from "../cli/lib/tokens.ts";
import { readDemoCatalog } from "../cli/lib/demo-catalog.ts";

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 5);
const WARMUP_S = 1;
const LEVELS = (process.env.BENCH_LEVELS ?? "16,64,256").split(",").map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
// BENCH_FLOOR=1 adds a run against bench/gateway-floor.ts: node:http relaying to NATS with nothing else.
const FLOOR = process.env.BENCH_FLOOR === "1";
const SECRET = "nfn-bench-secret-0123456789abcdef-0123456789";
const TICKS_PER_S = 100; // USER_HZ on Linux

interface Result {
  rps: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  /** CPU per request in µs of the load generator: this process (direct), autocannon or wrk (gateway). */
  clientUs: number;
  /** Gateway CPU per request in µs, user + system, and the system part (gateway side only). */
  cpuUs?: number;
  sysUs?: number;
  /** The gateway's event-loop delay during the run (its /metrics), ms. */
  loopP99Ms?: number;
  loopMaxMs?: number;
}

function spawnSide(mode: string, env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; detail: string }> {
  // BENCH_PROFILE=<dir> writes a CPU profile of the gateway there (node --cpu-prof), for finding where its time goes.
  const prof = mode === "gateway" && process.env.BENCH_PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
  const child = spawn(process.execPath, [...prof, "--import", "tsx", new URL("./gateway-bench-side.ts", import.meta.url).pathname, mode], {
    env: { ...process.env, ...env, LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (c: Buffer) => {
      out += c.toString();
      const m = /ready (\S+)/.exec(out);
      if (m) resolve({ child, detail: m[1] ?? "" });
    });
    child.once("exit", (code) => reject(new Error(`${mode} exited with ${code}`)));
  });
}

/** User and system CPU ticks of a process so far. */
function cpuTicks(pid: number): { user: number; sys: number } {
  // Fields after the parenthesised command: utime and stime are the 12th and 13th.
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { user: Number(fields[11]), sys: Number(fields[12]) };
}

async function direct(nc: NatsConnection, body: string, inFlight: number, seconds: number): Promise<Result> {
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        const reply = await requestWithRetry(nc, {
          subject: "fn.check_inventory",
          fn: "check_inventory",
          body,
          deadline: Date.now() + 5500,
        });
        if (replyErrorCode(reply)) errors++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - t0);
    }
  };
  const started = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const elapsed = performance.now() - started;
  const used = process.cpuUsage(cpu);
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)] ?? 0;
  return {
    rps: latencies.length / (elapsed / 1000),
    p50: at(0.5),
    p99: at(0.99),
    max: at(1),
    errors,
    clientUs: latencies.length > 0 ? (used.user + used.system) / latencies.length : 0,
  };
}

async function viaGateway(url: string, gatewayPid: number, body: string, connections: number, seconds: number): Promise<Result> {
  const args = [
    new URL("../node_modules/autocannon/autocannon.js", import.meta.url).pathname,
    "-c",
    String(connections),
    "-d",
    String(seconds),
    "-m",
    "POST",
    "-H",
    "content-type=application/json",
    "-b",
    body,
    "-j",
    `${url}/fn/check_inventory`,
  ];
  await loopDelay(url); // a scrape resets the gateway's event-loop histogram: what the next one reads is this run
  const before = cpuTicks(gatewayPid);
  const childrenBefore = reapedChildrenTicks();
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  const after = cpuTicks(gatewayPid);
  const autocannonTicks = reapedChildrenTicks() - childrenBefore;
  const delay = await loopDelay(url);
  if (code !== 0) throw new Error(`autocannon exited with ${code}`);
  const r = JSON.parse(out) as {
    requests: { total: number };
    duration: number;
    latency: { p50: number; p99: number; max: number };
    errors: number;
    timeouts: number;
    non2xx: number;
  };
  return {
    rps: r.requests.total / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    max: r.latency.max,
    errors: r.errors + r.timeouts + r.non2xx,
    clientUs: perRequest(autocannonTicks, r.requests.total),
    cpuUs: perRequest(after.user + after.sys - before.user - before.sys, r.requests.total),
    sysUs: perRequest(after.sys - before.sys, r.requests.total),
    loopP99Ms: delay.p99,
    loopMaxMs: delay.max,
  };
}

// wrk reads its method, body and headers from a Lua script; the body comes in through the environment, unquoted.
const WRK_SCRIPT = 'wrk.method = "POST"\nwrk.body = os.getenv("NFN_BENCH_BODY")\nwrk.headers["Content-Type"] = "application/json"\n';
const HAS_WRK = spawnSync("wrk", ["-v"], { stdio: "ignore" }).error === undefined;

/** The same run as `viaGateway`, with wrk (one thread, `connections` connections) as the load generator. */
async function viaWrk(url: string, gatewayPid: number, body: string, connections: number, seconds: number): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), "nfn-bench-wrk-"));
  const script = join(dir, "post.lua");
  writeFileSync(script, WRK_SCRIPT);
  const args = ["-t1", `-c${connections}`, `-d${seconds}s`, "--timeout", "10s", "--latency", "-s", script, `${url}/fn/check_inventory`];
  try {
    await loopDelay(url);
    const before = cpuTicks(gatewayPid);
    const childrenBefore = reapedChildrenTicks();
    const child = spawn("wrk", args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NFN_BENCH_BODY: body } });
    let out = "";
    child.stdout.on("data", (c: Buffer) => (out += c.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
    const after = cpuTicks(gatewayPid);
    const wrkTicks = reapedChildrenTicks() - childrenBefore;
    const delay = await loopDelay(url);
    if (code !== 0) throw new Error(`wrk exited with ${code}: ${out.slice(0, 200)}`);
    const total = Number(/(\d+) requests in ([\d.]+)(m?s)/.exec(out)?.[1] ?? NaN);
    const duration = wrkDuration(out);
    const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
    const errors =
      Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0) +
      (socketErrors ? socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0);
    return {
      rps: total / duration,
      p50: wrkMs(/\n\s+50%\s+(\S+)/.exec(out)?.[1]),
      p99: wrkMs(/\n\s+99%\s+(\S+)/.exec(out)?.[1]),
      max: wrkMs(/Latency\s+\S+\s+\S+\s+(\S+)/.exec(out)?.[1]),
      errors,
      clientUs: perRequest(wrkTicks, total),
      cpuUs: perRequest(after.user + after.sys - before.user - before.sys, total),
      sysUs: perRequest(after.sys - before.sys, total),
      loopP99Ms: delay.p99,
      loopMaxMs: delay.max,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A wrk duration such as 812.00us, 2.84ms or 1.02s, in ms. */
function wrkMs(text: string | undefined): number {
  const m = /^([\d.]+)(us|ms|s|m)$/.exec(text ?? "");
  if (!m) return NaN;
  const unit = { us: 0.001, ms: 1, s: 1000, m: 60_000 }[m[2] as "us" | "ms" | "s" | "m"];
  return Number(m[1]) * unit;
}

function wrkDuration(out: string): number {
  const m = /requests in ([\d.]+)(ms|s|m)/.exec(out);
  return m ? wrkMs(`${m[1]}${m[2]}`) / 1000 : NaN;
}

/** The gateway's event-loop delay p99 and max in ms since its previous scrape. */
async function loopDelay(url: string): Promise<{ p99: number; max: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const read = (q: string) =>
    Number(new RegExp(`nfn_gateway_event_loop_delay_seconds\\{quantile="${q}"\\} (\\S+)`).exec(text)?.[1] ?? NaN) * 1000;
  return { p99: read("0.99"), max: read("1") };
}

/** CPU ticks of this process's children that have exited and been reaped (autocannon runs). */
function reapedChildrenTicks(): number {
  const stat = readFileSync("/proc/self/stat", "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[13]) + Number(fields[14]);
}

const perRequest = (ticks: number, requests: number) => (requests > 0 ? ((ticks / TICKS_PER_S) * 1e6) / requests : 0);
const median = (rs: Result[]) => [...rs].sort((a, b) => a.rps - b.rps)[Math.floor(rs.length / 2)] as Result;
const ms = (n: number) => n.toFixed(2);

const server = await startNatsServer();
const sides: ChildProcess[] = [];
try {
  const env = { NATS_URL: server.url, AUTH_JWT_SECRET: SECRET };
  sides.push((await spawnSide("functions", env)).child);
  const gw = await spawnSide("gateway", env);
  sides.push(gw.child);
  const floor = FLOOR ? await spawnSide("floor", env) : undefined;
  if (floor) sides.push(floor.child);
  const nc = await connect({ servers: server.url, noAsyncTraces: true });
  const token = await mintToken(SECRET, { sub: "bench", scopes: ["inventory:admin"], ttlSeconds: 300 });
  const catalog = readDemoCatalog();
  for (const product of catalog) {
    await callFunction(nc, {
      subject: "fn.put_product",
      fn: "put_product",
      body: JSON.stringify(product),
      headers: { Authorization: `Bearer ${token}` },
      deadline: Date.now() + 5000,
    });
  }
  const [a, b] = catalog;
  const body = JSON.stringify({
    items: [
      { sku: a?.sku, quantity: 2 },
      { sku: b?.sku, quantity: 1 },
    ],
  });
  const results = new Map<string, Result[]>();
  const keep = (key: string, r: Result) => results.set(key, [...(results.get(key) ?? []), r]);
  for (let round = 1; round <= ROUNDS; round++) {
    for (const c of LEVELS) {
      // Interleaved: both sides at one level, alternating which goes first.
      const sidesHere = ["direct", "gateway", ...(HAS_WRK ? ["wrk"] : []), ...(floor ? ["floor"] : [])];
      const shift = (round + LEVELS.indexOf(c)) % sidesHere.length;
      const order = [...sidesHere.slice(shift), ...sidesHere.slice(0, shift)];
      for (const side of order) {
        const gwPid = gw.child.pid ?? 0;
        const run = (s: number) =>
          side === "direct"
            ? direct(nc, body, c, s)
            : side === "wrk"
              ? viaWrk(gw.detail, gwPid, body, c, s)
              : side === "floor" && floor
                ? viaGateway(floor.detail, floor.child.pid ?? 0, body, c, s)
                : viaGateway(gw.detail, gwPid, body, c, s);
        await run(WARMUP_S);
        const r = await run(DURATION_S);
        keep(`${side}:${c}`, r);
        process.stderr.write(
          `round ${round} ${(side === "wrk" ? "gateway (wrk)" : side).padEnd(13)} C=${String(c).padStart(3)}: ${Math.round(r.rps)} req/s, p50 ${ms(r.p50)} ms, p99 ${ms(r.p99)} ms, max ${ms(r.max)} ms, errors ${r.errors}, load generator CPU ${Math.round(r.clientUs)} µs/req${r.cpuUs === undefined ? "" : `, gateway CPU ${Math.round(r.cpuUs)} µs/req (${Math.round(r.sysUs ?? 0)} in the kernel), event-loop delay p99 ${ms(r.loopP99Ms ?? 0)} ms max ${ms(r.loopMaxMs ?? 0)} ms`}\n`,
        );
      }
    }
  }
  await nc.close();
  const lines = [
    `check_inventory (2 lines), ${DURATION_S} s per run, median of ${ROUNDS} round(s); load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
    "",
    "| C | direct req/s | gateway req/s | ratio | direct p50 / p99 ms | gateway p50 / p99 / max ms | p99 ratio | errors (direct / gateway) | gateway CPU µs/req (kernel) | load generator CPU µs/req (direct / autocannon) | gateway event-loop delay p99 / max ms |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  for (const c of LEVELS) {
    const d = median(results.get(`direct:${c}`) ?? []);
    const g = median(results.get(`gateway:${c}`) ?? []);
    lines.push(
      `| ${c} | ${Math.round(d.rps)} | ${Math.round(g.rps)} | ${(g.rps / d.rps).toFixed(2)}× | ${ms(d.p50)} / ${ms(d.p99)} | ${ms(g.p50)} / ${ms(g.p99)} / ${ms(g.max)} | ${(g.p99 / d.p99).toFixed(2)}× | ${d.errors} / ${g.errors} | ${Math.round(g.cpuUs ?? 0)} (${Math.round(g.sysUs ?? 0)}) | ${Math.round(d.clientUs)} / ${Math.round(g.clientUs)} | ${ms(g.loopP99Ms ?? 0)} / ${ms(g.loopMaxMs ?? 0)} |`,
    );
  }
  if (HAS_WRK) {
    lines.push(
      "",
      "The gateway again with wrk as the load generator (same direct runs):",
      "",
      "| C | direct req/s | gateway req/s (wrk) | ratio | gateway p50 / p99 / max ms | p99 ratio | errors | gateway CPU µs/req (kernel) | wrk CPU µs/req |",
      "|---|---|---|---|---|---|---|---|---|",
    );
    for (const c of LEVELS) {
      const d = median(results.get(`direct:${c}`) ?? []);
      const w = median(results.get(`wrk:${c}`) ?? []);
      lines.push(
        `| ${c} | ${Math.round(d.rps)} | ${Math.round(w.rps)} | ${(w.rps / d.rps).toFixed(2)}× | ${ms(w.p50)} / ${ms(w.p99)} / ${ms(w.max)} | ${(w.p99 / d.p99).toFixed(2)}× | ${w.errors} | ${Math.round(w.cpuUs ?? 0)} (${Math.round(w.sysUs ?? 0)}) | ${Math.round(w.clientUs)} |`,
      );
    }
  } else lines.push("", "(wrk is not on PATH: apt-get install wrk adds a second table with a load generator that needs less CPU)");
  if (floor) {
    lines.push(
      "",
      "The floor (BENCH_FLOOR=1): node:http relaying to NATS with nothing else, under autocannon (same direct runs):",
      "",
      "| C | direct req/s | floor req/s | ratio | floor p50 / p99 / max ms | errors | floor CPU µs/req (kernel) | gateway CPU µs/req (autocannon row) |",
      "|---|---|---|---|---|---|---|---|",
    );
    for (const c of LEVELS) {
      const d = median(results.get(`direct:${c}`) ?? []);
      const f = median(results.get(`floor:${c}`) ?? []);
      const g = median(results.get(`gateway:${c}`) ?? []);
      lines.push(
        `| ${c} | ${Math.round(d.rps)} | ${Math.round(f.rps)} | ${(f.rps / d.rps).toFixed(2)}× | ${ms(f.p50)} / ${ms(f.p99)} / ${ms(f.max)} | ${f.errors} | ${Math.round(f.cpuUs ?? 0)} (${Math.round(f.sysUs ?? 0)}) | ${Math.round(g.cpuUs ?? 0)} |`,
      );
    }
  }
  process.stdout.write(`${lines.join("\n")}\n`);
} finally {
  // The gateway gets SIGTERM so that a CPU profile is written; the rest is killed.
  const [functions, gateway, ...rest] = sides;
  functions?.kill("SIGKILL");
  for (const child of rest) child.kill("SIGKILL");
  if (gateway) {
    const exited = new Promise((resolve) => gateway.once("exit", resolve));
    gateway.kill("SIGTERM");
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000))]);
    gateway.kill("SIGKILL");
  }
  await server.stop();
}
