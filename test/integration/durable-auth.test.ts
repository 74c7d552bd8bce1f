import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { NatsConnection } from "@nats-io/nats-core";
import { configFromEnv } from "../../runtime/config.ts";
import { startHost } from "../../runtime/host.ts";
import { createLogger } from "../../runtime/logger.ts";
import verifyToken from "../../functions/verify_token/index.ts";
import { Cleanup, natsClient, natsServer } from "../helpers/nats.ts";
import { send } from "../helpers/requests.ts";
import { TEST_JWT_SECRET, mintToken } from "../helpers/tokens.ts";
import { durableWhoami } from "../fixtures/durable-functions.ts";

describe("durable invocation keys and callers", () => {
  const hooks = new Cleanup();
  let nc: NatsConnection;
  after(() => hooks.run());

  before(async () => {
    process.env.AUTH_JWT_SECRET = TEST_JWT_SECRET;
    const server = await natsServer(hooks);
    const host = await startHost([verifyToken, durableWhoami], {
      config: configFromEnv({ NATS_URL: server.url, LOG_LEVEL: "silent" }),
      log: createLogger({}, "silent"),
    });
    hooks.after(() => host.stop(1000));
    nc = await natsClient(hooks, server);
  });

  it("never replays one caller's reply to another caller who reuses the Idempotency-Key (422)", async () => {
    const [alice, mallory] = await Promise.all([mintToken({ sub: "alice" }), mintToken({ sub: "mallory" })]);
    const as = (token: string) => ({ headers: { Authorization: `Bearer ${token}`, "Idempotency-Key": "who-1" } });
    const first = await send(nc, "fn.durable_whoami", { n: 1 }, as(alice));
    assert.deepEqual(first.body, { sub: "alice" });
    const stolen = await send(nc, "fn.durable_whoami", { n: 1 }, as(mallory));
    assert.equal(stolen.code, 422);
    assert.ok(!JSON.stringify(stolen.body).includes("alice"));
    assert.deepEqual((await send(nc, "fn.durable_whoami", { n: 1 }, as(alice))).body, { sub: "alice" });
    const anonymous = await send(nc, "fn.durable_whoami", { n: 1 }, { headers: { "Idempotency-Key": "who-1" } });
    assert.equal(anonymous.code, 401, "auth is checked before the journal is read");
  });
});
