/** nfn bench against a real nats-server. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { runBench } from "../../cli/commands/bench.ts";
import type { BenchSummary } from "../../cli/lib/bench-stats.ts";
import { EXIT } from "../../cli/lib/exit-codes.ts";
import { captureIo } from "../../cli/lib/io.ts";
import { configFromEnv } from "../../runtime/config.ts";
import { startHost } from "../../runtime/host.ts";
import { createLogger } from "../../runtime/logger.ts";
import { probe } from "../fixtures/probe-functions.ts";
import { Cleanup, natsClient, natsServer } from "../helpers/nats.ts";
import { runNfn } from "../helpers/cli.ts";

const hooks = new Cleanup();

describe("nfn bench", () => {
  let url = "";

  after(() => hooks.run());

  before(async () => {
    const server = await natsServer(hooks);
    url = server.url;
    const nc = await natsClient(hooks, server);
    const host = await startHost([probe], { nc, config: { ...configFromEnv({}), servers: [url] }, log: createLogger({}, "silent") });
    hooks.after(() => host.stop(500));
  });

  it("reports requests, req/s and ordered latency percentiles, and exit 0 when nothing failed", async () => {
    const io = captureIo();
    const code = await runBench("probe", '{"text":"x"}', { server: url, concurrency: "4", duration: "700ms", json: true }, io);
    assert.equal(code, EXIT.OK, io.err());
    const s = JSON.parse(io.out()) as BenchSummary;
    assert.ok(s.requests > 0);
    assert.equal(s.ok, s.requests);
    assert.deepEqual(s.errors, {});
    assert.equal(s.concurrency, 4);
    assert.ok(s.latencyMs.p50 <= s.latencyMs.p90 && s.latencyMs.p90 <= s.latencyMs.p99 && s.latencyMs.p99 <= s.latencyMs.max);
    assert.ok(s.requestsPerSecond > 0);
    assert.equal(io.err(), "", "no progress line when stderr is not a terminal");
  });

  it("counts error replies by code and exits 1", async () => {
    const io = captureIo();
    const code = await runBench("probe", '{"fail":"conflict"}', { server: url, concurrency: "2", duration: "300ms", json: true }, io);
    assert.equal(code, EXIT.SERVICE_ERROR);
    const s = JSON.parse(io.out()) as BenchSummary;
    assert.equal(s.errors["409"], s.requests);
    assert.equal(s.ok, 0);
  });

  it("shows a live progress line on a terminal and a readable summary", async () => {
    const io = captureIo({ tty: true });
    await runBench("probe", undefined, { server: url, concurrency: "2", duration: "600ms" }, io);
    assert.match(io.err(), /\r\d+\.\ds {2}\d+ requests {2}\d+ req\/s {2}0 errors/);
    assert.match(
      io.out(),
      /^probe: \d+ requests in \d+\.\d\ds with 2 concurrent, [\d.]+ req\/s\nlatency {2}p50 [\d.]+ ms {2}p90 [\d.]+ ms {2}p99 [\d.]+ ms {2}max [\d.]+ ms\nerrors {3}none\n$/,
    );
  });

  it("spawned: prints the summary on stdout, nothing on stderr, exit 0; a bad --concurrency exits 2", async () => {
    const run = (args: string[]) => runNfn(args);
    const [ok, bad] = await Promise.all([
      run(["bench", "probe", '{"text":"x"}', "--duration", "500ms", "--concurrency", "2", "-s", url]),
      run(["bench", "probe", "--concurrency", "0", "-s", url]),
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^probe: \d+ requests in/);
    assert.equal(ok.stderr, "");
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^nfn: --concurrency "0" must be a whole number of at least 1\n$/);
  });
});
