/** Domain events on the EVENTS stream (README: Domain events). */
import { randomUUID } from "node:crypto";
import { jetstreamManager, type JetStreamClient } from "@nats-io/jetstream";
import { headers as natsHeaders, type NatsConnection } from "@nats-io/nats-core";
import type { DomainEvent } from "./types.ts";
import { TRACEPARENT } from "./headers.ts";
import { type RetentionLimits, streamRetention } from "./retention.ts";

/** Stream that stores every domain event. */
export const EVENTS_STREAM = "EVENTS";
/** Subjects are `events.<aggregate>.<what>`. */
export const EVENTS_SUBJECTS = "events.>";
/** Where an event goes: `order.created` → `events.order.created`. */
export function eventSubject(eventType: string): string {
  return `events.${eventType}`;
}

/** Default limits of EVENTS (`NFN_EVENTS_MAX_AGE`, `NFN_EVENTS_MAX_BYTES`): a month of history, 1 GiB. */
export const EVENTS_RETENTION: RetentionLimits = { maxAgeMs: 30 * 86_400_000, maxBytes: 1024 ** 3 };
// Retried publishes within this window are stored once (never longer than the stream keeps events).
const DUPLICATE_WINDOW_NS = 2 * 60 * 1_000_000_000;

/** The duplicate window for a stream whose max_age is `maxAgeNs`: 2 minutes, or max_age when shorter. */
export function duplicateWindowNs(maxAgeNs: number): number {
  return Math.min(DUPLICATE_WINDOW_NS, maxAgeNs);
}

/** Creates the EVENTS stream, with its limits, when it does not exist yet (any instance may race to do so). */
export async function ensureEventsStream(nc: NatsConnection, replicas: number): Promise<void> {
  const jsm = await jetstreamManager(nc);
  try {
    await jsm.streams.info(EVENTS_STREAM);
  } catch {
    const limits = streamRetention(EVENTS_STREAM, EVENTS_RETENTION);
    try {
      await jsm.streams.add({
        name: EVENTS_STREAM,
        subjects: [EVENTS_SUBJECTS],
        num_replicas: replicas,
        ...limits,
        duplicate_window: duplicateWindowNs(limits.max_age),
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
