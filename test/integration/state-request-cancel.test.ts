/** The shared cancellation error of answered requests: answers, refusals and cancellations behave as before. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { NatsConnection } from "@nats-io/nats-core";
import { shareRequestCancelError } from "../../runtime/nats-request-quirk.ts";
import { Cleanup, natsClient, natsServer } from "../helpers/nats.ts";

describe("requests with the shared cancellation error", () => {
  const hooks = new Cleanup();
  after(() => hooks.run());
  let nc: NatsConnection;

  before(async () => {
    shareRequestCancelError();
    shareRequestCancelError();
    nc = await natsClient(hooks, await natsServer(hooks));
    nc.subscribe("echo", { callback: (_err, msg) => void msg.respond(msg.data) });
    nc.subscribe("silent", { callback: () => undefined });
  });

  it("still answers many requests, and each its own", async () => {
    const replies = await Promise.all(Array.from({ length: 200 }, (_, i) => nc.request("echo", String(i), { timeout: 5000 })));
    assert.deepEqual(
      replies.map((m) => m.string()),
      Array.from({ length: 200 }, (_, i) => String(i)),
    );
  });

  it("still fails a request nobody answers with no responders, and one answered too late with a timeout", async () => {
    await assert.rejects(
      nc.request("nobody", "x", { timeout: 1000 }),
      (err: Error) => err.name === "RequestError" || err.name === "NoRespondersError",
    );
    await assert.rejects(nc.request("silent", "x", { timeout: 200 }), { name: "TimeoutError" });
  });

  it("still fails a request in flight when the connection closes", async () => {
    const other = await natsClient(hooks, { url: `nats://${nc.getServer()}` });
    const pending = other.request("silent", "x", { timeout: 10_000 });
    await other.close();
    await assert.rejects(pending);
  });
});
