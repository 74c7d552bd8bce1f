import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import type { NatsConnection } from "@nats-io/nats-core";
import { jetstream, jetstreamManager, type JetStreamClient } from "@nats-io/jetstream";
import { configFromEnv } from "../../runtime/config.ts";
import { defineFunction, type DomainEvent } from "../../runtime/index.ts";
import { startHost, type Host } from "../../runtime/host.ts";
import { createLogger } from "../../runtime/logger.ts";
import { DLQ_STREAM, type DeadLetter, triggerConsumerName } from "../../runtime/triggers.ts";
import notifyCustomer from "../../functions/notify_customer/index.ts";
import { Cleanup, eventually, natsClient, natsServer } from "../helpers/nats.ts";
import { readEvents } from "../fixtures/marketplace.ts";

const seen = new Map<string, number>();
const empty = { type: "object", additionalProperties: false };

// Records every event it is given; fails every time on events whose data says poison.
const recorder = defineFunction({
  name: "recorder",
  version: "1.0.0",
  description: "test: records events, fails on poison",
  request: empty,
  response: empty,
  endpoint: false,
  trigger: { events: ["test.poked", "test.prodded"], maxDeliveries: 3, backoffMs: [50] },
  kv: ["recorded"],
  handler: () => ({}),
  async onEvent(event, ctx) {
    seen.set(event.eventId, (seen.get(event.eventId) ?? 0) + 1);
    if (event.eventData.poison === true) throw new Error("poisoned on purpose");
    const kv = await ctx.kv("recorded");
    await kv.put(event.eventId, JSON.stringify({ type: event.eventType, correlationId: ctx.correlationId, requestId: ctx.requestId }));
  },
});

function envelope(eventType: string, data: Record<string, unknown>, aggregateId = randomUUID()): DomainEvent {
  return {
    eventId: randomUUID(),
    eventType,
    aggregateId,
    eventVersion: 1,
    occurredOn: new Date().toISOString(),
    eventData: data,
    metadata: { correlationId: randomUUID(), causationId: randomUUID(), source: "test" },
  };
}

void describe("event-triggered functions", () => {
  const hooks = new Cleanup();
  let nc: NatsConnection;
  let js: JetStreamClient;
  let host: Host;
  after(() => hooks.run());

  before(async () => {
    const server = await natsServer(hooks);
    host = await startHost([recorder, notifyCustomer], {
      config: configFromEnv({ NATS_URL: server.url }),
      log: createLogger({}, "silent"),
    });
    hooks.after(() => host.stop(2000));
    nc = await natsClient(hooks, server);
    js = jetstream(nc);
  });

  void it("runs onEvent with the event's id and correlation id, and acks it", async () => {
    const event = envelope("test.poked", { n: 1 });
    await js.publish("events.test.poked", JSON.stringify(event), { msgID: event.eventId });
    const kv = await host.state.kv("recorded");
    const stored = await eventually(
      async () => (await kv.get(event.eventId))?.json<{ correlationId: string; requestId: string }>(),
      10_000,
      "recorded event",
    );
    assert.equal(stored.correlationId, event.metadata.correlationId);
    assert.equal(stored.requestId, event.eventId);
    const jsm = await jetstreamManager(nc);
    await eventually(
      async () => (await jsm.consumers.info("EVENTS", triggerConsumerName("recorder", "test.poked"))).num_ack_pending === 0,
      5000,
      "ack",
    );
  });

  void it("parks a poisoned event on EVENTS_DLQ after maxDeliveries while other events keep flowing", async () => {
    const poison = envelope("test.prodded", { poison: true });
    const good = Array.from({ length: 5 }, (_, i) => envelope(i % 2 ? "test.poked" : "test.prodded", { n: i }));
    await js.publish("events.test.prodded", JSON.stringify(poison), { msgID: poison.eventId });
    for (const e of good) await js.publish(`events.${e.eventType}`, JSON.stringify(e), { msgID: e.eventId });

    const kv = await host.state.kv("recorded");
    await eventually(
      async () => (await Promise.all(good.map((e) => kv.get(e.eventId)))).every((x) => x?.operation === "PUT"),
      10_000,
      "good events",
    );

    const jsm = await jetstreamManager(nc);
    await eventually(async () => (await jsm.streams.info(DLQ_STREAM)).state.messages >= 1, 10_000, "dead letter");
    const stored = await jsm.streams.getMessage(DLQ_STREAM, { last_by_subj: "dlq.recorder.test.prodded" });
    assert.ok(stored);
    const letter = stored.json<DeadLetter>();
    assert.equal(letter.function, "recorder");
    assert.equal(letter.deliveries, 3);
    assert.equal(letter.error.message, "poisoned on purpose");
    assert.equal((letter.event as DomainEvent).eventId, poison.eventId);
    assert.equal(seen.get(poison.eventId), 3, "handled exactly maxDeliveries times");
    await eventually(
      async () => (await jsm.consumers.info("EVENTS", triggerConsumerName("recorder", "test.prodded"))).num_ack_pending === 0,
      5000,
      "poison no longer pending",
    );
  });

  void it("notify_customer delivered twice records one notification and emits notification.sent once", async () => {
    const orderId = randomUUID();
    const event = envelope("order.confirmed", { orderId, customerId: "customer-9", totalCents: 1250, currency: "EUR" }, orderId);
    // The same event stored twice (a publisher retry outside the duplicate window): delivered twice.
    await js.publish("events.order.confirmed", JSON.stringify(event));
    await js.publish("events.order.confirmed", JSON.stringify(event));
    const jsm = await jetstreamManager(nc);
    const consumer = triggerConsumerName("notify_customer", "order.confirmed");
    await eventually(
      async () => {
        const info = await jsm.consumers.info("EVENTS", consumer);
        return info.delivered.consumer_seq >= 2 && info.num_pending === 0 && info.num_ack_pending === 0;
      },
      10_000,
      "both deliveries handled",
    );
    const kv = await host.state.kv("notifications");
    const entry = await kv.get(`${orderId}.order.confirmed`);
    assert.equal(entry?.revision !== undefined, true);
    const record = entry?.json<{ status: string; customerId: string; message: string }>();
    assert.equal(record?.status, "sent");
    assert.equal(record?.customerId, "customer-9");
    assert.match(record?.message ?? "", /12\.50 EUR/);
    // The bucket holds only this notification: exactly two writes (recorded, then sent), none from the second delivery.
    assert.equal((await jsm.streams.info("KV_notifications")).state.last_seq, 2);

    const sent = await readEvents(nc, "events.notification.sent", (e) => e.aggregateId === orderId);
    assert.equal(sent.length, 1);
    assert.equal(sent[0]?.metadata.causationId, event.eventId);
    assert.equal(sent[0]?.metadata.correlationId, event.metadata.correlationId);
  });
});
