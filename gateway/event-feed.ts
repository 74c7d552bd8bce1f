/**
 * Follows the EVENTS stream with an ordered consumer (no durable state on the server) and keeps
 * what the dashboard shows: the latest events and the saga outcomes (order.confirmed vs
 * order.cancelled by reason). It replays the stream from the start so the outcome counts are complete.
 */
import { DeliverPolicy, jetstream, type ConsumerMessages } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { EVENTS_STREAM } from "../runtime/events.ts";
import { TRACEPARENT } from "../runtime/headers.ts";
import { isRecord } from "../runtime/client/json.ts";

/** One event as the dashboard lists it. */
export interface EventLine {
  seq: number;
  eventType: string;
  aggregateId: string;
  occurredOn: string;
  source: string;
  correlationId: string;
  traceId: string;
}

/** Saga outcomes so far. */
export interface SagaOutcomes {
  confirmed: number;
  cancelled: Record<string, number>;
}

/** Distinct cancel reasons counted; the rest count as "other". */
const MAX_REASONS = 20;

/** How many recent events are kept. */
export const RECENT_EVENTS = 25;

/** The live event view. */
export class EventFeed {
  readonly recent: EventLine[] = [];
  // Reasons come from event data: a null-prototype record, and a bounded number of them.
  readonly sagas: SagaOutcomes = { confirmed: 0, cancelled: Object.create(null) as Record<string, number> };
  private messages: ConsumerMessages | undefined;
  /** Why following the stream last failed, for diagnostics; "" when it never did. */
  lastError = "";
  private stopped = false;
  private lastSeq = 0;
  private retry: NodeJS.Timeout | undefined;

  constructor(private readonly nc: NatsConnection) {}

  /** Starts following; when the stream does not exist yet it tries again every 2 s. */
  start(): void {
    void this.follow();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.retry);
    this.messages?.stop();
  }

  private async follow(): Promise<void> {
    try {
      // After a failure, go on after the last event seen so outcomes are never counted twice.
      const from = this.lastSeq > 0 ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: this.lastSeq + 1 } : {};
      // No subject filter: the stream holds only events.> anyway, and filter_subjects needs nats-server 2.10.
      const consumer = await jetstream(this.nc).consumers.get(EVENTS_STREAM, from);
      if (this.stopped) return;
      this.messages = await consumer.consume();
      for await (const m of this.messages) {
        this.add(m.seq, m.string(), m.headers?.get(TRACEPARENT) ?? "");
      }
    } catch (err) {
      // stream missing (nothing emitted yet) or connection lost: try again shortly
      this.lastError = err instanceof Error ? err.message : String(err);
    }
    if (!this.stopped) {
      this.retry = setTimeout(() => void this.follow(), 2000);
      this.retry.unref();
    }
  }

  /** Records one stored event, once per stream sequence. */
  add(seq: number, text: string, traceparent: string): void {
    if (seq <= this.lastSeq) return;
    this.lastSeq = seq;
    let event: unknown;
    try {
      event = JSON.parse(text);
    } catch {
      return;
    }
    if (!isRecord(event) || typeof event.eventType !== "string") return;
    const meta = isRecord(event.metadata) ? event.metadata : {};
    const data = isRecord(event.eventData) ? event.eventData : {};
    this.recent.unshift({
      seq,
      eventType: event.eventType,
      aggregateId: String(event.aggregateId ?? ""),
      occurredOn: String(event.occurredOn ?? ""),
      source: String(meta.source ?? ""),
      correlationId: String(meta.correlationId ?? ""),
      traceId: traceparent.split("-")[1] ?? "",
    });
    if (this.recent.length > RECENT_EVENTS) this.recent.length = RECENT_EVENTS;
    if (event.eventType === "order.confirmed") this.sagas.confirmed++;
    if (event.eventType === "order.cancelled") {
      const given = String(data.cancelReason ?? data.reason ?? "unknown").slice(0, 64);
      const known = Object.keys(this.sagas.cancelled);
      const reason = known.includes(given) || known.length < MAX_REASONS ? given : "other";
      this.sagas.cancelled[reason] = (this.sagas.cancelled[reason] ?? 0) + 1;
    }
  }
}
