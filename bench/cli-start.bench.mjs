// `npm run bench:cli`: how long `nfn --help` and every `nfn <verb> --help` take, against a bare
// `node -e 0`, in repeated runs (median and min of BENCH_RUNS, default 15, after 2 warm-ups).
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../cli/bin.mjs", import.meta.url));
const runs = Number(process.env.BENCH_RUNS ?? 15);
const verbs = [
  "serve",
  "dev",
  "test",
  "invoke",
  "ls",
  "info",
  "stats",
  "ping",
  "schema",
  "token",
  "server",
  "bench",
  "build",
  "deploy",
  "releases",
  "rollback",
  "undeploy",
  "worker",
  "status",
  "gateway",
  "dashboard",
];

function measure(args) {
  const times = [];
  for (let i = 0; i < runs + 2; i++) {
    const start = process.hrtime.bigint();
    const r = spawnSync(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (r.status !== 0) throw new Error(`${args.join(" ")} exited ${r.status}: ${r.stderr}`);
    if (i >= 2) times.push(ms);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], min: times[0] };
}

const base = measure(["-e", "0"]);
const rows = [
  ["node -e 0", base],
  ["nfn --help", measure([bin, "--help"])],
  ...verbs.map((v) => [`nfn ${v} --help`, measure([bin, v, "--help"])]),
];
console.log(`| command | median ms | min ms | median / node -e 0 |\n| --- | --- | --- | --- |`);
let worst = 0;
for (const [name, t] of rows) {
  const ratio = t.median / base.median;
  if (name !== "node -e 0") worst = Math.max(worst, ratio);
  console.log(`| ${name} | ${t.median.toFixed(1)} | ${t.min.toFixed(1)} | ${ratio.toFixed(2)}× |`);
}
console.log(`\nworst ratio ${worst.toFixed(2)}× (target < 2×), ${runs} runs each`);
