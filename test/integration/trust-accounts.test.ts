/**
 * The generated accounts and identities, attacked on a real nats-server started from the config
 * `nfn auth init` wrote: the functions, the gateway and a worker run under their own identities.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { NatsConnection } from "@nats-io/nats-core";
import { jetstreamManager } from "@nats-io/jetstream";
import { startHost, type Host } from "../../runtime/host.ts";
import { createLogger } from "../../runtime/logger.ts";
import type { LocalNatsServer } from "../../runtime/nats-server.ts";
import { openRegistry } from "../../deploy/registry/registry.ts";
import { deployBundle } from "../../deploy/registry/operations.ts";
import { type Worker, startWorker } from "../../deploy/worker/worker.ts";
import { exportedServices } from "../../deploy/auth/server-config.ts";
import { DEFAULT_SUBJECTS } from "../../deploy/auth/permissions.ts";
import { type Gateway, startGateway } from "../../gateway/server.ts";
import { echoAt } from "../fixtures/deploy-echo-spec.ts";
import { ROOT, runBuild, tempDir } from "../fixtures/deploy-build.ts";
import { marketplaceFunctions } from "../fixtures/marketplace-functions.ts";
import { type GeneratedAuth, generateAuth, roleClient, roleConfig } from "../helpers/auth.ts";
import { Cleanup, eventually, natsServer } from "../helpers/nats.ts";
import { TEST_JWT_SECRET, mintToken } from "../helpers/tokens.ts";

const hooks = new Cleanup();
const json = (body: unknown) => JSON.stringify(body);

/** Resolves with the error the server closed `subject`'s subscription with, or undefined if it stayed open for `ms`. */
async function subscriptionRefusal(nc: NatsConnection, subject: string, queue?: string, ms = 2000): Promise<string | undefined> {
  const sub = nc.subscribe(subject, queue ? { queue } : {});
  const outcome = await Promise.race([
    sub.closed.then((v) => (v instanceof Error ? v.message : "closed")),
    new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms).unref()),
  ]);
  if (!sub.isClosed()) sub.unsubscribe();
  return outcome;
}

