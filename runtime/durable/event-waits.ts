/**
 * Delivers domain events to invocations suspended in `ctx.waitForEvent`: a durable consumer on
 * EVENTS per event type listed in `durable.events`, shared by the function's instances. Each event
 * is offered only to the waits the wait index files under its aggregate id or correlation id (or
 * that match on neither), never to every open invocation; a matching waiter gets it by
 * compare-and-set on its open record and is resumed at once.
 */
import { AckPolicy, DeliverPolicy, jetstreamManager, type JetStreamClient } from "@nats-io/jetstream";
import type { FunctionDefinition } from "../define-function.ts";
import type { DispatchEnvironment } from "../dispatcher.ts";
import { EVENTS_STREAM, eventSubject } from "../events.ts";
import type { DomainEvent } from "../types.ts";
import { matches } from "./event-match.ts";
import type { DurableRunner } from "./runner.ts";
import { indexWait, removeKey, waitersOf } from "./wait-index.ts";

const PULL_EXPIRES_MS = 1_000;

/** The durable consumer on EVENTS through which `fn` receives `eventType` for its waits. */
export function waitConsumerName(fn: string, eventType: string): string {
  return `${fn}__wait__${eventType.replace(/[^A-Za-z0-9_-]/g, "_")}`;
}

/** Starts the consumers; returns their stop. */
export async function startEventWaits(
  def: FunctionDefinition,
  env: DispatchEnvironment,
  runner: DurableRunner,
  eventTypes: string[],
): Promise<() => Promise<void>> {
  if (eventTypes.length === 0) return async () => {};
  const jsm = await jetstreamManager(env.nc);
  const log = env.log.child({ fn: def.name, loop: "durable-waits" });
  let stopped = false;
  const loops: Promise<void>[] = [];
  for (const eventType of new Set(eventTypes)) {
    const name = waitConsumerName(def.name, eventType);
    await jsm.consumers.info(EVENTS_STREAM, name).catch(() =>
      jsm.consumers.add(EVENTS_STREAM, {
        durable_name: name,
        filter_subject: eventSubject(eventType),
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.New,
        ack_wait: 30_000_000_000,
      }),
    );
    const consumer = await env.state.js.consumers.get(EVENTS_STREAM, name);
    loops.push(
      (async () => {
        while (!stopped) {
          try {
            const batch = await consumer.fetch({ max_messages: 32, expires: PULL_EXPIRES_MS });
            for await (const m of batch) {
              if (stopped) {
                m.nak();
                continue;
              }
              const event = parseEvent(m.string());
              if (event) await offer(event);
              m.ack();
            }
          } catch (err) {
            if (stopped) break;
            log.warn("event fetch failed; retrying", { error: err });
            await new Promise((r) => setTimeout(r, PULL_EXPIRES_MS));
          }
        }
      })(),
    );
  }

  async function offer(event: DomainEvent): Promise<void> {
    const kv = runner.journal.kv;
    for (const waiter of await waitersOf(kv, def.name, event)) {
      const open = await runner.journal.getOpen(def.name, waiter.id);
      const wake = open?.value.wake;
      if (!open || wake?.kind !== "event" || wake.n !== waiter.n) {
        // That wait is over but its key stayed (its instance died before removing it): sweep it now.
        await removeKey(env.state.js, kv, waiter.key);
        continue;
      }
      if (open.value.status !== "waiting" || wake.event) continue;
      if (!matches(event, wake.eventType, wake.match)) continue;
      const rev = await runner.journal.updateOpen({ ...open.value, wake: { ...wake, event } }, open.revision);
      if (rev !== undefined) await runner.tryResume(waiter.id);
    }
  }

  return async () => {
    stopped = true;
    await Promise.allSettled(loops);
  };
}

/**
 * Files a just-suspended waiter in the wait index, then offers it the events of its type published
 * since `wake.since`: an event that arrives before the key is filed finds no waiter, so it is
 * looked for here, and one that arrives after finds the key.
 */
export async function lookBack(js: JetStreamClient, runner: DurableRunner, fn: string, id: string): Promise<void> {
  const before = await runner.journal.getOpen(fn, id);
  const waiting = before?.value.wake;
  if (!before || before.value.status !== "waiting" || waiting?.kind !== "event") return;
  const filed = await indexWait(runner.journal.kv, fn, id, waiting);
  // Taken over (a timeout, a cancel) while the key was being filed: the run that took it removed nothing yet.
  const open = await runner.journal.getOpen(fn, id);
  const wake = open?.value.wake;
  if (!open || open.value.status !== "waiting" || wake?.kind !== "event" || wake.n !== waiting.n) {
    await removeKey(js, runner.journal.kv, filed);
    return;
  }
  const consumer = await js.consumers.get(EVENTS_STREAM, {
    filter_subjects: eventSubject(wake.eventType), // a string, not a list: nats-server 2.9 has one filter per consumer
    deliver_policy: DeliverPolicy.StartTime,
    opt_start_time: new Date(wake.since).toISOString(),
  });
  try {
    for (;;) {
      const m = await consumer.next({ expires: 1_000 });
      if (!m) return;
      const event = parseEvent(m.string());
      if (event && matches(event, wake.eventType, wake.match)) {
        const rev = await runner.journal.updateOpen({ ...open.value, wake: { ...wake, event } }, open.revision);
        if (rev !== undefined) await runner.tryResume(id);
        return;
      }
      if (m.info.pending === 0) return;
    }
  } finally {
    await consumer.delete().catch(() => undefined);
  }
}

function parseEvent(text: string): DomainEvent | undefined {
  try {
    const value = JSON.parse(text) as Partial<DomainEvent> | null;
    if (!value || typeof value.eventType !== "string" || typeof value.aggregateId !== "string") return undefined;
    if (typeof value.eventData !== "object" || value.eventData === null || typeof value.metadata !== "object") return undefined;
    return value as DomainEvent;
  } catch {
    return undefined;
  }
}
