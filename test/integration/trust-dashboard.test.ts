/**
 * The gateway's dashboard and NestJS callers under the accounts `nfn auth init` writes, on a real
 * nats-server started from that config: the gateway identity reads and replays dead letters and
 * reads the durable journal, and nothing more; a client may do none of that; NestJS transport
 * subjects of NestJS functions reach them from the callers' account.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { NatsConnection } from "@nats-io/nats-core";
import { defineFunction, type DomainEvent } from "../../runtime/index.ts";
import { startHost } from "../../runtime/host.ts";
import { createLogger } from "../../runtime/logger.ts";
import type { LocalNatsServer } from "../../runtime/nats-server.ts";
import { type Gateway, startGateway } from "../../gateway/server.ts";
import verifyToken from "../../functions/verify_token/index.ts";
import { DURABLE_SECRET, gwDurable } from "../fixtures/dashboard-system.ts";
import { type GeneratedAuth, generateAuth, roleClient, roleConfig } from "../helpers/auth.ts";
import { Cleanup, eventually, natsServer } from "../helpers/nats.ts";
import { TEST_JWT_SECRET, mintToken } from "../helpers/tokens.ts";

const hooks = new Cleanup();
const handled: DomainEvent[] = [];
let healed = false;

/** Fails on order.cancelled until healed: its events are parked on the dead-letter stream. */
const parker = defineFunction({
  name: "tr_parker",
  version: "1.0.0",
  description: "test: fails on order.cancelled until healed",
  request: { type: "object" },
  response: { type: "object" },
  endpoint: false,
  trigger: { events: ["order.cancelled"], maxDeliveries: 2, backoffMs: [20] },
  handler: () => ({}),
  onEvent(event) {
    if (!healed) throw new Error("the notification provider is down");
    handled.push(event);
  },
});

/** Cancels an order: emits order.cancelled, which the parker fails on. */
const canceller = defineFunction<{ orderId: string }, { orderId: string }>({
  name: "tr_cancel",
  version: "1.0.0",
  description: "test: emits order.cancelled",
  request: {
    type: "object",
    properties: { orderId: { type: "string", maxLength: 64 } },
    required: ["orderId"],
    additionalProperties: false,
  },
  response: { type: "object" },
  emits: ["order.cancelled"],
  async handler(input, ctx) {
    await ctx.emit("order.cancelled", input.orderId, { reason: "test" });
    return { orderId: input.orderId };
  },
});

/** Answers the NestJS transport too. */
const nestEcho = defineFunction<{ text: string }, { text: string }>({
  name: "tr_nest_echo",
  version: "1.0.0",
  description: "test: an echo NestJS clients call with send('tr_nest_echo', data)",
  request: { type: "object", properties: { text: { type: "string", maxLength: 64 } }, required: ["text"], additionalProperties: false },
  response: { type: "object" },
  nestjs: true,
  handler: (input) => ({ text: input.text }),
});

/** An internal function: never reachable from the callers' account. */
const internalStep = defineFunction({
  name: "tr_internal",
  version: "1.0.0",
  description: "test: an internal step",
  request: { type: "object" },
  response: { type: "object" },
  visibility: "internal",
  handler: () => ({}),
});

const functions = [verifyToken, parker, canceller, nestEcho, gwDurable, internalStep];

