import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { NatsConnection } from "@nats-io/nats-core";
import { configFromEnv } from "../../runtime/config.ts";
import { startHost } from "../../runtime/host.ts";
import { createLogger } from "../../runtime/logger.ts";
import { Cleanup, natsClient, natsServer } from "../helpers/nats.ts";
import { send } from "../helpers/requests.ts";
import { fakeVerifyToken, whoami } from "../fixtures/probe-functions.ts";

describe("functions that declare auth", () => {
  let nc: NatsConnection;
  const cleanup = new Cleanup();
  after(() => cleanup.run());

  before(async () => {
    const server = await natsServer(cleanup);
    const host = await startHost([fakeVerifyToken, whoami], {
      config: configFromEnv({ NATS_URL: server.url }),
      log: createLogger({}, "silent"),
    });
    cleanup.after(() => host.stop(500));
    nc = await natsClient(cleanup, server);
  });

  const verifyCalls = async () => {
    const stats = JSON.parse((await nc.request("$SRV.STATS.verify_token")).string()) as { endpoints: Array<{ num_requests: number }> };
    return stats.endpoints[0]?.num_requests ?? -1;
  };

  it("answers 401 without a bearer token, before asking verify_token", async () => {
    const reply = await send(nc, "fn.whoami", {});
    assert.equal(reply.code, 401);
    assert.match(reply.errorHeader ?? "", /Authorization: Bearer/);
    assert.equal(await verifyCalls(), 0);
  });

  it("passes verify_token's 401 through", async () => {
    const reply = await send(nc, "fn.whoami", {}, { headers: { Authorization: "Bearer forged" } });
    assert.equal(reply.code, 401);
    assert.equal(reply.errorHeader, "token is not valid");
  });

  it("answers 403 when the token lacks a required scope", async () => {
    const reply = await send(nc, "fn.whoami", {}, { headers: { Authorization: "Bearer good/bob/orders:write" } });
    assert.equal(reply.code, 403);
    assert.match(reply.errorHeader ?? "", /reports:read/);
  });

  it("gives the handler the verified caller, and asks verify_token once per token", async () => {
    const before = await verifyCalls();
    for (let i = 0; i < 3; i++) {
      const reply = await send(nc, "fn.whoami", {}, { headers: { Authorization: "Bearer good/alice/reports:read" } });
      assert.deepEqual(reply.body, { sub: "alice", scopes: ["reports:read"] });
    }
    assert.equal(await verifyCalls(), before + 1);
  });
});
