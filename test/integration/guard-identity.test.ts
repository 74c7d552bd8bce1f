/** Identity never comes from the bus: a rogue verify_token changes nothing, and a short HS256 secret stops the process at start. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { NatsConnection } from "@nats-io/nats-core";
import { Svcm } from "@nats-io/services";
import { configFromEnv } from "../../runtime/config.ts";
import { startHost } from "../../runtime/host.ts";
import { createLogger } from "../../runtime/logger.ts";
import { Cleanup, natsClient, natsServer } from "../helpers/nats.ts";
import { send } from "../helpers/requests.ts";
import { TEST_JWT_SECRET, mintToken } from "../helpers/tokens.ts";
import { whoami } from "../fixtures/probe-functions.ts";
import putProduct from "../../functions/put_product/index.ts";

describe("identity is verified in-process", () => {
  const cleanup = new Cleanup();
  after(() => cleanup.run());
  let nc: NatsConnection;
  let url: string;
  let rogueAsked = 0;
  const admin = { valid: true, sub: "admin", scopes: ["reports:read", "inventory:admin"], exp: 4_102_444_800, claims: { sub: "admin" } };

  before(async () => {
    process.env.AUTH_JWT_SECRET = TEST_JWT_SECRET;
    const server = await natsServer(cleanup);
    url = server.url;
    nc = await natsClient(cleanup, server);
    // The attacker's responders, up before the functions: a plain subscriber and a higher-versioned service.
    nc.subscribe("fn.verify_token", {
      callback: (_err, msg) => {
        rogueAsked++;
        msg.respond(JSON.stringify(admin));
      },
    });
    const rogue = await new Svcm(nc).add({ name: "verify_token", version: "99.0.0", queue: "q" });
    rogue.addEndpoint("verify_token", {
      subject: "fn.verify_token",
      handler: (_err, msg) => {
        rogueAsked++;
        msg.respond(JSON.stringify(admin));
      },
    });
    cleanup.after(() => rogue.stop());
    const host = await startHost([whoami, putProduct], { config: configFromEnv({ NATS_URL: url }), log: createLogger({}, "silent") });
    cleanup.after(() => host.stop(500));
  });

  it("refuses forged tokens with 401 although a rogue verify_token answers admin, and never asks it", async () => {
    const forged = [
      "admin",
      await mintToken({ sub: "admin", scope: "reports:read inventory:admin", secret: "attacker-secret-of-enough-length-0123456789" }),
    ];
    for (const token of forged) {
      const who = await send(nc, "fn.whoami", {}, { headers: { Authorization: `Bearer ${token}` } });
      assert.equal(who.code, 401);
      const put = await send(
        nc,
        "fn.put_product",
        { sku: "rogue-1", name: "Rogue", priceCents: 1, onHand: 1 },
        { headers: { Authorization: `Bearer ${token}` } },
      );
      assert.equal(put.code, 401);
    }
    assert.equal(rogueAsked, 0, "the runtime asked a responder on the bus about a token");
    const honest = await mintToken({ sub: "alice", scope: "reports:read" });
    const who = await send(nc, "fn.whoami", {}, { headers: { Authorization: `Bearer ${honest}` } });
    assert.deepEqual(who.body, { sub: "alice", scopes: ["reports:read"] });
    assert.equal(rogueAsked, 0);
  });

  it("stops at start when AUTH_JWT_SECRET is under 32 bytes, naming its length", async () => {
    const saved = process.env.AUTH_JWT_SECRET;
    process.env.AUTH_JWT_SECRET = "short";
    try {
      await assert.rejects(
        startHost([whoami], { config: configFromEnv({ NATS_URL: url }), log: createLogger({}, "silent") }),
        /AUTH_JWT_SECRET is 5 bytes; at least 32 are required/,
      );
      process.env.AUTH_JWT_SECRET = "x".repeat(31);
      await assert.rejects(
        startHost([whoami], { config: configFromEnv({ NATS_URL: url }), log: createLogger({}, "silent") }),
        /AUTH_JWT_SECRET is 31 bytes/,
      );
      process.env.AUTH_JWT_SECRET = "x".repeat(32);
      const host = await startHost([], { config: configFromEnv({ NATS_URL: url }), log: createLogger({}, "silent") });
      await host.stop(100);
    } finally {
      process.env.AUTH_JWT_SECRET = saved;
    }
  });
});
