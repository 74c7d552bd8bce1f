/**
 * NestJS `client.emit('<event>', data)` as a domain event: for each event type that a public
 * function with `nestjs: true` is triggered by, the runtime listens on the subject NestJS emits it on (the
 * pattern itself) and stores it on EVENTS as `events.<event>`, so the function's trigger consumes
 * it like any other event. One queue group across every instance and function, so one emit is
 * stored once however many functions listen for it.
 */
import { randomUUID } from "node:crypto";
import type { Msg, NatsConnection, Subscription } from "@nats-io/nats-core";
import type { JetStreamClient } from "@nats-io/jetstream";
import type { FunctionDefinition } from "./define-function.ts";
import { correlationIdOf } from "./context.ts";
import { newEvent, publishEvent } from "./events.ts";
import { TRACEPARENT } from "./headers.ts";
import { parseRequestBody } from "./json.ts";
import type { Logger } from "./logger.ts";
import { continueTrace, formatTraceparent } from "./trace.ts";

/** Queue group of the emit listeners. */
export const NESTJS_EVENTS_QUEUE = "nfn-nestjs-events";
/** `metadata.source` of an event that came from a NestJS emit. */
export const NESTJS_SOURCE = "nestjs";
// Event types become subject tokens: the same charset as function names, plus dots between tokens.
const EVENT_TYPE = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;
const AGGREGATE_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Listens for NestJS emits of `def`'s trigger events; returns the unsubscribe. */
export function bridgeNestjsEvents(nc: NatsConnection, js: JetStreamClient, def: FunctionDefinition, log: Logger): () => Promise<void> {
  const types = [...new Set(def.trigger?.events ?? [])].filter((t) => EVENT_TYPE.test(t));
  const subs: Subscription[] = types.map((eventType) =>
    nc.subscribe(eventType, {
      queue: NESTJS_EVENTS_QUEUE,
      callback: (err, msg) => {
        if (err) return;
        storeEmit(js, eventType, msg, def.limits.maxPayload).catch((e: unknown) =>
          log.warn("a NestJS emit could not be stored on EVENTS", { eventType, error: e }),
        );
      },
    }),
  );
  return async () => {
    await Promise.all(subs.map((s) => s.drain().catch(() => undefined)));
  };
}

/** Stores one NestJS emit (`{pattern, data}`) as a domain event; anything else is dropped. */
async function storeEmit(js: JetStreamClient, eventType: string, msg: Msg, maxPayload: number): Promise<void> {
  // A request (reply subject, or a packet id) on this subject is not an emit: leave it to whoever serves it.
  if (msg.reply || msg.data.length > maxPayload) return;
  let packet: unknown;
  try {
    packet = parseRequestBody(msg.data);
  } catch {
    return;
  }
  if (typeof packet !== "object" || packet === null || "id" in packet || !("data" in packet)) return;
  const raw = (packet as { data: unknown }).data;
  const data = typeof raw === "object" && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : { value: raw };
  const trace = continueTrace(msg.headers?.get(TRACEPARENT));
  const traceparent = formatTraceparent(trace);
  const eventId = randomUUID();
  const event = newEvent(eventType, aggregateIdOf(data), data, {
    correlationId: correlationIdOf(msg.headers),
    causationId: eventId,
    source: NESTJS_SOURCE,
    traceparent,
  });
  event.eventId = eventId;
  await publishEvent(js, event, traceparent);
}

// NestJS events carry no aggregate: take `id`, else the first `...Id` property, when it is a short id.
function aggregateIdOf(data: Record<string, unknown>): string {
  const candidates = [
    data.id,
    ...Object.keys(data)
      .filter((k) => k.endsWith("Id"))
      .map((k) => data[k]),
  ];
  const found = candidates.find(
    (v): v is string | number => (typeof v === "string" || typeof v === "number") && AGGREGATE_ID.test(String(v)),
  );
  return found === undefined ? "" : String(found);
}
