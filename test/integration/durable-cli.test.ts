import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { NatsConnection } from "@nats-io/nats-core";
import { configFromEnv } from "../../runtime/config.ts";
import { startHost } from "../../runtime/host.ts";
import { createLogger } from "../../runtime/logger.ts";
import { Cleanup, natsClient, natsServer } from "../helpers/nats.ts";
import { send } from "../helpers/requests.ts";
import { runNfn } from "../helpers/cli.ts";
import { durableFunctions } from "../fixtures/durable-functions.ts";

describe("nfn runs (ls, show, retry, cancel)", () => {
  const hooks = new Cleanup();
  let nc: NatsConnection;
  let env: Record<string, string>;
  after(() => hooks.run());

  before(async () => {
    const server = await natsServer(hooks);
    const host = await startHost(durableFunctions, {
      config: configFromEnv({ NATS_URL: server.url, LOG_LEVEL: "silent" }),
      log: createLogger({}, "silent"),
    });
    hooks.after(() => host.stop(1000));
    nc = await natsClient(hooks, server);
    env = { NATS_URL: server.url };
  });

  it("lists an ended invocation and shows it step by step", async () => {
    assert.equal((await send(nc, "fn.durable_order", { qty: 2 }, { headers: { "Idempotency-Key": "cli-1" } })).code, undefined);
    const ls = await runNfn(["runs", "ls", "durable_order", "--status", "done"], { env });
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /cli-1\s+durable_order\s+done/);
    const show = await runNfn(["runs", "show", "cli-1"], { env });
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /invocation cli-1 of durable_order: done/);
    for (const step of ["price", "reserve", "charge", "confirm"]) assert.match(show.stdout, new RegExp(`\\d+\\s+${step}\\s+step\\s+done`));
    const asJson = JSON.parse((await runNfn(["runs", "show", "cli-1", "--json"], { env })).stdout) as { steps: unknown[]; result: unknown };
    assert.equal(asJson.steps.length, 4);
  });

  it("exits 3 for an unknown id, 1 when retrying one that did not fail, 2 for a bad --status", async () => {
    const [unknown, notFailed, bad, subject] = await Promise.all([
      runNfn(["runs", "show", "nope"], { env }),
      runNfn(["runs", "retry", "cli-1"], { env }),
      runNfn(["runs", "ls", "--status", "sideways"], { env }),
      runNfn(["runs", "show", "cli-1", "--fn", "a.>"], { env }),
    ]);
    assert.equal(subject.code, 2, "a function name that is not a subject token is refused");
    assert.equal(unknown.code, 3, unknown.stderr);
    assert.match(unknown.stderr, /no invocation nope/);
    assert.equal(notFailed.code, 1, notFailed.stderr);
    assert.match(notFailed.stderr, /only a failed one can be retried/);
    assert.equal(bad.code, 2);
  });
});
