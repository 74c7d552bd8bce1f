/**
 * Bounded reads of a stream for the dashboard: from a time or a sequence, at most `max` messages,
 * stopping at the end of the stream or past `untilMs`. An ordered consumer, so nothing durable is
 * left on the server, and a request never scans more than its bound however long the stream is.
 */
import { DeliverPolicy, jetstream, jetstreamManager, type JsMsg } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";

/** One stored message, decoded as far as the dashboard needs. */
export interface StoredMessage {
  seq: number;
  subject: string;
  /** Epoch ms when the stream stored it. */
  at: number;
  text: string;
  traceparent: string;
}

/** Where to start and when to stop. */
export interface WindowSpec {
  stream: string;
  /** Start at this time (epoch ms)… */
  fromMs?: number;
  /** …or at this sequence. */
  fromSeq?: number;
  /** Stop before the first message stored after this time (epoch ms). */
  untilMs?: number;
  /** Most messages read. */
  max: number;
  /** Longest wait for the server, in ms. Default 3000. */
  waitMs?: number;
}

/** Reads the window; an absent or empty stream gives an empty list. */
export async function readWindow(nc: NatsConnection, spec: WindowSpec): Promise<StoredMessage[]> {
  const jsm = await jetstreamManager(nc, { checkAPI: false });
  let last: number;
  try {
    const info = await jsm.streams.info(spec.stream);
    last = info.state.last_seq;
    if (info.state.messages === 0) return [];
    // Nothing stored after the start time: answer now rather than wait for the fetch to expire.
    if (spec.fromSeq === undefined && Date.parse(info.state.last_ts) < (spec.fromMs ?? 0)) return [];
    if (spec.fromSeq !== undefined && spec.fromSeq > last) return [];
  } catch {
    return [];
  }
  const from =
    spec.fromSeq !== undefined
      ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: Math.max(1, spec.fromSeq) }
      : { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(spec.fromMs ?? 0).toISOString() };
  const consumer = await jetstream(nc).consumers.get(spec.stream, from);
  const out: StoredMessage[] = [];
  const messages = await consumer.fetch({ max_messages: spec.max, expires: spec.waitMs ?? 3000 });
  try {
    for await (const m of messages) {
      const at = stamp(m);
      if (spec.untilMs !== undefined && at > spec.untilMs) break;
      out.push({ seq: m.seq, subject: m.subject, at, text: m.string(), traceparent: m.headers?.get("traceparent") ?? "" });
      // Caught up with what the stream held when the read began: the window is complete.
      if (m.info.pending === 0 || m.seq >= last || out.length >= spec.max) break;
    }
  } finally {
    messages.stop();
  }
  return out;
}

function stamp(m: JsMsg): number {
  return m.time.getTime();
}
