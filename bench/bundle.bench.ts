/**
 * Bundle sizes and cold start: builds every function (plus the deploy_echo fixture), then for each
 * endpoint bundle measures process start (spawn) to the first reply, several times, against a local
 * nats-server. Run: npm run bench:bundle  (BENCH_RUNS=5 by default; BENCH_PRECOMPILE=0 builds with
 * ajv compiling at start instead of precompiled validators, for comparison; BENCH_ONLY=fn,fn limits it).
 */
import { connect } from "@nats-io/transport-node";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readManifest } from "../deploy/bundle/manifest.ts";
import { startNatsServer } from "../runtime/nats-server.ts";
import { ROOT, runBuild } from "../test/fixtures/deploy-build.ts";
import { firstReply, startBundle } from "../test/e2e/bundle-process.ts";

const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const SIZE_TARGET = 250 * 1024;
const COLD_TARGET_MS = 100;
const BUILD_FLAGS = process.env.BENCH_PRECOMPILE === "0" ? ["--no-precompile"] : [];
const ONLY = process.env.BENCH_ONLY?.split(",").filter(Boolean);

const out = mkdtempSync(join(tmpdir(), "nfn-bench-bundles-"));
const server = await startNatsServer();
const nc = await connect({ servers: server.url });
try {
  if (!ONLY || ONLY.some((n) => n !== "deploy_echo"))
    await runBuild(["--out", out, ...BUILD_FLAGS, ...(ONLY ?? []).filter((n) => n !== "deploy_echo")]);
  await runBuild(["--out", out, ...BUILD_FLAGS, "--entry", `deploy_echo=${join(ROOT, "test/fixtures/deploy-echo-v1.ts")}`]);
  const rows: string[] = [
    "| function | bundle KiB | ≤ 250 KB | start → first reply ms (median / min / max) | ≤ 100 ms |",
    "|---|---|---|---|---|",
  ];
  for (const name of readdirSync(out).sort()) {
    if (ONLY && !ONLY.includes(name)) continue;
    const m = await readManifest(join(out, name));
    const size = `${(m.sizeBytes / 1024).toFixed(1)}`;
    const sizeOk = m.sizeBytes <= SIZE_TARGET ? "yes" : "no";
    if (m.subjects.endpoint === null) {
      rows.push(`| ${name} | ${size} | ${sizeOk} | (event-only, no endpoint) | - |`);
      continue;
    }
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const proc = startBundle(join(out, name, m.entry), server.url, { LOG_LEVEL: "warn" });
      try {
        // Any reply counts, a 400 included: it proves the process is up and dispatching.
        times.push((await firstReply(nc, m.subjects.endpoint, "{}", proc.startedAt)).ms);
      } finally {
        await proc.stop();
      }
    }
    times.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)] ?? NaN;
    rows.push(
      `| ${name} | ${size} | ${sizeOk} | ${median.toFixed(0)} / ${(times[0] ?? NaN).toFixed(0)} / ${(times.at(-1) ?? NaN).toFixed(0)} | ${median <= COLD_TARGET_MS ? "yes" : "no"} |`,
    );
  }
  const bare = await measureBareNode();
  console.log(rows.join("\n"));
  console.log(`\nbaseline: \`node -e 0\` takes ${bare.toFixed(0)} ms on this machine (median of ${RUNS}); runs per function: ${RUNS}`);
} finally {
  await nc.close();
  await server.stop();
  rmSync(out, { recursive: true, force: true });
}

// How long an empty node process takes here: the floor under every cold start above.
async function measureBareNode(): Promise<number> {
  const { spawnSync } = await import("node:child_process");
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    spawnSync(process.execPath, ["-e", "0"]);
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[Math.floor(times.length / 2)] ?? NaN;
}
