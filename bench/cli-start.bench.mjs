// `npm run bench:cli`: how long `nfn --help` and every `nfn <verb> --help` take, against a bare
// `node -e 0`. Runs are interleaved (one of each per round, BENCH_RUNS rounds, default 15, after 2
// warm-up rounds) so that load from other work on the machine falls on every command alike.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../cli/bin.mjs", import.meta.url));
const runs = Number(process.env.BENCH_RUNS ?? 15);
const verbs = ["serve", "dev", "test", "invoke", "ls", "info", "stats", "ping", "schema", "token", "server"];
verbs.push("bench", "build", "deploy", "releases", "rollback", "undeploy", "worker", "status", "gateway", "dashboard");
const commands = [
  ["node -e 0", ["-e", "0"]],
  ["nfn --help", [bin, "--help"]],
  ...verbs.map((v) => [`nfn ${v} --help`, [bin, v, "--help"]]),
];

function once(args) {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
  if (r.status !== 0) throw new Error(`${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const times = new Map(commands.map(([name]) => [name, []]));
for (let round = 0; round < runs + 2; round++) {
  for (const [name, args] of commands) {
    const ms = once(args);
    if (round >= 2) times.get(name).push(ms);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = median(times.get("node -e 0"));
console.log(`| command | median ms | min ms | median / node -e 0 |\n| --- | --- | --- | --- |`);
let worst = 0;
for (const [name] of commands) {
  const xs = times.get(name);
  const ratio = median(xs) / base;
  if (name !== "node -e 0") worst = Math.max(worst, ratio);
  console.log(`| ${name} | ${median(xs).toFixed(1)} | ${Math.min(...xs).toFixed(1)} | ${ratio.toFixed(2)}× |`);
}
console.log(`\nworst ratio ${worst.toFixed(2)}× (target < 2×), ${runs} interleaved rounds`);
