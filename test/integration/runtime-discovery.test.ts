import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { NatsConnection } from "@nats-io/nats-core";
import { configFromEnv } from "../../runtime/config.ts";
import { startHost, type Host } from "../../runtime/host.ts";
import { createLogger } from "../../runtime/logger.ts";
import { Cleanup, natsClient, natsServer } from "../helpers/nats.ts";
import { send } from "../helpers/requests.ts";
import { probe, relay } from "../fixtures/probe-functions.ts";

// Only what ADR-32 defines is used here: $SRV subjects, JSON replies, the endpoint subject.
interface StatsReply {
  type: string;
  name: string;
  id: string;
  endpoints: Array<{
    name: string;
    num_requests: number;
    num_errors: number;
    processing_time: number;
    average_processing_time: number;
    last_error: string;
    data: { p50_ns: number; p90_ns: number; p99_ns: number; in_flight: number; rejected: number };
  }>;
}

async function srv(nc: NatsConnection, subject: string): Promise<Record<string, unknown>> {
  return JSON.parse((await nc.request(subject, "", { timeout: 2000 })).string()) as Record<string, unknown>;
}

describe("ADR-32 discovery and exact STATS", () => {
  let nc: NatsConnection;
  let host: Host;
  const hooks = new Cleanup();
  after(() => hooks.run());

  before(async () => {
    const server = await natsServer(hooks);
    const config = configFromEnv({ NATS_URL: server.url });
    host = await startHost([probe, relay], { config, log: createLogger({}, "silent") });
    hooks.after(() => host.stop(1000));
    nc = await natsClient(hooks, server);
  });

  it("answers PING, INFO and STATS on the all, name and name.id subjects", async () => {
    const ping = await srv(nc, "$SRV.PING.probe");
    assert.equal(ping.type, "io.nats.micro.v1.ping_response");
    const id = String(ping.id);
    for (const verb of ["PING", "INFO", "STATS"]) {
      for (const subject of [`$SRV.${verb}.probe`, `$SRV.${verb}.probe.${id}`]) {
        const reply = await srv(nc, subject);
        assert.equal(reply.type, `io.nats.micro.v1.${verb.toLowerCase()}_response`, subject);
        assert.equal(reply.name, "probe");
        assert.equal(reply.id, id);
      }
    }
    const everyone = await collect(nc, "$SRV.PING");
    assert.deepEqual(everyone.map((r) => r.name).sort(), ["probe", "relay"]);
  });

  it("advertises name, version, subject, queue group and the contract in INFO metadata", async () => {
    const info = await srv(nc, "$SRV.INFO.probe");
    assert.equal(info.version, "1.0.0");
    assert.deepEqual(info.metadata, { runtime: "nats-functions" });
    const [endpoint] = info.endpoints as Array<{ name: string; subject: string; queue_group: string; metadata: Record<string, string> }>;
    assert.ok(endpoint);
    assert.equal(endpoint.name, "probe");
    assert.equal(endpoint.subject, "fn.probe");
    assert.equal(endpoint.queue_group, "q");
    assert.deepEqual(JSON.parse(endpoint.metadata.request_schema ?? ""), probe.request);
    assert.deepEqual(JSON.parse(endpoint.metadata.response_schema ?? ""), probe.response);
    assert.equal(endpoint.metadata.bundle_sha256, "source");
    for (const value of Object.values(endpoint.metadata)) assert.equal(typeof value, "string");
  });

  it("reports STATS equal to the traffic sent, in integer nanoseconds", async () => {
    const before = (await srv(nc, "$SRV.STATS.relay")) as unknown as StatsReply;
    assert.equal(before.endpoints[0]?.num_requests, 0);
    const ok = 7;
    const conflicts = 3;
    const invalid = 2;
    await Promise.all([
      ...Array.from({ length: ok }, () => send(nc, "fn.relay", { target: "probe", input: { sleepMs: 20 } })),
      ...Array.from({ length: conflicts }, () => send(nc, "fn.relay", { target: "probe", input: { fail: "conflict" } })),
      ...Array.from({ length: invalid }, () => send(nc, "fn.relay", "nope")),
    ]);
    const stats = (await srv(nc, "$SRV.STATS.relay")) as unknown as StatsReply;
    const e = stats.endpoints[0];
    assert.ok(e);
    assert.equal(e.num_requests, ok + conflicts + invalid);
    assert.equal(e.num_errors, conflicts + invalid);
    for (const n of [e.processing_time, e.average_processing_time, e.data.p50_ns, e.data.p90_ns, e.data.p99_ns]) {
      assert.ok(Number.isInteger(n), `${n} is an integer`);
    }
    // The whole async handler is timed: 7 calls that each wait 20 ms in the nested function.
    assert.ok(e.processing_time >= ok * 20_000_000, `processing_time ${e.processing_time} covers the awaited work`);
    assert.equal(e.average_processing_time, Math.trunc(e.processing_time / e.num_requests)); // integer division, as nats.go
    assert.ok(e.data.p99_ns >= 20_000_000);
    assert.ok(e.data.p50_ns <= e.data.p90_ns && e.data.p90_ns <= e.data.p99_ns);
    assert.equal(e.data.in_flight, 0);
    assert.equal(e.data.rejected, 0);
    assert.equal(typeof e.last_error, "string");
    assert.match(e.last_error, /^(400|409):/);
  });

  it("reports last_error as an empty string before any error", async () => {
    const fresh = await startHost([{ ...probe, name: "fresh_probe" }], {
      config: host.config,
      nc: host.nc,
      log: createLogger({}, "silent"),
    });
    hooks.after(() => fresh.stop(500));
    const freshStats = (await srv(nc, "$SRV.STATS.fresh_probe")) as unknown as StatsReply;
    assert.equal(freshStats.endpoints[0]?.last_error, "");
    assert.equal(freshStats.endpoints[0]?.num_requests, 0);
  });
});

async function collect(nc: NatsConnection, subject: string): Promise<Array<Record<string, unknown>>> {
  const replies: Array<Record<string, unknown>> = [];
  const it = await nc.requestMany(subject, "", { maxWait: 1000, strategy: "stall", stall: 300 });
  for await (const m of it) replies.push(JSON.parse(m.string()) as Record<string, unknown>);
  return replies;
}
