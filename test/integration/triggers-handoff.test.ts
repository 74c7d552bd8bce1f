import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { NatsConnection } from "@nats-io/nats-core";
import { jetstream } from "@nats-io/jetstream";
import { configFromEnv } from "../../runtime/config.ts";
import { defineFunction, type DomainEvent } from "../../runtime/index.ts";
import { startHost } from "../../runtime/host.ts";
import { createLogger } from "../../runtime/logger.ts";
import type { LocalNatsServer } from "../../runtime/nats-server.ts";
import { createStateAccess } from "../../runtime/state.ts";
import { Cleanup, eventually, natsClient, natsServer } from "../helpers/nats.ts";

const EVENTS = 40;
const handledBy = new Map<string, string[]>();
const empty = { type: "object", additionalProperties: false };

// The same function as two deployments would run it; each records which instance handled an event.
function slowRecorder(instance: string) {
  return defineFunction({
    name: "slow_recorder",
    version: "1.0.0",
    description: "test: records each event after a short pause",
    request: empty,
    response: empty,
    endpoint: false,
    trigger: { events: ["test.tick"] },
    kv: ["ticks"],
    handler: () => ({}),
    async onEvent(event, ctx) {
      await new Promise((r) => setTimeout(r, 50));
      handledBy.set(event.eventId, [...(handledBy.get(event.eventId) ?? []), instance]);
      await (await ctx.kv("ticks")).put(event.eventId, instance);
    },
  });
}

void describe("event-triggered functions across a redeploy", () => {
  const hooks = new Cleanup();
  let server: LocalNatsServer;
  let nc: NatsConnection;
  after(() => hooks.run());
  before(async () => {
    server = await natsServer(hooks);
    nc = await natsClient(hooks, server);
  });

  void it("stopping the old instance while events flow hands every unhandled event to the new one", { timeout: 60_000 }, async () => {
    const config = configFromEnv({ NATS_URL: server.url });
    const log = createLogger({}, "silent");
    const oldHost = await startHost([slowRecorder("old")], { config, log });
    hooks.after(() => oldHost.stop(1000));
    const js = jetstream(nc);
    const ids: string[] = [];
    for (let i = 0; i < EVENTS; i++) {
      const event: DomainEvent = {
        eventId: randomUUID(),
        eventType: "test.tick",
        aggregateId: `tick-${i}`,
        eventVersion: 1,
        occurredOn: new Date().toISOString(),
        eventData: { i },
        metadata: { correlationId: randomUUID(), causationId: randomUUID(), source: "test" },
      };
      ids.push(event.eventId);
      await js.publish("events.test.tick", JSON.stringify(event), { msgID: event.eventId });
    }
    await eventually(() => handledBy.size >= 3, 10_000, "the old instance to start handling");
    const newHost = await startHost([slowRecorder("new")], { config, log });
    hooks.after(() => newHost.stop(1000));
    await oldHost.stop(2000);

    const ticks = await createStateAccess(nc, 1).kv("ticks");
    // Well under the consumer's ack wait (10 s): handed-back events are redelivered at once, not after a timeout.
    await eventually(
      async () => (await Promise.all(ids.map((id) => ticks.get(id)))).every((e) => e?.operation === "PUT"),
      8_000,
      "every event handled",
    );
    const instances = new Set([...handledBy.values()].flat());
    assert.ok(instances.has("old") && instances.has("new"), `both instances handled events (${[...instances].join(", ")})`);
  });
});
