/** Domain events on the EVENTS stream (README: Domain events). */
import { randomUUID } from "node:crypto";
import { jetstreamManager, type JetStreamClient } from "@nats-io/jetstream";
import { headers as natsHeaders, type NatsConnection } from "@nats-io/nats-core";
import type { DomainEvent } from "./types.ts";
import { TRACEPARENT } from "./headers.ts";

/** Stream that stores every domain event. */
export const EVENTS_STREAM = "EVENTS";
/** Subjects are `events.<aggregate>.<what>`. */
export const EVENTS_SUBJECTS = "events.>";
/** Where an event goes: `order.created` → `events.order.created`. */
export function eventSubject(eventType: string): string {
  return `events.${eventType}`;
}

/** Creates the EVENTS stream when it does not exist yet (any instance may race to do so). */
export async function ensureEventsStream(nc: NatsConnection, replicas: number): Promise<void> {
  const jsm = await jetstreamManager(nc);
  try {
    await jsm.streams.info(EVENTS_STREAM);
  } catch {
    try {
      await jsm.streams.add({
        name: EVENTS_STREAM,
        subjects: [EVENTS_SUBJECTS],
        num_replicas: replicas,
        duplicate_window: 2 * 60 * 1_000_000_000, // 2 minutes, in ns: retried publishes are stored once
      });
    } catch (err) {
      // Another instance created it between our two calls.
      await jsm.streams.info(EVENTS_STREAM).catch(() => Promise.reject(err));
    }
  }
}

/** What an event carries besides its data. */
export interface EventOrigin {
  correlationId: string;
  causationId: string;
  source: string;
  traceparent: string;
}

/** Builds the envelope of a new event. */
export function newEvent<T extends Record<string, unknown>>(
  eventType: string,
  aggregateId: string,
  data: T,
  origin: EventOrigin,
): DomainEvent<T> {
  return {
    eventId: randomUUID(),
    eventType,
    aggregateId,
    eventVersion: 1,
    occurredOn: new Date().toISOString(),
    eventData: data,
    metadata: { correlationId: origin.correlationId, causationId: origin.causationId, source: origin.source },
  };
}

/** Publishes `event` with `Nats-Msg-Id` = eventId and the trace, and waits for the stream's ack. */
export async function publishEvent(js: JetStreamClient, event: DomainEvent<Record<string, unknown>>, traceparent: string): Promise<void> {
  const h = natsHeaders();
  h.set(TRACEPARENT, traceparent);
  await js.publish(eventSubject(event.eventType), JSON.stringify(event), { msgID: event.eventId, headers: h });
}
