/**
 * Read-only view access: a bucket declared in `views` is read through `ctx.view` only, and the
 * identity `nfn auth init` computes for it may get and watch that bucket but never write it,
 * checked on a real nats-server started from the generated accounts.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { NatsConnection } from "@nats-io/nats-core";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { defineFunction } from "../../runtime/define-function.ts";
import { startHost } from "../../runtime/host.ts";
import { createLogger } from "../../runtime/logger.ts";
import { functionPermissions } from "../../deploy/auth/permissions.ts";
import checkInventory from "../../functions/check_inventory/index.ts";
import { marketplaceFunctions } from "../fixtures/marketplace-functions.ts";
import { type GeneratedAuth, generateAuth, roleClient, roleConfig } from "../helpers/auth.ts";
import { Cleanup, eventually, natsServer } from "../helpers/nats.ts";
import { send } from "../helpers/requests.ts";
import { TEST_JWT_SECRET, mintToken } from "../helpers/tokens.ts";

const hooks = new Cleanup();

// Reads the inventory through its view; on request also tries to open it for writing, which it did not declare.
const peeker = defineFunction<{ sku: string; write?: boolean }, { onHand: number | null }>({
  name: "view_peeker",
  version: "1.0.0",
  description: "reads a sku from the inventory view",
  request: { type: "object", required: ["sku"], properties: { sku: { type: "string" }, write: { type: "boolean" } } },
  response: { type: "object" },
  views: ["inventory"],
  async handler(input, ctx) {
    if (input.write) await (await ctx.kv("inventory")).put(input.sku, "{}");
    const rec = await ctx.view<{ onHand: number }>("inventory").get(input.sku);
    return { onHand: rec?.onHand ?? null };
  },
});

describe("read-only view access", () => {
  let auth: GeneratedAuth;
  let client: NatsConnection;
  let viewer: NatsConnection;
  let serverLog = "";
  const logLines: string[] = [];

  before(async () => {
    process.env.AUTH_JWT_SECRET = TEST_JWT_SECRET;
    auth = await generateAuth(hooks, [...marketplaceFunctions, peeker], undefined, [], { view: ["check_inventory", "view_peeker"] });
    const server = await natsServer(hooks, { args: ["-c", auth.conf] });
    server.process.stderr?.on("data", (chunk: Buffer) => (serverLog += chunk.toString()));
    // The writers run under the full worker identity; the readers only under the view group's.
    const writers = marketplaceFunctions.filter((d) => d.name === "put_product" || d.name === "verify_token");
    const writerHost = await startHost(writers, { config: roleConfig(auth.env.worker, server.url), log: createLogger({}, "silent") });
    hooks.after(() => writerHost.stop(2000));
    const viewEnv = auth.groupEnv.view ?? {};
    const readerHost = await startHost([checkInventory, peeker], {
      config: roleConfig(viewEnv, server.url),
      log: createLogger({}, "error", (line) => logLines.push(line)),
    });
    hooks.after(() => readerHost.stop(2000));
    client = await roleClient(hooks, auth.env.client, server.url);
    viewer = await roleClient(hooks, viewEnv, server.url);
    const admin = await mintToken({ sub: "admin-1", scope: "inventory:admin" });
    const put = await send(
      client,
      "fn.put_product",
      { sku: "HONEY-1", name: "honey", priceCents: 800, onHand: 7 },
      {
        headers: { Authorization: `Bearer ${admin}` },
        timeout: 10_000,
      },
    );
    assert.equal(put.code, undefined, JSON.stringify(put.body));
  });
  after(() => hooks.run());

  it("computes get and watch subjects for a views bucket, and no $KV put, delete or purge", () => {
    const p = functionPermissions(checkInventory);
    for (const s of ["$JS.API.STREAM.INFO.KV_inventory", "$JS.API.DIRECT.GET.KV_inventory.>", "$JS.API.CONSUMER.CREATE.KV_inventory.>"]) {
      assert.ok(p.publish.includes(s), `${s} missing`);
    }
    for (const s of [
      "$KV.inventory.>",
      "$JS.API.STREAM.PURGE.KV_inventory",
      "$JS.API.STREAM.UPDATE.KV_inventory",
      "$JS.API.STREAM.MSG.DELETE.KV_inventory",
    ]) {
      assert.ok(!p.publish.includes(s), `${s} allowed`);
    }
  });

  it("serves check_inventory from the view under the read-only identity", async () => {
    const reply = await eventually(
      async () => {
        const r = await send(client, "fn.check_inventory", { items: [{ sku: "HONEY-1", quantity: 2 }] }, { timeout: 10_000 });
        return r.code === undefined ? r : undefined;
      },
      10_000,
      "check_inventory answering",
    );
    assert.deepEqual((reply.body as { items: unknown[] }).items, [
      { sku: "HONEY-1", requested: 2, available: 7, ok: true, priceCents: 800, currency: "EUR", name: "honey" },
    ]);
    const peek = await send(client, "fn.view_peeker", { sku: "HONEY-1" }, { timeout: 10_000 });
    assert.deepEqual(peek.body, { onHand: 7 });
  });

  it("refuses a put, a delete and a purge of the bucket by the read-only identity, and nothing changes", async () => {
    const kv = await new Kvm(jetstream(viewer)).open("inventory");
    assert.equal((await kv.get("HONEY-1"))?.json<{ onHand: number }>().onHand, 7, "the identity may read");
    const refused = /Permissions Violation for Publish to "\$(KV\.inventory\.HONEY-1|JS\.API\.STREAM\.PURGE\.KV_inventory)"/;
    await assert.rejects(kv.put("HONEY-1", JSON.stringify({ onHand: 1_000_000 }), { timeout: 2000 }), refused);
    await assert.rejects(kv.delete("HONEY-1"), refused);
    await assert.rejects((await jetstreamManager(viewer, { timeout: 2000 })).streams.purge("KV_inventory"), refused);
    assert.match(serverLog, /Violation/);
    const after = await send(client, "fn.check_inventory", { items: [{ sku: "HONEY-1", quantity: 1 }] }, { timeout: 10_000 });
    assert.equal((after.body as { items: { available: number }[] }).items[0]?.available, 7);
  });

  it("answers 500 when a function opens a views-only bucket for writing, and logs which declaration to add", async () => {
    const reply = await send(client, "fn.view_peeker", { sku: "HONEY-1", write: true }, { timeout: 10_000 });
    assert.equal(reply.code, 500);
    assert.ok(
      logLines.some((l) => l.includes('add \\"inventory\\" to kv: [...]')),
      `log names the declaration: ${logLines.join("\n").slice(0, 2000)}`,
    );
  });
});
