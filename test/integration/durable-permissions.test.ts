/** Durable functions under the least-privilege identities `nfn auth init` computes, on a real server. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { headers, type NatsConnection } from "@nats-io/nats-core";
import { startHost } from "../../runtime/host.ts";
import { createLogger } from "../../runtime/logger.ts";
import { RunsAdmin } from "../../runtime/index.ts";
import { generateAuth, roleClient, roleConfig } from "../helpers/auth.ts";
import { Cleanup, eventually, natsServer } from "../helpers/nats.ts";
import { durableFunctions } from "../fixtures/durable-functions.ts";

describe("durable functions under their computed permissions", () => {
  const hooks = new Cleanup();
  let client: NatsConnection;
  let functionsNc: NatsConnection;
  after(() => hooks.run());

  before(async () => {
    const auth = await generateAuth(hooks, durableFunctions, undefined, ["alice"]);
    const server = await natsServer(hooks, { args: ["-c", auth.conf] });
    const host = await startHost(durableFunctions, { config: roleConfig(auth.env.worker, server.url), log: createLogger({}, "silent") });
    hooks.after(() => host.stop(1000));
    client = await roleClient(hooks, auth.env.client, server.url);
    functionsNc = await roleClient(hooks, auth.env.worker, server.url);
  });

  const call = async (fn: string, body: unknown, key: string) => {
    const h = headers();
    h.set("Idempotency-Key", key);
    const msg = await client.request(`fn.${fn}`, JSON.stringify(body), { timeout: 10_000, headers: h });
    return { code: msg.headers?.get("Nats-Service-Error-Code") || undefined, body: msg.json<Record<string, unknown>>() };
  };

  it("journals steps, sleeps, and waits for an event its own step emitted, with nothing denied", async () => {
    const order = await call("durable_order", { qty: 2, effects: true }, "perm-1");
    assert.equal(order.code, undefined, JSON.stringify(order.body));
    assert.equal(order.body.status, "confirmed");
    const slept = await call("durable_sleeper", { sleepMs: 100 }, "perm-2");
    assert.deepEqual(slept.body, { slept: true, event: null });
    const waited = await call("durable_selfwait", { ref: "perm-3" }, "perm-3");
    assert.equal(waited.code, undefined, JSON.stringify(waited.body));
    assert.equal(typeof waited.body.eventId, "string");
    const admin = await RunsAdmin.open(functionsNc);
    await eventually(async () => (await admin.journal.openIds()).length === 0, 5000, "the open index to empty");
    assert.equal((await admin.show("perm-1")).steps.length, 4);
  });

  it("keeps a caller out of the journal bucket", async () => {
    await assert.rejects(RunsAdmin.open(client).then((a) => a.show("perm-1")));
  });
});
