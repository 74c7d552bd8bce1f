/**
 * What a resumed durable run knows of its caller: the identity verified when the request came
 * (`ctx.caller`, kept in the journal), never the bearer token itself, which the journal does not
 * store (it would be a credential at rest, readable by whoever reads the journal, and it expires).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { NatsConnection } from "@nats-io/nats-core";
import { configFromEnv } from "../../runtime/config.ts";
import { startHost } from "../../runtime/host.ts";
import { createLogger } from "../../runtime/logger.ts";
import { RunsAdmin, defineFunction } from "../../runtime/index.ts";
import verifyToken from "../../functions/verify_token/index.ts";
import { Cleanup, natsClient, natsServer } from "../helpers/nats.ts";
import { send } from "../helpers/requests.ts";
import { TEST_JWT_SECRET, mintToken } from "../helpers/tokens.ts";

interface Seen {
  sub: string;
  token: boolean;
}

/** Records, before and after a durable sleep, who the caller is and whether its token is at hand. */
const whoAcrossSleep = defineFunction<{ n: number }, { before: Seen; after: Seen }>({
  name: "who_across_sleep",
  version: "1.0.0",
  description: "test: the caller before and after a resume",
  request: { type: "object", properties: { n: { type: "integer" } }, required: ["n"], additionalProperties: false },
  response: { type: "object" },
  auth: {},
  durable: { leaseMs: 2_000, pollMs: 200 },
  async handler(_input, ctx) {
    const seen = (): Seen => ({ sub: ctx.caller?.sub ?? "", token: ctx.header("Authorization") !== undefined });
    const first = await ctx.step("before", seen);
    await ctx.sleep(30);
    const second = await ctx.step("after", seen);
    return { before: first, after: second };
  },
});

describe("the caller of a resumed durable run", () => {
  const hooks = new Cleanup();
  let nc: NatsConnection;
  after(() => hooks.run());

  before(async () => {
    process.env.AUTH_JWT_SECRET = TEST_JWT_SECRET;
    const server = await natsServer(hooks);
    const host = await startHost([verifyToken, whoAcrossSleep], {
      config: configFromEnv({ NATS_URL: server.url, LOG_LEVEL: "silent" }),
      log: createLogger({}, "silent"),
    });
    hooks.after(() => host.stop(1000));
    nc = await natsClient(hooks, server);
  });

  it("keeps the verified caller after a resume but not the bearer token, and the journal holds no token", async () => {
    const token = await mintToken({ sub: "alice" });
    const reply = await send(
      nc,
      "fn.who_across_sleep",
      { n: 1 },
      { headers: { Authorization: `Bearer ${token}`, "Idempotency-Key": "who-sleep-1" } },
    );
    assert.deepEqual(reply.body, { before: { sub: "alice", token: true }, after: { sub: "alice", token: false } });
    const admin = await RunsAdmin.open(nc);
    const shown = await admin.show("who-sleep-1");
    assert.equal(shown.runs, 2, "the sleep ended in a second run");
    const final = await admin.journal.getFinal("who_across_sleep", "who-sleep-1");
    assert.ok(!JSON.stringify(final).includes(token.split(".")[2] ?? "-"), "no token signature in the journal");
    assert.ok(!JSON.stringify(shown).includes(token.split(".")[2] ?? "-"));
  });
});
