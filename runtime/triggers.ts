/**
 * Event-triggered functions: for a definition with `trigger`, a durable JetStream pull consumer per
 * event type on EVENTS (nats-server 2.9 has no multi-filter consumers). At least once: acked after
 * onEvent succeeds, redelivered with backoff when it throws, and after `maxDeliveries` parked on the
 * dead-letter stream EVENTS_DLQ with the error. Every instance of the function shares the consumers.
 */
import { headers as natsHeaders } from "@nats-io/nats-core";
import { AckPolicy, DeliverPolicy, type JsMsg, type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import type { FunctionDefinition } from "./define-function.ts";
import { EVENTS_STREAM, duplicateWindowNs, eventSubject } from "./events.ts";
import { type RetentionLimits, streamRetention } from "./retention.ts";
import type { InstanceEnvironment } from "./function-instance.ts";
import { TRACEPARENT } from "./headers.ts";
import { createInternalContext } from "./internal-context.ts";
import type { DomainEvent } from "./types.ts";

/** Stream where events that failed every delivery are parked. */
export const DLQ_STREAM = "EVENTS_DLQ";
/** A parked event goes to `dlq.<function>.<eventType>`. */
export const DLQ_SUBJECTS = "dlq.>";
// How long one pull waits for events; also the longest a stop waits for the pull in progress.
const PULL_EXPIRES_MS = 1_000;

/** Default limits of EVENTS_DLQ (`NFN_EVENTS_DLQ_MAX_AGE`, `NFN_EVENTS_DLQ_MAX_BYTES`): 30 days, 256 MiB. */
export const DLQ_RETENTION: RetentionLimits = { maxAgeMs: 30 * 86_400_000, maxBytes: 256 * 1024 ** 2 };

/** Defaults of EventTrigger. */
export const TRIGGER_DEFAULTS = { maxDeliveries: 5, backoffMs: [200, 1000, 5000] } as const;

/** What is stored on the dead-letter stream for one parked event. */
export interface DeadLetter {
  function: string;
  consumer: string;
  subject: string;
  streamSequence: number;
  deliveries: number;
  error: { message: string; code?: number };
  failedAt: string;
  /** The event as it was delivered (the raw text when it was not valid JSON). */
  event: unknown;
}

/** The durable consumer name of `fn` for `eventType` (durable names cannot contain dots). */
export function triggerConsumerName(fn: string, eventType: string): string {
  return `${fn}__${eventType.replace(/[^A-Za-z0-9_-]/g, "_")}`;
}

/** Starts consuming every event type of `def.trigger`; returns a stop that finishes the event in hand and hands back the rest (within about 1 s). */
export async function startTriggers(def: FunctionDefinition, env: InstanceEnvironment): Promise<() => Promise<void>> {
  const trigger = def.trigger;
  if (!trigger || !def.onEvent) return async () => {};
  const jsm = await jetstreamManager(env.nc);
  const replicas = await eventsReplicas(jsm);
  await ensureDlqStream(jsm, replicas);
  const settings = {
    maxDeliveries: trigger.maxDeliveries ?? TRIGGER_DEFAULTS.maxDeliveries,
    backoffMs: trigger.backoffMs && trigger.backoffMs.length > 0 ? trigger.backoffMs : [...TRIGGER_DEFAULTS.backoffMs],
  };
  const workers: (() => Promise<void>)[] = [];
  for (const eventType of new Set(trigger.events)) {
    const name = triggerConsumerName(def.name, eventType);
    await ensureConsumer(jsm, name, eventSubject(eventType), Math.max(def.limits.timeoutMs + 5_000, 10_000), replicas);
    workers.push(await startWorker(def, env, name, settings));
  }
  return async () => {
    await Promise.all(workers.map((stop) => stop()));
  };
}

async function startWorker(
  def: FunctionDefinition,
  env: InstanceEnvironment,
  consumerName: string,
  settings: { maxDeliveries: number; backoffMs: number[] },
) {
  const log = env.log.child({ fn: def.name, consumer: consumerName });
  const consumer = await env.state.js.consumers.get(EVENTS_STREAM, consumerName);
  let stopped = false;
  // Short fetches rather than one endless consume(): a stop then leaves no pull request open on the
  // server (2.9 cannot cancel one), so nothing is delivered to an instance that is gone and every
  // event not handled is handed back at once (nak) to the other instances or the new version.
  const loop = (async () => {
    while (!stopped) {
      try {
        const batch = await consumer.fetch({ max_messages: 32, expires: PULL_EXPIRES_MS });
        for await (const m of batch) {
          if (stopped) m.nak();
          else await handle(m);
        }
      } catch (err) {
        if (stopped) break;
        log.warn("event fetch failed; retrying", { error: err });
        await new Promise((r) => setTimeout(r, PULL_EXPIRES_MS));
      }
    }
  })();

  async function handle(m: JsMsg): Promise<void> {
    const event = parseEvent(m.string());
    if (!event) return park(m, new Error("message is not a domain event envelope (eventId, eventType, aggregateId, eventData, metadata)"));
    const { ctx, done } = createInternalContext(def, env, {
      requestId: event.eventId,
      correlationId: event.metadata.correlationId,
      traceparent: m.headers?.get(TRACEPARENT),
    });
    try {
      await untilAborted(Promise.resolve(def.onEvent?.(event, ctx)), ctx.signal);
      m.ack();
    } catch (err) {
      if (m.info.deliveryCount >= settings.maxDeliveries) return park(m, err);
      const delay = settings.backoffMs[Math.min(m.info.deliveryCount - 1, settings.backoffMs.length - 1)] ?? 1000;
      log.warn("event handler failed; will retry", {
        eventId: event.eventId,
        delivery: m.info.deliveryCount,
        retryInMs: delay,
        error: err,
      });
      m.nak(delay);
    } finally {
      done();
    }
  }

  async function park(m: JsMsg, err: unknown): Promise<void> {
    const letter: DeadLetter = {
      function: def.name,
      consumer: consumerName,
      subject: m.subject,
      streamSequence: m.info.streamSequence,
      deliveries: m.info.deliveryCount,
      error: errorSummary(err),
      failedAt: new Date().toISOString(),
      event: parseJson(m.string()) ?? m.string(),
    };
    const h = natsHeaders();
    const traceparent = m.headers?.get(TRACEPARENT);
    if (traceparent) h.set(TRACEPARENT, traceparent);
    try {
      await env.state.js.publish(`dlq.${def.name}.${m.subject.replace(/^events\./, "")}`, JSON.stringify(letter), {
        msgID: `${consumerName}:${m.info.streamSequence}`,
        headers: h,
      });
      log.error("event parked on the dead-letter stream after its last delivery", {
        stream: DLQ_STREAM,
        seq: m.info.streamSequence,
        error: err,
      });
      m.term(); // no reason text: nats-server 2.9 does not understand "+TERM <reason>"
    } catch (publishErr) {
      // Without the dead letter the event must not be dropped: retry the whole thing later.
      log.error("could not park event on the dead-letter stream; will retry", { error: publishErr });
      m.nak(settings.backoffMs[settings.backoffMs.length - 1] ?? 5_000);
    }
  }

  return async () => {
    stopped = true;
    await loop;
  };
}

async function eventsReplicas(jsm: JetStreamManager): Promise<number> {
  try {
    return (await jsm.streams.info(EVENTS_STREAM)).config.num_replicas;
  } catch (err) {
    throw new Error(`stream ${EVENTS_STREAM} not found: event-triggered functions need JetStream (nats-server -js)`, { cause: err });
  }
}

async function ensureDlqStream(jsm: JetStreamManager, replicas: number): Promise<void> {
  try {
    await jsm.streams.info(DLQ_STREAM);
  } catch {
    const limits = streamRetention(DLQ_STREAM, DLQ_RETENTION);
    try {
      await jsm.streams.add({
        name: DLQ_STREAM,
        subjects: [DLQ_SUBJECTS],
        num_replicas: replicas,
        ...limits,
        duplicate_window: duplicateWindowNs(limits.max_age),
      });
    } catch (err) {
      await jsm.streams.info(DLQ_STREAM).catch(() => Promise.reject(err)); // another instance created it first
    }
  }
}

async function ensureConsumer(jsm: JetStreamManager, name: string, filter: string, ackWaitMs: number, replicas: number): Promise<void> {
  try {
    await jsm.consumers.info(EVENTS_STREAM, name);
    return;
  } catch {
    // not there yet
  }
  try {
    await jsm.consumers.add(EVENTS_STREAM, {
      durable_name: name,
      filter_subject: filter,
      ack_policy: AckPolicy.Explicit,
      // A new function reacts to what happens from now on, not to the whole history.
      deliver_policy: DeliverPolicy.New,
      ack_wait: ackWaitMs * 1_000_000,
      max_deliver: -1, // the runtime counts deliveries itself, so it can park the event with its error
      max_ack_pending: 1000,
      num_replicas: replicas,
    });
  } catch (err) {
    await jsm.consumers.info(EVENTS_STREAM, name).catch(() => Promise.reject(err));
  }
}

function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function parseEvent(text: string): DomainEvent | undefined {
  const value = parseJson(text);
  if (typeof value !== "object" || value === null) return undefined;
  const e = value as Partial<DomainEvent>;
  const meta = e.metadata as Partial<DomainEvent["metadata"]> | undefined;
  if (typeof e.eventId !== "string" || typeof e.eventType !== "string" || typeof e.aggregateId !== "string") return undefined;
  if (typeof meta !== "object" || meta === null || typeof meta.correlationId !== "string") return undefined;
  if (typeof e.eventData !== "object" || e.eventData === null) return undefined;
  return e as DomainEvent;
}

function errorSummary(err: unknown): DeadLetter["error"] {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "number" ? { message: message.slice(0, 1000), code } : { message: message.slice(0, 1000) };
}
