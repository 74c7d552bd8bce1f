/** nfn auth init: computed permissions, kept and rotated keys, and the files it writes (no server). */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { defineFunction } from "../../runtime/define-function.ts";
import type { FunctionDefinition } from "../../runtime/define-function.ts";
import { connectWithRetry, hasCredentials, onlyLoopback } from "../../runtime/connect.ts";
import { createLogger } from "../../runtime/logger.ts";
import { createUser } from "@nats-io/nkeys";
import { configFromEnv } from "../../runtime/config.ts";
import { authInit } from "../../deploy/auth/init.ts";
import { DEFAULT_SUBJECTS, callerPermissions, deployerPermissions, functionPermissions } from "../../deploy/auth/permissions.ts";
import { marketplaceFunctions } from "../fixtures/marketplace-functions.ts";
import { parseEnvFile } from "../helpers/auth.ts";

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const temp = () => {
  const d = mkdtempSync(join(tmpdir(), "nfn-auth-unit-"));
  dirs.push(d);
  return d;
};
const byName = (name: string) => marketplaceFunctions.find((d) => d.name === name) as FunctionDefinition;
const init = (dir: string, defs: FunctionDefinition[], extra: { rotate?: boolean; retireOldSigners?: boolean } = {}) =>
  authInit({ dir, functionsDir: "functions", defs, settings: DEFAULT_SUBJECTS, ...extra });

describe("computed permissions", () => {
  it("lets create_order publish only to what it declares: its calls, its buckets, its events", () => {
    const p = functionPermissions(byName("create_order"));
    for (const s of ["fn.reserve_stock", "fn.process_payment", "$KV.orders.>", "$JS.API.STREAM.INFO.KV_orders", "events.order.created"]) {
      assert.ok(p.publish.includes(s), `${s} missing`);
    }
    for (const s of [
      "$JS.API.>",
      "fn.>",
      ">",
      "$KV.inventory.>",
      "events.>",
      "events.stock.reserved",
      "$JS.API.STREAM.PURGE.KV_inventory",
    ]) {
      assert.ok(!p.publish.includes(s), `${s} allowed`);
    }
    assert.ok(p.subscribe.includes("fn.create_order q"));
    assert.ok(!p.subscribe.some((s) => s.startsWith("fn.") && s !== "fn.create_order q"));
  });

  it("gives a trigger its own durable consumers and the dead-letter subject, and no endpoint to an event-only function", () => {
    const p = functionPermissions(byName("notify_customer"));
    assert.ok(p.publish.includes("$JS.API.CONSUMER.MSG.NEXT.EVENTS.notify_customer__order_confirmed"));
    assert.ok(p.publish.includes("$JS.ACK.EVENTS.notify_customer__order_cancelled.>"));
    assert.ok(p.publish.includes("dlq.notify_customer.>"));
    assert.ok(!p.subscribe.some((s) => s.startsWith("fn.")));
    assert.ok(!p.publish.includes("_R_.>"));
  });

  it("lets callers reach public functions only and the deployer the registry only", () => {
    const caller = callerPermissions(marketplaceFunctions, "_INBOX.client");
    assert.ok(caller.publish.includes("fn.create_order"));
    assert.ok(!caller.publish.includes("fn.reserve_stock"));
    assert.deepEqual(caller.subscribe, ["_INBOX.client.>"]);
    const deployer = deployerPermissions();
    assert.ok(deployer.publish.includes("$KV.nfn_releases.>"));
    assert.ok(deployer.publish.every((s) => !/KV_orders|STREAM\.LIST|STREAM\.DELETE|^fn\./.test(s)));
  });
});

