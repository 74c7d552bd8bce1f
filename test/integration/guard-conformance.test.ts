/** Conformance: 429 before the body is read, STATS average truncated as nats.go divides, bundle_sha256 of a source module. */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { NatsConnection } from "@nats-io/nats-core";
import { configFromEnv } from "../../runtime/config.ts";
import { type Host, startHost } from "../../runtime/host.ts";
import { loadFunctionModule } from "../../runtime/loader.ts";
import { createLogger } from "../../runtime/logger.ts";
import type { EndpointStatsJson } from "../../runtime/stats.ts";
import { Cleanup, eventually, natsClient, natsServer } from "../helpers/nats.ts";
import { send } from "../helpers/requests.ts";
import { probe } from "../fixtures/probe-functions.ts";
import { instancesOf } from "../fixtures/deploy-services.ts";

describe("conformance of the request path and discovery", () => {
  const cleanup = new Cleanup();
  after(() => cleanup.run());
  let nc: NatsConnection;
  let host: Host;
  let url: string;

  before(async () => {
    const server = await natsServer(cleanup);
    url = server.url;
    nc = await natsClient(cleanup, server);
    host = await startHost([probe], { config: configFromEnv({ NATS_URL: url }), log: createLogger({}, "silent") });
    cleanup.after(() => host.stop(2000));
  });

  it("answers 429 at the in-flight limit before parsing or validating, and 413 still first", async () => {
    const limit = probe.limits.maxInFlight;
    const slow = Array.from({ length: limit }, () => send(nc, "fn.probe", { sleepMs: 800 }));
    await eventually(() => host.functions.get("probe")?.stats?.inFlight === limit, 5000, "probe full");
    assert.equal((await send(nc, "fn.probe", "this is not JSON")).code, 429);
    assert.equal((await send(nc, "fn.probe", { unknown: "field" })).code, 429);
    assert.equal((await send(nc, "fn.probe", "x".repeat(probe.limits.maxPayload + 1))).code, 413);
    const replies = await Promise.all(slow);
    assert.ok(replies.every((r) => r.code === undefined));
    assert.equal((await send(nc, "fn.probe", "this is not JSON")).code, 400);
  });

  it("reports average_processing_time as processing_time / num_requests truncated", async () => {
    for (let i = 0; i < 7; i++) await send(nc, "fn.probe", { text: `t${i}` });
    const reply = await nc.request("$SRV.STATS.probe", "", { timeout: 3000 });
    const [endpoint] = (JSON.parse(reply.string()) as { endpoints: EndpointStatsJson[] }).endpoints;
    assert.ok(endpoint && endpoint.num_requests > 0);
    assert.equal(endpoint.average_processing_time, Number(BigInt(endpoint.processing_time) / BigInt(endpoint.num_requests)));
  });

  it("advertises the sha256 of the source module as bundle_sha256, so two instances running different code differ", async () => {
    const files = ["deploy-echo-v1.ts", "deploy-echo-v2.ts"].map((f) => join(import.meta.dirname, "../fixtures", f));
    for (const file of files) {
      const def = await loadFunctionModule(file);
      const h = await startHost([def], { config: configFromEnv({ NATS_URL: url }), log: createLogger({}, "silent") });
      cleanup.after(() => h.stop(500));
    }
    const expected = files.map((f) => createHash("sha256").update(readFileSync(f)).digest("hex")).sort();
    const seen = await eventually(async () => {
      const all = await instancesOf(nc, "deploy_echo", 300);
      return all.length === 2 ? all.map((i) => i.sha256 ?? "").sort() : undefined;
    });
    assert.deepEqual(seen, expected);
    assert.notEqual(seen[0], seen[1]);
  });
});