describe("accounts and least-privilege identities from nfn auth init", () => {
  let auth: GeneratedAuth;
  let server: LocalNatsServer;
  let host: Host;
  let worker: Worker;
  let gateway: Gateway;
  let client: NatsConnection;
  let functionsNc: NatsConnection;
  let deployerNc: NatsConnection;
  let customer: string;
  let admin: string;
  let bundleDir: string;
  let serverLog = "";

  // Message counts of the streams an attacker would want to purge, read with the functions' identity.
  const counts = async () => {
    const jsm = await jetstreamManager(functionsNc);
    const out: Record<string, number> = {};
    for (const stream of ["KV_orders", "KV_inventory", "KV_nfn_releases", "EVENTS"])
      out[stream] = (await jsm.streams.info(stream)).state.messages;
    return out;
  };
  const call = async (nc: NatsConnection, fn: string, body: unknown, token?: string, timeout = 10_000) => {
    const headers = (await import("@nats-io/nats-core")).headers();
    if (token) headers.set("Authorization", `Bearer ${token}`);
    return (await nc.request(`fn.${fn}`, json(body), { timeout, headers })).json<Record<string, unknown>>();
  };

  before(async () => {
    process.env.AUTH_JWT_SECRET = TEST_JWT_SECRET;
    const dir = tempDir(hooks, "nfn-trust-");
    auth = await generateAuth(hooks, [...marketplaceFunctions, echoAt("1.0.0")], undefined, ["alice", "bob"], {
      stock: ["check_inventory", "reserve_stock", "release_stock", "commit_stock"],
    });
    // The deployer signs with the key auth init wrote; the worker trusts its public key (both read these by default).
    process.env.NFN_SIGNING_KEY = auth.env.deployer.NFN_SIGNING_KEY;
    process.env.NFN_TRUSTED_SIGNERS = auth.env.worker.NFN_TRUSTED_SIGNERS;
    server = await natsServer(hooks, { args: ["-c", auth.conf] });
    server.process.stderr?.on("data", (chunk: Buffer) => (serverLog += chunk.toString()));
    const workerEnv = auth.env.worker;
    host = await startHost(marketplaceFunctions, { config: roleConfig(workerEnv, server.url), log: createLogger({}, "silent") });
    hooks.after(() => host.stop(2000));
    // A second host with the stock group's narrower identity shares the stock functions' queue groups.
    const stockFunctions = marketplaceFunctions.filter((d) => auth.workerGroups.stock?.functions.includes(d.name));
    const stockHost = await startHost(stockFunctions, {
      config: roleConfig(auth.groupEnv.stock ?? {}, server.url),
      log: createLogger({}, "silent"),
    });
    hooks.after(() => stockHost.stop(2000));
    worker = await startWorker({ config: { ...roleConfig(workerEnv, server.url), shutdownGraceMs: 2000 }, cacheDir: join(dir, "cache") });
    hooks.after(() => worker.stop());
    const gatewayNc = await roleClient(hooks, auth.env.gateway, server.url);
    gateway = await startGateway({ nc: gatewayNc, port: 0, refreshMs: 500, dashboardMs: 500 });
    hooks.after(() => gateway.close());
    client = await roleClient(hooks, auth.env.client, server.url);
    functionsNc = await roleClient(hooks, workerEnv, server.url);
    deployerNc = await roleClient(hooks, auth.env.deployer, server.url);
    [customer, admin] = await Promise.all([
      mintToken({ sub: "customer-1", scope: "orders:write" }),
      mintToken({ sub: "admin-1", scope: "inventory:admin" }),
    ]);
    await call(client, "put_product", { sku: "OIL-1L", name: "olive oil", priceCents: 1200, onHand: 50 }, admin);
    await runBuild(["--entry", `deploy_echo=${join(ROOT, "test/fixtures/deploy-echo-v1.ts")}`, "--out", join(dir, "bundles")]);
    bundleDir = join(dir, "bundles", "deploy_echo");
  });
  after(() => hooks.run());

  it("lets a client call check_inventory and create_order, and the gateway serve them", async () => {
    const stock = await call(client, "check_inventory", { items: [{ sku: "OIL-1L", quantity: 2 }] });
    assert.equal(stock.available, true);
    const order = await call(client, "create_order", { items: [{ sku: "OIL-1L", quantity: 1 }], paymentMethod: "pm_card_visa" }, customer);
    assert.equal(order.status, "confirmed");
    const res = await fetch(`${gateway.url}/fn/create_order`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${customer}` },
      body: json({ items: [{ sku: "OIL-1L", quantity: 1 }], paymentMethod: "pm_card_visa" }),
    });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { status: string }).status, "confirmed");
    const inv = await fetch(`${gateway.url}/fn/check_inventory`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: json({ items: [{ sku: "OIL-1L", quantity: 1 }] }),
    });
    assert.equal(inv.status, 200);
  });

  it("shows the gateway's dashboard the EVENTS feed through the callers' account", async () => {
    await eventually(
      async () => {
        const snap = (await (await fetch(`${gateway.url}/dashboard/snapshot`)).json()) as { events: { eventType: string }[] };
        return snap.events.some((e) => e.eventType === "order.confirmed");
      },
      10_000,
      "order.confirmed on the dashboard feed",
    );
  });

  it("never lets a caller's reply subject reach JetStream: purge and undeploy replies change nothing", async () => {
    const before = await counts();
    assert.ok((before.KV_orders ?? 0) > 0 && (before.KV_inventory ?? 0) > 0);
    client.publish("fn.check_inventory", json({ items: [{ sku: "OIL-1L", quantity: 1 }] }), { reply: "$JS.API.STREAM.PURGE.KV_inventory" });
    client.publish("fn.check_inventory", json({ items: [{ sku: "OIL-1L", quantity: 1 }] }), { reply: "$JS.API.STREAM.PURGE.KV_orders" });
    client.publish("$SRV.PING", "", { reply: "$JS.API.STREAM.PURGE.KV_orders" });
    client.publish("$SRV.INFO", "", { reply: "$KV.nfn_releases.check_inventory" });
    client.publish("fn.check_inventory", json({ items: [{ sku: "OIL-1L", quantity: 1 }] }), { reply: "$JS.API.STREAM.DELETE.EVENTS" });
    // The functions answered every one of those before this reply (one connection, in order).
    await call(client, "check_inventory", { items: [{ sku: "OIL-1L", quantity: 1 }] });
    await call(client, "check_inventory", { items: [{ sku: "OIL-1L", quantity: 1 }] });
    assert.deepEqual(await counts(), before);
  });

  it("refuses a client that subscribes to other callers' inboxes", async () => {
    assert.match((await subscriptionRefusal(client, "_INBOX.>")) ?? "stayed open", /Permissions Violation for Subscription/);
    assert.match((await subscriptionRefusal(client, "_INBOX.gateway.>")) ?? "stayed open", /Permissions Violation/);
    assert.match((await subscriptionRefusal(client, ">")) ?? "stayed open", /Permissions Violation/);
    // ...while its own inbox works
    assert.equal((await call(client, "check_inventory", { items: [{ sku: "OIL-1L", quantity: 1 }] })).available, true);
  });

  it("gives named callers identities of their own that cannot read each other's replies", async () => {
    const alice = await roleClient(hooks, auth.callerEnv.alice ?? {}, server.url);
    const bob = await roleClient(hooks, auth.callerEnv.bob ?? {}, server.url);
    // Bob listens on everything he may: his own inboxes. Alice's and the gateway's replies never arrive there.
    const seen: string[] = [];
    const bobInboxes = bob.subscribe("_INBOX.caller_bob.>", {
      callback: (_err, m) => {
        seen.push(m.subject);
      },
    });
    await bob.flush();
    assert.equal((await call(alice, "check_inventory", { items: [{ sku: "OIL-1L", quantity: 1 }] })).available, true);
    assert.equal((await call(client, "check_inventory", { items: [{ sku: "OIL-1L", quantity: 1 }] })).available, true);
    const viaGateway = await fetch(`${gateway.url}/fn/check_inventory`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: json({ items: [{ sku: "OIL-1L", quantity: 1 }] }),
    });
    assert.equal(viaGateway.status, 200);
    await bob.flush();
    bobInboxes.unsubscribe();
    assert.deepEqual(seen, []);
    assert.match((await subscriptionRefusal(bob, "_INBOX.caller_alice.>")) ?? "stayed open", /Permissions Violation/);
    assert.match((await subscriptionRefusal(bob, "_INBOX.client.>")) ?? "stayed open", /Permissions Violation/);
    assert.match((await subscriptionRefusal(client, "_INBOX.caller_bob.>")) ?? "stayed open", /Permissions Violation/);
  });

  it("keeps a worker group to its own functions: no payments, no orders, no other endpoints", async () => {
    const stockWorker = await roleClient(hooks, { ...auth.groupEnv.stock, NATS_CLIENT_ID: "attacker-with-stock-key" }, server.url);
    const before = await counts();
    assert.match((await subscriptionRefusal(stockWorker, "fn.process_payment", "q")) ?? "stayed open", /Permissions Violation/);
    assert.match((await subscriptionRefusal(stockWorker, "_INBOX.worker.>")) ?? "stayed open", /Permissions Violation/);
    await assert.rejects(stockWorker.request("$KV.payments.p-1", "{}", { timeout: 2000 }), /Permissions Violation/);
    await assert.rejects(stockWorker.request("$JS.API.STREAM.PURGE.KV_orders", "{}", { timeout: 2000 }), /Permissions Violation/);
    await assert.rejects(stockWorker.request("fn.create_order", "{}", { timeout: 2000 }), /Permissions Violation/);
    // what it may do (a listener that answers nothing, so it disturbs no real call)
    assert.equal(await subscriptionRefusal(stockWorker, "$SRV.PING.reserve_stock", undefined, 300), undefined);
    assert.deepEqual(await counts(), before);
  });

  it("refuses a client that tries to answer verify_token or register a rogue create_order", async () => {
    assert.match((await subscriptionRefusal(client, "fn.verify_token", "q")) ?? "stayed open", /Permissions Violation/);
    assert.match((await subscriptionRefusal(client, "fn.create_order", "q")) ?? "stayed open", /Permissions Violation/);
    assert.match((await subscriptionRefusal(client, "$SRV.INFO.create_order")) ?? "stayed open", /Permissions Violation/);
    assert.match((await subscriptionRefusal(client, "$SRV.>")) ?? "stayed open", /Permissions Violation/);
    await gateway.discovery.refresh();
    const route = gateway.discovery.list().find((r) => r.name === "create_order");
    assert.ok(route && route.instances.length >= 1);
    assert.ok(route.instances.every((i) => i.version === "1.0.0"));
  });

  it("never exports an internal function to the callers' account", async () => {
    const exported = exportedServices([...marketplaceFunctions], DEFAULT_SUBJECTS).map((e) => e.service);
    for (const internal of ["fn.reserve_stock", "fn.release_stock", "fn.commit_stock", "fn.process_payment"]) {
      assert.ok(!exported.includes(internal), `${internal} exported`);
    }
    await assert.rejects(call(client, "reserve_stock", { orderId: "o-1", items: [{ sku: "OIL-1L", quantity: 40 }] }));
    await assert.rejects(call(client, "process_payment", { orderId: "o-1", amountCents: 1, currency: "EUR", method: "pm_card_visa" }));
    const res = await fetch(`${gateway.url}/fn/reserve_stock`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: json({ orderId: "o-1", items: [{ sku: "OIL-1L", quantity: 40 }] }),
    });
    assert.notEqual(res.status, 200);
    assert.equal((await call(client, "check_inventory", { items: [{ sku: "OIL-1L", quantity: 40 }] })).available, true);
  });

  it("keeps the deployer inside the registry: no purge, no stream list, no calls, no inboxes", async () => {
    const before = await counts();
    await assert.rejects(deployerNc.request("$JS.API.STREAM.PURGE.KV_orders", "{}", { timeout: 2000 }), /Permissions Violation/);
    await assert.rejects(deployerNc.request("$JS.API.STREAM.LIST", "{}", { timeout: 2000 }), /Permissions Violation/);
    await assert.rejects(deployerNc.request("$JS.API.STREAM.DELETE.EVENTS", "{}", { timeout: 2000 }), /Permissions Violation/);
    await assert.rejects(deployerNc.request("$KV.orders.x", "{}", { timeout: 2000 }), /Permissions Violation/);
    await assert.rejects(deployerNc.request("fn.check_inventory", "{}", { timeout: 2000 }), /Permissions Violation/);
    assert.match((await subscriptionRefusal(deployerNc, "_INBOX.>")) ?? "stayed open", /Permissions Violation/);
    assert.deepEqual(await counts(), before);
  });

  it("deploys a release with the deployer identity that the worker picks up and a client calls", async () => {
    const registry = await openRegistry(deployerNc);
    const { release } = await deployBundle(registry, bundleDir, { deployedBy: "trust-test" });
    assert.equal(release.name, "deploy_echo");
    const reply = await eventually(
      async () => {
        try {
          // Across an account import a missing responder shows as a timeout, not as "no responders".
          return await call(client, "deploy_echo", { text: "hi" }, undefined, 500);
        } catch {
          return undefined;
        }
      },
      15_000,
      "deploy_echo served",
    );
    assert.deepEqual(reply, { text: "hi", version: "1.0.0" });
  });

  it("never denies the honest identities (functions, worker, gateway) anything they needed", () => {
    // The log is read: the attacks above show in it.
    assert.ok(serverLog.split("\n").some((l) => /Violation/.test(l) && l.includes(auth.roles.client.publicKey)));
    const denied = serverLog
      .split("\n")
      .filter((l) => /Violation/.test(l))
      .filter((l) => !l.includes("attacker-with-stock-key"))
      .filter((l) =>
        [auth.roles.worker.publicKey, auth.roles.gateway.publicKey, auth.workerGroups.stock?.publicKey ?? "-"].some((k) => l.includes(k)),
      );
    // The gateway's one expected refusal: the internal function it was asked for above.
    assert.deepEqual(
      denied.filter((l) => !l.includes('"fn.reserve_stock"')),
      [],
    );
  });
});