describe("the gateway's dashboard and NestJS callers under nfn auth init accounts", () => {
  let auth: GeneratedAuth;
  let server: LocalNatsServer;
  let gateway: Gateway;
  let client: NatsConnection;
  let adminToken: string;
  let serverLog = "";

  const dashboard = async (path: string, method = "GET") => {
    const res = await fetch(`${gateway.url}${path}`, { method, headers: { authorization: `Bearer ${adminToken}` } });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  const post = async (fn: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${gateway.url}/fn/${fn}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as unknown };
  };

  before(async () => {
    process.env.AUTH_JWT_SECRET = TEST_JWT_SECRET;
    auth = await generateAuth(hooks, functions);
    server = await natsServer(hooks, { args: ["-c", auth.conf] });
    server.process.stderr?.on("data", (chunk: Buffer) => (serverLog += chunk.toString()));
    const host = await startHost(functions, { config: roleConfig(auth.env.worker, server.url), log: createLogger({}, "silent") });
    hooks.after(() => host.stop(2000));
    const gatewayNc = await roleClient(hooks, auth.env.gateway, server.url);
    gateway = await startGateway({ nc: gatewayNc, port: 0, refreshMs: 500, dashboardMs: 500 });
    hooks.after(() => gateway.close());
    client = await roleClient(hooks, auth.env.client, server.url);
    adminToken = await mintToken({ sub: "ops-1", scope: "nfn:admin" });
    await eventually(
      async () => {
        await gateway.discovery.refresh();
        return ["tr_cancel", "gw_durable"].every((n) => gateway.discovery.list().some((r) => r.name === n));
      },
      15_000,
      "the gateway to discover the public functions",
    );
  });
  after(() => hooks.run());

  it("lists the dead letters and replays one with the gateway's identity", async () => {
    assert.equal((await post("tr_cancel", { orderId: "ord-dlq-1" })).status, 200);
    await eventually(async () => (await dashboard("/dashboard/dlq")).json.total === 1, 20_000, "the cancelled order to be parked");
    const { json } = await dashboard("/dashboard/dlq");
    const letter = (json.letters as { seq: number; function: string; eventType: string; aggregateId?: string }[])[0];
    assert.equal(letter?.function, "tr_parker");
    assert.equal(letter?.eventType, "order.cancelled");
    assert.equal(letter?.aggregateId, "ord-dlq-1");
    healed = true;
    const replay = await dashboard(`/dashboard/dlq/${letter?.seq}/replay`, "POST");
    assert.equal(replay.status, 200, JSON.stringify(replay.json));
    await eventually(() => handled.some((e) => e.aggregateId === "ord-dlq-1"), 15_000, "the parker to get the replayed event");
    await eventually(async () => (await dashboard("/dashboard/dlq")).json.total === 0, 10_000, "the letter to be removed");
  });

  it("shows a durable invocation's steps in the trace with the gateway's identity", async () => {
    const reply = await post("gw_durable", { qty: 2 }, { "Idempotency-Key": "acct-durable-1", "Nfn-Correlation-Id": "acct-corr-1" });
    assert.equal(reply.status, 200, JSON.stringify(reply.json));
    const { status, json } = await dashboard("/dashboard/trace/acct-corr-1");
    assert.equal(status, 200);
    const durable = json.durable as {
      runs: { id?: string; status: string; steps: { name: string; result?: unknown }[] }[];
      unavailable?: string;
    };
    assert.equal(durable.unavailable, undefined);
    assert.equal(durable.runs[0]?.id, "acct-durable-1");
    assert.equal(durable.runs[0]?.status, "done");
    assert.deepEqual(
      durable.runs[0]?.steps.map((s) => s.name),
      ["quote", "sleep", "confirm"],
    );
    assert.deepEqual(durable.runs[0]?.steps[0]?.result, { totalCents: 2598, note: DURABLE_SECRET });
  });

  it("lets a client do none of it: no journal read, no dead-letter read or delete, no event publish", async () => {
    for (const subject of [
      "$JS.API.STREAM.MSG.GET.KV_durable_runs",
      "$JS.FN.API.STREAM.MSG.GET.KV_durable_runs",
      "$JS.API.STREAM.MSG.GET.EVENTS_DLQ",
      "$JS.API.STREAM.MSG.DELETE.EVENTS_DLQ",
      "$JS.FN.API.STREAM.MSG.DELETE.EVENTS_DLQ",
      "events.order.cancelled",
    ]) {
      // Refused, or dropped unanswered (a name the account maps): either way no message comes back.
      const body = subject.includes("KV_durable_runs") ? { last_by_subj: "$KV.durable_runs.inv.gw_durable.acct-durable-1" } : { seq: 1 };
      await assert.rejects(client.request(subject, JSON.stringify(body), { timeout: 2000 }), /Permissions Violation|timeout/i, subject);
    }
  });

  it("answers NestJS transport requests from the callers' account, both patterns", async () => {
    for (const subject of ["tr_nest_echo", '{"cmd":"tr_nest_echo"}']) {
      const packet = { pattern: subject === "tr_nest_echo" ? subject : { cmd: "tr_nest_echo" }, data: { text: "hola" }, id: "n-1" };
      const reply = (await client.request(subject, JSON.stringify(packet), { timeout: 5000 })).json<Record<string, unknown>>();
      assert.deepEqual(reply.response, { text: "hola" }, subject);
      assert.equal(reply.id, "n-1");
    }
  });

  it("answers $SRV by name only for public functions from the callers' account", async () => {
    const info = (await client.request("$SRV.INFO.tr_nest_echo", "", { timeout: 5000 })).json<{ name: string }>();
    assert.equal(info.name, "tr_nest_echo");
    await assert.rejects(client.request("$SRV.INFO.tr_internal", "", { timeout: 1500 }), /timeout|no responders/i);
    await assert.rejects(client.request("$SRV.STATS.tr_internal", "", { timeout: 1500 }), /timeout|no responders/i);
  });

  it("never denies the worker or the gateway anything they needed", () => {
    const denied = serverLog
      .split("\n")
      .filter((l) => /Violation/.test(l))
      .filter((l) => [auth.roles.worker.publicKey, auth.roles.gateway.publicKey].some((k) => l.includes(k)));
    assert.deepEqual(denied, []);
    // The log is read: the client's attempts above show in it.
    assert.ok(serverLog.split("\n").some((l) => /Violation/.test(l) && l.includes(auth.roles.client.publicKey)));
  });
});
