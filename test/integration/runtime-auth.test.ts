/** Functions that declare auth: the runtime verifies the bearer token in-process, then checks scopes. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { NatsConnection } from "@nats-io/nats-core";
import { configFromEnv } from "../../runtime/config.ts";
import { startHost } from "../../runtime/host.ts";
import { createLogger } from "../../runtime/logger.ts";
import { Cleanup, natsClient, natsServer } from "../helpers/nats.ts";
import { send } from "../helpers/requests.ts";
import { TEST_JWT_SECRET, mintToken, noneToken } from "../helpers/tokens.ts";
import { whoami } from "../fixtures/probe-functions.ts";

describe("functions that declare auth", () => {
  let nc: NatsConnection;
  const cleanup = new Cleanup();
  after(() => cleanup.run());

  before(async () => {
    process.env.AUTH_JWT_SECRET = TEST_JWT_SECRET;
    const server = await natsServer(cleanup);
    const host = await startHost([whoami], {
      config: configFromEnv({ NATS_URL: server.url }),
      log: createLogger({}, "silent"),
    });
    cleanup.after(() => host.stop(500));
    nc = await natsClient(cleanup, server);
  });

  const bearer = (token: string) => ({ headers: { Authorization: `Bearer ${token}` } });

  it("answers 401 without a bearer token", async () => {
    const reply = await send(nc, "fn.whoami", {});
    assert.equal(reply.code, 401);
    assert.match(reply.errorHeader ?? "", /Authorization: Bearer/);
  });

  it("answers 401 for a forged, wrongly signed, expired or unsigned token", async () => {
    for (const token of [
      "forged",
      await mintToken({ secret: "another-secret-of-enough-length-0123456789", scope: "reports:read" }),
      await mintToken({ expiresInSec: -60, scope: "reports:read" }),
      noneToken("alice", "reports:read"),
    ]) {
      const reply = await send(nc, "fn.whoami", {}, bearer(token));
      assert.equal(reply.code, 401, token.slice(0, 40));
    }
  });

  it("answers 403 when the token lacks a required scope", async () => {
    const reply = await send(nc, "fn.whoami", {}, bearer(await mintToken({ sub: "bob", scope: "orders:write" })));
    assert.equal(reply.code, 403);
    assert.match(reply.errorHeader ?? "", /reports:read/);
  });

  it("gives the handler the verified caller, token after token", async () => {
    const token = await mintToken({ sub: "alice", scope: "reports:read" });
    for (let i = 0; i < 3; i++) {
      const reply = await send(nc, "fn.whoami", {}, bearer(token));
      assert.deepEqual(reply.body, { sub: "alice", scopes: ["reports:read"] });
    }
  });
});
