/**
 * The reply guard on a server with no auth at all: a request whose reply subject is not an inbox runs
 * nothing and publishes nothing, whether it goes to a function or to `$SRV`; inbox requests and
 * ADR-32 discovery work as before.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/nats-core";
import { Svcm } from "@nats-io/services";
import { configFromEnv } from "../../runtime/config.ts";
import { defineFunction } from "../../runtime/define-function.ts";
import { type Host, startHost } from "../../runtime/host.ts";
import { createLogger } from "../../runtime/logger.ts";
import { isInboxReply, logRefusedReply } from "../../runtime/reply-guard.ts";
import { EndpointStats, type EndpointStatsJson } from "../../runtime/stats.ts";
import { createDispatcher } from "../../runtime/dispatcher.ts";
import { Cleanup, eventually, natsClient, natsServer } from "../helpers/nats.ts";

let handled = 0;
// A real function with a side effect: every run counts and writes a key, so a run that should not happen shows.
const ledger = defineFunction<{ note: string }, { ok: true }>({
  name: "ledger",
  version: "1.0.0",
  description: "Writes a note; reply guard tests",
  kv: ["guard_notes"],
  request: { type: "object", additionalProperties: false, required: ["note"], properties: { note: { type: "string", maxLength: 64 } } },
  response: { type: "object", required: ["ok"], properties: { ok: { const: true } } },
  async handler(input, ctx) {
    handled++;
    await (await ctx.kv("guard_notes")).put(`n${handled}`, input.note);
    return { ok: true };
  },
});

describe("replies go only to inboxes (no NATS auth)", () => {
  const cleanup = new Cleanup();
  after(() => cleanup.run());
  let nc: NatsConnection;
  let host: Host;
  let serviceId: string;
  let url: string;

  const statsOf = async () => {
    const reply = await nc.request("$SRV.STATS.ledger", "", { timeout: 3000 });
    return (JSON.parse(reply.string()) as { endpoints: EndpointStatsJson[] }).endpoints[0];
  };
  const messagesIn = async (stream: string) => (await (await jetstreamManager(nc)).streams.info(stream)).state.messages;
  const metric = async (name: string) => {
    const text = await (await fetch(`http://127.0.0.1:${host.ops?.port}/metrics`)).text();
    const line = text.split("\n").find((l) => l.startsWith(`${name}{`) && l.includes('function="ledger"'));
    return line ? Number(line.split(" ").at(-1)) : 0;
  };

  before(async () => {
    const server = await natsServer(cleanup);
    url = server.url;
    nc = await natsClient(cleanup, server);
    const kvm = new Kvm(nc);
    const orders = await kvm.create("orders");
    for (let i = 0; i < 5; i++) await orders.put(`order-${i}`, `{"n":${i}}`);
    await kvm.create("nfn_releases");
    host = await startHost([ledger], { config: configFromEnv({ NATS_URL: server.url }), log: createLogger({}, "silent"), opsPort: 0 });
    cleanup.after(() => host.stop(500));
    serviceId = host.functions.get("ledger")?.endpoint?.id ?? "";
  });

  it("proves the attack is real: a message on the purge subject purges the bucket", async () => {
    const control = await new Kvm(nc).create("guard_control");
    await control.put("k", "v");
    await nc.request("$JS.API.STREAM.PURGE.KV_guard_control", JSON.stringify({ ok: true }), { timeout: 3000 });
    assert.equal(await messagesIn("KV_guard_control"), 0);
  });

  it("drops function requests and $SRV requests whose reply is a JetStream or KV subject, running no handler", async () => {
    const body = JSON.stringify({ note: "attack" });
    const targets = ["$JS.API.STREAM.PURGE.KV_orders", "$KV.nfn_releases.x", "$JS.API.STREAM.DELETE.KV_orders", "fn.ledger", ""];
    for (const reply of targets) nc.publish("fn.ledger", body, reply ? { reply } : undefined);
    const srv = ["$SRV.PING", "$SRV.INFO", "$SRV.STATS", "$SRV.PING.ledger", "$SRV.INFO.ledger", `$SRV.STATS.ledger.${serviceId}`];
    for (const subject of srv) nc.publish(subject, "", { reply: "$JS.API.STREAM.PURGE.KV_orders" });
    nc.publish("$SRV.INFO.ledger", "", { reply: "$KV.nfn_releases.x" });
    const expected = targets.length + srv.length + 1;
    await eventually(async () => (await statsOf())?.data.rejected_reply_subject === expected, 5000, `${expected} dropped requests`);

    assert.equal(handled, 0, "a handler ran for a request with a non-inbox reply");
    assert.equal(await messagesIn("KV_orders"), 5, "KV_orders was purged or changed");
    assert.equal(await messagesIn("KV_nfn_releases"), 0, "a reply was written into nfn_releases");
    const stats = await statsOf();
    assert.equal(stats?.num_requests, 0, "a dropped request was counted as served");
    assert.equal(await metric("nfn_function_rejected_reply_subject_total"), expected);
  });

  it("still answers requests on an inbox, and ADR-32 discovery works", async () => {
    const reply = await nc.request("fn.ledger", JSON.stringify({ note: "honest" }), { timeout: 3000 });
    assert.deepEqual(reply.json(), { ok: true });
    assert.equal(handled, 1);
    const client = new Svcm(nc).client();
    const pings = [];
    for await (const p of await client.ping("ledger")) pings.push(p);
    assert.equal(pings.length, 1);
    const infos = [];
    for await (const i of await client.info("ledger")) infos.push(i);
    assert.equal(infos[0]?.endpoints[0]?.subject, "fn.ledger");
    const stats = [];
    for await (const s of await client.stats("ledger", serviceId)) stats.push(s);
    assert.equal(stats[0]?.endpoints?.[0]?.num_requests, 1);
    assert.equal(await messagesIn("KV_orders"), 5);
  });

  it("guards any subscription that feeds the dispatcher, not only the micro service endpoint", async () => {
    const stats = new EndpointStats("ledger", "alt.ledger", "q");
    const dispatch = createDispatcher(
      ledger,
      { nc: host.nc, state: host.state, subjectFor: (fn) => `fn.${fn}`, log: createLogger({}, "silent") },
      stats,
    );
    const sub = host.nc.subscribe("alt.ledger", { callback: (_err, msg) => dispatch(msg) });
    cleanup.after(() => sub.unsubscribe());
    await host.nc.flush();
    const before = handled;
    nc.publish("alt.ledger", JSON.stringify({ note: "attack" }), { reply: "$JS.API.STREAM.PURGE.KV_orders" });
    const reply = await nc.request("alt.ledger", JSON.stringify({ note: "alt" }), { timeout: 3000 });
    assert.deepEqual(reply.json(), { ok: true });
    assert.equal(handled, before + 1);
    assert.equal(stats.toJSON().data.rejected_reply_subject, 1);
    assert.equal(await messagesIn("KV_orders"), 5);
  });

  it("accepts the connection's own inbox prefix", async () => {
    const custom = await connect({ servers: url, inboxPrefix: "_I_guard" });
    cleanup.after(() => custom.close());
    const own = await startHost([], { nc: custom, config: configFromEnv({ NATS_URL: url }), log: createLogger({}, "silent") });
    const running = await own.add(defineFunction({ ...ledgerSpec(), name: "ledger_custom" }));
    cleanup.after(() => own.stop(500));
    // The same connection's requests carry its prefix; the guard must let them through.
    const reply = await custom.request("fn.ledger_custom", JSON.stringify({ note: "custom" }), { timeout: 3000 });
    assert.deepEqual(reply.json(), { ok: true });
    assert.equal(running.stats?.toJSON().data.rejected_reply_subject, 0);
  });
});

function ledgerSpec() {
  return {
    version: ledger.version,
    description: ledger.description,
    request: ledger.request,
    response: ledger.response,
    handler: () => ({ ok: true as const }),
  };
}

describe("isInboxReply and the refusal log", () => {
  it("accepts _INBOX., the configured prefix and _R_., and nothing else", () => {
    for (const ok of ["_INBOX.abc.1", "_R_.xyz.abc", "_I_guard.abc"]) assert.equal(isInboxReply(ok, "_I_guard"), true, ok);
    for (const bad of [
      "",
      undefined,
      "$JS.API.STREAM.PURGE.KV_orders",
      "$KV.nfn_releases.x",
      "_INBOX",
      "_INBOXES.x",
      "_I_guardX.y",
      "fn.ledger",
    ]) {
      assert.equal(isInboxReply(bad, "_I_guard"), false, String(bad));
    }
    assert.equal(isInboxReply("_I_guard.abc"), false);
  });

  it("logs at most one line a minute, saying how many were dropped since the last", () => {
    const lines: Array<Record<string, unknown>> = [];
    const log = createLogger({}, "warn");
    const capture = { ...log, warn: (_m: string, fields?: Record<string, unknown>) => void lines.push(fields ?? {}) };
    const t0 = 4e15; // far from any real clock, so other tests' refusals do not interfere
    logRefusedReply(capture, "f", "fn.f", "$JS.API.X", t0);
    logRefusedReply(capture, "f", "fn.f", "$JS.API.X", t0 + 1000);
    logRefusedReply(capture, "f", "fn.f", "$JS.API.X", t0 + 59_999);
    logRefusedReply(capture, "f", "fn.f", "x".repeat(500), t0 + 60_000);
    assert.equal(lines.length, 2);
    assert.equal(lines[1]?.droppedSinceLastLine, 3);
    assert.equal(String(lines[1]?.reply).length, 64);
  });
});

describe("replies across a service import (the server's _R_. reply subjects)", () => {
  const cleanup = new Cleanup();
  after(() => cleanup.run());

  it("answers a caller in another account through the import, and the caller cannot pick the reply subject", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nfn-guard-import-"));
    cleanup.after(() => rmSync(dir, { recursive: true, force: true }));
    const conf = join(dir, "accounts.conf");
    writeFileSync(
      conf,
      [
        "accounts {",
        '  FN: { jetstream: enabled, users: [{ user: fn, password: fn }], exports: [{ service: "fn.ledger" }] }',
        '  APP: { users: [{ user: app, password: app }], imports: [{ service: { account: FN, subject: "fn.ledger" } }] }',
        "}",
      ].join("\n"),
    );
    const server = await natsServer(cleanup, { args: ["-c", conf] });
    const fnConn = await connect({ servers: server.url, user: "fn", pass: "fn" });
    cleanup.after(() => fnConn.close());
    const app = await connect({ servers: server.url, user: "app", pass: "app" });
    cleanup.after(() => app.close());
    const h = await startHost([], { nc: fnConn, config: configFromEnv({ NATS_URL: server.url }), log: createLogger({}, "silent") });
    cleanup.after(() => h.stop(500));
    const seen: string[] = [];
    const spy = defineFunction({ ...ledgerSpec(), name: "ledger", handler: () => ({ ok: true as const }) });
    const running = await h.add(spy);
    // What reply subject the function sees for a caller in APP: the server's rewritten one.
    const tap = fnConn.subscribe("fn.ledger", { callback: (_e, m) => void seen.push(m.reply ?? "") });
    cleanup.after(() => tap.unsubscribe());
    await fnConn.flush();
    const reply = await app.request("fn.ledger", JSON.stringify({ note: "via import" }), { timeout: 3000 });
    assert.deepEqual(reply.json(), { ok: true });
    assert.match(seen[0] ?? "", /^_R_\./);
    // A caller in APP that names a subject as its reply still reaches the function only through `_R_.`.
    app.publish("fn.ledger", JSON.stringify({ note: "x" }), { reply: "$JS.API.STREAM.PURGE.KV_orders" });
    await app.flush();
    await eventually(() => seen.length === 2, 3000, "the second request seen");
    assert.match(seen[1] ?? "", /^_R_\./);
    assert.equal(running.stats?.toJSON().data.rejected_reply_subject, 0);
  });
});