describe("auth init files and keys", () => {
  it("writes the config, one 0600 .env per role with its seed and inbox, and the signing variables", async () => {
    const dir = temp();
    const result = await init(join(dir, "auth"), marketplaceFunctions);
    assert.equal(statSync(join(dir, "auth")).mode & 0o777, 0o700);
    for (const role of ["worker", "deployer", "gateway", "client"]) {
      const file = join(dir, "auth", `${role}.env`);
      assert.equal(statSync(file).mode & 0o777, 0o600);
      const env = parseEnvFile(readFileSync(file, "utf8"));
      assert.match(env.NATS_NKEY_SEED ?? "", /^SU[A-Z2-7]+$/);
      assert.match(env.NATS_INBOX_PREFIX ?? "", /^_INBOX\./);
      assert.equal("NFN_SIGNING_KEY" in env, role === "deployer");
      assert.equal("NFN_TRUSTED_SIGNERS" in env, role === "worker");
    }
    const worker = parseEnvFile(readFileSync(join(dir, "auth", "worker.env"), "utf8"));
    assert.deepEqual(worker.NFN_TRUSTED_SIGNERS?.split(","), result.trustedSigners);
    const conf = readFileSync(join(dir, "auth", "nats-server.conf"), "utf8");
    assert.match(conf, /include "accounts.conf"/);
    const accounts = readFileSync(join(dir, "auth", "accounts.conf"), "utf8");
    assert.ok(!/password/i.test(accounts));
  });

  it("keeps the keys when run again, and adds a new function's permissions", async () => {
    const dir = temp();
    const first = await init(dir, marketplaceFunctions);
    const extra = defineFunction({
      name: "ship_order",
      version: "1.0.0",
      description: "test",
      request: {},
      response: {},
      kv: ["shipments"],
      handler: () => ({}),
    }) as FunctionDefinition;
    const second = await init(dir, [...marketplaceFunctions, extra]);
    assert.equal(second.keysCreated, false);
    assert.equal(second.roles.worker.publicKey, first.roles.worker.publicKey);
    assert.deepEqual(second.trustedSigners, first.trustedSigners);
    assert.ok(second.roles.worker.permissions.subscribe.includes("fn.ship_order q"));
    assert.ok(second.roles.worker.permissions.publish.includes("$KV.shipments.>"));
    assert.ok(second.roles.client.permissions.publish.includes("fn.ship_order"));
    assert.ok(!first.roles.worker.permissions.publish.includes("$KV.shipments.>"));
  });

  it("gives a named caller its own identity and inbox, kept when run again without naming it", async () => {
    const dir = temp();
    const first = await authInit({
      dir,
      functionsDir: "functions",
      defs: marketplaceFunctions,
      settings: DEFAULT_SUBJECTS,
      callers: ["alice"],
    });
    assert.deepEqual(first.callers.alice?.permissions.subscribe, ["_INBOX.caller_alice.>"]);
    assert.match(readFileSync(join(dir, "caller-alice.env"), "utf8"), /NATS_INBOX_PREFIX=_INBOX\.caller_alice/);
    const again = await init(dir, marketplaceFunctions);
    assert.equal(again.callers.alice?.publicKey, first.callers.alice?.publicKey);
    await assert.rejects(
      authInit({ dir, functionsDir: "functions", defs: marketplaceFunctions, settings: DEFAULT_SUBJECTS, callers: ["../x"] }),
      /caller name/,
    );
  });

  it("gives a worker group only its functions' permissions, kept when run again", async () => {
    const dir = temp();
    const stock = ["check_inventory", "reserve_stock", "release_stock", "commit_stock"];
    const first = await authInit({
      dir,
      functionsDir: "functions",
      defs: marketplaceFunctions,
      settings: DEFAULT_SUBJECTS,
      workerGroups: { stock },
    });
    const p = first.workerGroups.stock?.permissions;
    assert.ok(p);
    assert.ok(p.subscribe.includes("fn.reserve_stock q"));
    assert.ok(p.subscribe.includes("_INBOX.worker_stock.>"));
    assert.ok(!p.subscribe.includes("fn.create_order q"));
    assert.ok(!p.publish.some((s) => s.includes("payments") || s.includes("KV_orders")));
    assert.match(
      readFileSync(join(dir, "worker-stock.env"), "utf8"),
      /nfn worker --only check_inventory,commit_stock,release_stock,reserve_stock/,
    );
    const again = await init(dir, marketplaceFunctions);
    assert.equal(again.workerGroups.stock?.publicKey, first.workerGroups.stock?.publicKey);
    await assert.rejects(
      authInit({ dir, functionsDir: "functions", defs: marketplaceFunctions, settings: DEFAULT_SUBJECTS, workerGroups: { x: ["nope"] } }),
      /worker group x names unknown functions nope/,
    );
  });

  it("rotates every key on --rotate, trusting the old signer until it is retired", async () => {
    const dir = temp();
    const first = await init(dir, marketplaceFunctions);
    const rotated = await init(dir, marketplaceFunctions, { rotate: true });
    assert.notEqual(rotated.roles.worker.publicKey, first.roles.worker.publicKey);
    assert.equal(rotated.trustedSigners.length, 2);
    assert.ok(rotated.trustedSigners.includes(first.trustedSigners[0] ?? ""));
    const retired = await init(dir, marketplaceFunctions, { retireOldSigners: true });
    assert.deepEqual(retired.trustedSigners, [rotated.trustedSigners[1]]);
  });
});

describe("connection credentials", () => {
  it("reads NATS_NKEY_SEED, NATS_NKEY and NATS_INBOX_PREFIX", () => {
    const config = configFromEnv({ NATS_NKEY_SEED: "SUx", NATS_INBOX_PREFIX: "_INBOX.client", NATS_NKEY: "/k" });
    assert.equal(config.nkeySeed, "SUx");
    assert.equal(config.nkeyFile, "/k");
    assert.equal(config.inboxPrefix, "_INBOX.client");
    assert.equal(hasCredentials(config), true);
    assert.equal(hasCredentials(configFromEnv({})), false);
  });

  it("tells loopback servers from network ones, for the no-credentials warning", () => {
    assert.equal(onlyLoopback(["nats://127.0.0.1:4222", "localhost:4223", "nats://[::1]:4222"]), true);
    assert.equal(onlyLoopback(["nats://127.0.0.1:4222", "nats://10.0.0.5:4222"]), false);
    assert.equal(onlyLoopback(["tls://nats.example.com:4222"]), false);
  });

  it("warns at start when a process connects to a network address without credentials", async () => {
    const lines: string[] = [];
    const log = createLogger({}, "warn", (line) => lines.push(line));
    // 192.0.2.1 is TEST-NET-1: never reachable, so the attempt is aborted right after the warning.
    const config = { ...configFromEnv({ NATS_URL: "nats://192.0.2.1:4222" }) };
    await assert.rejects(connectWithRetry(config, { log, signal: AbortSignal.timeout(300) }));
    assert.ok(
      lines.some((l) => l.includes("without credentials on a network address")),
      lines.join("\n"),
    );
    const quiet: string[] = [];
    const withSeed = { ...config, nkeySeed: new TextDecoder().decode(createUser().getSeed()) };
    await assert.rejects(
      connectWithRetry(withSeed, { log: createLogger({}, "warn", (l) => quiet.push(l)), signal: AbortSignal.timeout(300) }),
    );
    assert.ok(!quiet.some((l) => l.includes("without credentials")));
  });
});
