/**
 * The trace of one operation: every invocation the gateway served and every event on EVENTS that
 * share a correlation id (or a trace id), in order, with offsets and durations. The gateway's
 * request log and the live event feed say when the operation happened; EVENTS is then read only in
 * that window, and at most MAX_TRACE_SCAN messages of it.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import type { EventFeed } from "./event-feed.ts";
import type { RequestLog } from "./dashboard-requests.ts";
import { readWindow } from "./dashboard-stream-read.ts";
import type { DashboardRuns, TraceRuns } from "./dashboard-runs.ts";
import { isRecord } from "../runtime/client/json.ts";
import { EVENTS_STREAM } from "../runtime/events.ts";

/** Most EVENTS messages one trace reads. */
export const MAX_TRACE_SCAN = 2000;
/** Without any anchor in the request log or the feed, the trace looks this far back. */
export const TRACE_LOOKBACK_MS = 10 * 60_000;
// Events of an operation come after its first request and may follow its reply (triggers, sweepers).
const BEFORE_MS = 2_000;
const AFTER_MS = 60_000;
/** What a trace id or correlation id may look like. */
export const TRACE_KEY = /^[A-Za-z0-9._:-]{1,64}$/;

/** One step of the operation. */
export interface TraceStep {
  kind: "request" | "event";
  /** Epoch ms. */
  at: number;
  /** Since the first step. */
  offsetMs: number;
  /** Since the step before. */
  gapMs: number;
  /** Requests: how long the gateway waited for the reply. */
  durationMs?: number;
  /** The function invoked, or the function that emitted the event. */
  fn: string;
  status?: number;
  eventType?: string;
  /** Only for an admin viewer. */
  aggregateId?: string;
  eventData?: unknown;
  seq?: number;
}

/** The whole trace. */
export interface Trace {
  id: string;
  steps: TraceStep[];
  totalMs: number;
  /** How the window was chosen, and how much of EVENTS was read. */
  window: { fromMs: number; untilMs: number; scanned: number; truncated: boolean };
  /** The durable invocations of the operation, with their steps from the journal. */
  durable: TraceRuns;
}

/** Builds the trace of `id`; `admin` viewers also get aggregate ids, event data and journal contents. */
export async function readTrace(
  nc: NatsConnection,
  log: RequestLog,
  feed: EventFeed,
  id: string,
  admin: boolean,
  runs?: DashboardRuns,
): Promise<Trace> {
  const requests = log.find(id);
  const anchors = [
    ...requests.flatMap((r) => [r.at, r.at + r.durationMs]),
    ...feed.recent.filter((e) => e.correlationId === id || e.traceId === id).map((e) => Date.parse(e.occurredOn)),
  ].filter(Number.isFinite);
  const now = Date.now();
  const fromMs = anchors.length > 0 ? Math.min(...anchors) - BEFORE_MS : now - TRACE_LOOKBACK_MS;
  const untilMs = Math.min(now, anchors.length > 0 ? Math.max(...anchors) + AFTER_MS : now);
  const [stored, durable] = await Promise.all([
    readWindow(nc, { stream: EVENTS_STREAM, fromMs, untilMs, max: MAX_TRACE_SCAN }),
    runs ? runs.forTrace(id, requests, admin) : Promise.resolve<TraceRuns>({ runs: [] }),
  ]);
  const steps: Omit<TraceStep, "offsetMs" | "gapMs">[] = requests.map((r) => ({
    kind: "request",
    at: r.at,
    durationMs: r.durationMs,
    fn: r.fn,
    status: r.status,
  }));
  for (const m of stored) {
    const event = parse(m.text);
    if (!isRecord(event) || typeof event.eventType !== "string") continue;
    const meta = isRecord(event.metadata) ? event.metadata : {};
    const traceId = m.traceparent.split("-")[1] ?? "";
    if (meta.correlationId !== id && traceId !== id) continue;
    const occurred = Date.parse(String(event.occurredOn));
    steps.push({
      kind: "event",
      at: Number.isFinite(occurred) ? occurred : m.at,
      fn: typeof meta.source === "string" ? meta.source : "",
      eventType: event.eventType,
      seq: m.seq,
      ...(admin ? { aggregateId: String(event.aggregateId ?? ""), eventData: event.eventData } : {}),
    });
  }
  // Requests before the events they caused when the clock reads the same millisecond.
  steps.sort((a, b) => a.at - b.at || (a.kind === b.kind ? (a.seq ?? 0) - (b.seq ?? 0) : a.kind === "request" ? -1 : 1));
  const start = steps[0]?.at ?? now;
  let previous = start;
  const out = steps.map((s) => {
    const step = { ...s, offsetMs: s.at - start, gapMs: s.at - previous };
    previous = s.at;
    return step;
  });
  const end = Math.max(start, ...out.map((s) => s.at + (s.durationMs ?? 0)));
  return {
    id,
    steps: out,
    totalMs: Math.round((end - start) * 1000) / 1000,
    window: { fromMs, untilMs, scanned: stored.length, truncated: stored.length >= MAX_TRACE_SCAN },
    durable,
  };
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
