/**
 * The dead-letter stream for the dashboard: the latest parked events, and replay. A replay
 * publishes the parked event again on `events.<type>` (a fresh message id, so the stream's
 * duplicate window does not swallow it), where every function triggered by that type receives it
 * once more, and then removes the dead letter; if the handler fails again it is parked again.
 */
import { headers as natsHeaders, type NatsConnection } from "@nats-io/nats-core";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { readWindow } from "./dashboard-stream-read.ts";
import { isRecord } from "../runtime/client/json.ts";
import { FunctionError } from "../runtime/errors.ts";
import { eventSubject } from "../runtime/events.ts";
import { TRACEPARENT } from "../runtime/headers.ts";
import { DLQ_STREAM } from "../runtime/triggers.ts";

/** Most dead letters listed at once. */
export const MAX_DLQ_LIST = 100;
const EVENT_TYPE = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;

/** One dead letter as the dashboard lists it. */
export interface DeadLetterView {
  seq: number;
  function: string;
  eventType: string;
  deliveries: number;
  failedAt: string;
  errorCode: number | undefined;
  /** Only for an admin viewer. */
  error?: string;
  eventId?: string;
  aggregateId?: string;
  event?: unknown;
}

/** The latest `limit` dead letters, newest first. */
export async function listDeadLetters(
  nc: NatsConnection,
  limit: number,
  admin: boolean,
): Promise<{ total: number; letters: DeadLetterView[] }> {
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  let last: number;
  let total: number;
  try {
    const info = await jsm.streams.info(DLQ_STREAM);
    last = info.state.last_seq;
    total = info.state.messages;
  } catch {
    return { total: 0, letters: [] };
  }
  const max = Math.max(1, Math.min(limit, MAX_DLQ_LIST));
  const stored = await readWindow(nc, { stream: DLQ_STREAM, fromSeq: last - max + 1, max });
  const letters = stored.map((m) => view(m.seq, m.text, admin)).reverse();
  return { total, letters };
}

/** Publishes dead letter `seq` again on EVENTS and removes it; 404 when it is gone, 409 when it holds no event. */
export async function replayDeadLetter(nc: NatsConnection, seq: number): Promise<{ seq: number; subject: string; eventId: string }> {
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  const stored = await jsm.streams.getMessage(DLQ_STREAM, { seq }).catch(() => null);
  if (!stored) throw new FunctionError(404, `no dead letter ${seq} on ${DLQ_STREAM} (already replayed or removed)`);
  const letter = parse(stored.string());
  const event = isRecord(letter) ? letter.event : undefined;
  if (!isRecord(event) || typeof event.eventType !== "string" || !EVENT_TYPE.test(event.eventType) || typeof event.eventId !== "string") {
    throw new FunctionError(409, `dead letter ${seq} holds no domain event envelope, so there is nothing to replay`);
  }
  const subject = eventSubject(event.eventType);
  const h = natsHeaders();
  const traceparent = stored.header?.get(TRACEPARENT);
  if (traceparent) h.set(TRACEPARENT, traceparent);
  await jetstream(nc).publish(subject, JSON.stringify(event), { msgID: `${event.eventId}:replay:${seq}`, headers: h });
  await jsm.streams.deleteMessage(DLQ_STREAM, seq, false);
  return { seq, subject, eventId: event.eventId };
}

function view(seq: number, text: string, admin: boolean): DeadLetterView {
  const letter = parse(text);
  const l = isRecord(letter) ? letter : {};
  const event = isRecord(l.event) ? l.event : {};
  const error = isRecord(l.error) ? l.error : {};
  const out: DeadLetterView = {
    seq,
    function: typeof l.function === "string" ? l.function : "",
    eventType: typeof event.eventType === "string" ? event.eventType : "",
    deliveries: typeof l.deliveries === "number" ? l.deliveries : 0,
    failedAt: typeof l.failedAt === "string" ? l.failedAt : "",
    errorCode: typeof error.code === "number" ? error.code : undefined,
  };
  if (admin) {
    out.error = typeof error.message === "string" ? error.message : "";
    out.eventId = typeof event.eventId === "string" ? event.eventId : "";
    out.aggregateId = typeof event.aggregateId === "string" ? event.aggregateId : "";
    out.event = l.event;
  }
  return out;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
