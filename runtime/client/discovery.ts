/**
 * ADR-32 discovery: sends `$SRV.<VERB>[.<name>[.<id>]]` once and collects replies until 300 ms after
 * the last one (or the timeout), skipping replies that are not of the verb's `type`. Works with any
 * micro service, not only nats-functions; `isPublicFunction` (functions.ts) tells this runtime's public functions apart.
 */
import { createInbox, type Msg, type NatsConnection, type Subscription } from "@nats-io/nats-core";
import type { EndpointStatsData, EndpointStatsJson } from "../stats.ts";
import { isRecord, num, records as list, str, stringRecord as strings, tryJson } from "./json.ts";
import { inboxPrefixOf } from "../connect.ts";

/** The three discovery verbs. */
export type DiscoveryVerb = "PING" | "INFO" | "STATS";

const REPLY_TYPES: Record<DiscoveryVerb, string> = {
  PING: "io.nats.micro.v1.ping_response",
  INFO: "io.nats.micro.v1.info_response",
  STATS: "io.nats.micro.v1.stats_response",
};

/** Quiet time after the last reply before discovery stops waiting. */
export const STALL_MS = 300;

/** Fields every discovery reply has. */
export interface ServiceIdentity {
  name: string;
  id: string;
  version: string;
  metadata: Record<string, string>;
}

/** An endpoint in an INFO reply. */
export interface InfoEndpoint {
  name: string;
  subject: string;
  queue_group: string;
  metadata: Record<string, string>;
}

/** An INFO reply. */
export interface InfoReply extends ServiceIdentity {
  description: string;
  endpoints: InfoEndpoint[];
}

/**
 * An endpoint in a STATS reply: the runtime's own STATS shape, decoded from any service. `data`
 * holds only the numeric fields a service reports (ours: percentiles, in flight, rejected).
 */
export interface StatsEndpoint extends Omit<EndpointStatsJson, "data"> {
  data: Partial<EndpointStatsData>;
}

/** A STATS reply. */
export interface StatsReply extends ServiceIdentity {
  started: string;
  endpoints: StatsEndpoint[];
}

/** A PING reply with the round trip measured here. */
export interface PingReply extends ServiceIdentity {
  rttMs: number;
}

/** Which services to ask, and how long to wait. */
export interface DiscoveryOptions {
  name?: string;
  id?: string;
  timeoutMs: number;
  stallMs?: number;
}

interface RawReply {
  value: Record<string, unknown>;
  elapsedMs: number;
}

/** The discovery subject for `verb`, optionally narrowed to a service name and instance id. */
export function discoverySubject(verb: DiscoveryVerb, name?: string, id?: string): string {
  return ["$SRV", verb, name, name === undefined ? undefined : id].filter((p) => p !== undefined).join(".");
}

/** Sends one discovery request and gathers the replies of the right type. */
export async function collect(nc: NatsConnection, verb: DiscoveryVerb, opts: DiscoveryOptions): Promise<RawReply[]> {
  const stallMs = opts.stallMs ?? STALL_MS;
  const replies: RawReply[] = [];
  // A poller stopped while its connection closes still gets an answer: nothing was discovered.
  if (nc.isClosed()) return replies;
  const inbox = createInbox(inboxPrefixOf(nc));
  const started = performance.now();
  await new Promise<void>((resolve) => {
    let stall: NodeJS.Timeout | undefined;
    // eslint-disable-next-line prefer-const -- declared first: the callback may run before subscribe returns
    let sub: Subscription | undefined;
    let done = false;
    // The subscription may report an error before `subscribe` has returned (a closing connection).
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(overall);
      clearTimeout(stall);
      sub?.unsubscribe();
      resolve();
    };
    const overall = setTimeout(finish, opts.timeoutMs);
    sub = nc.subscribe(inbox, {
      callback: (err, msg) => {
        if (err) return finish();
        // No one listens on the subject: the server answers with a 503 status at once.
        if (isNoResponders(msg)) {
          if (replies.length === 0) finish();
          return;
        }
        const value = parseObject(msg.data);
        if (value?.type === REPLY_TYPES[verb]) replies.push({ value, elapsedMs: performance.now() - started });
        clearTimeout(stall);
        stall = setTimeout(finish, stallMs);
      },
    });
    if (done) sub.unsubscribe();
    nc.publish(discoverySubject(verb, opts.name, opts.id), new Uint8Array(0), { reply: inbox });
  });
  return replies;
}

/** PING replies with their round-trip times. */
export async function discoverPing(nc: NatsConnection, opts: DiscoveryOptions): Promise<PingReply[]> {
  return (await collect(nc, "PING", opts)).map((r) => ({ ...identity(r.value), rttMs: r.elapsedMs })).sort(byNameThenId);
}

/** INFO replies, normalised so a service that leaves fields out still reads. */
export async function discoverInfo(nc: NatsConnection, opts: DiscoveryOptions): Promise<InfoReply[]> {
  return (await collect(nc, "INFO", opts))
    .map(({ value }) => ({
      ...identity(value),
      description: str(value.description),
      endpoints: list(value.endpoints).map((e) => ({
        name: str(e.name),
        subject: str(e.subject),
        queue_group: str(e.queue_group),
        metadata: strings(e.metadata),
      })),
    }))
    .sort(byNameThenId);
}

/** STATS replies, normalised (numbers default to 0, `data` to `{}`). */
export async function discoverStats(nc: NatsConnection, opts: DiscoveryOptions): Promise<StatsReply[]> {
  return (await collect(nc, "STATS", opts))
    .map(({ value }) => ({
      ...identity(value),
      started: str(value.started),
      endpoints: list(value.endpoints).map((e) => ({
        name: str(e.name),
        subject: str(e.subject),
        queue_group: str(e.queue_group),
        num_requests: num(e.num_requests),
        num_errors: num(e.num_errors),
        processing_time: num(e.processing_time),
        average_processing_time: num(e.average_processing_time),
        last_error: str(e.last_error),
        data: statsData(e.data),
      })),
    }))
    .sort(byNameThenId);
}

function isNoResponders(msg: Msg): boolean {
  return msg.data.length === 0 && msg.headers?.code === 503;
}

function parseObject(data: Uint8Array): Record<string, unknown> | undefined {
  const parsed = tryJson(data);
  return parsed.ok && isRecord(parsed.value) ? parsed.value : undefined;
}

function identity(value: Record<string, unknown>): ServiceIdentity {
  return { name: str(value.name), id: str(value.id), version: str(value.version), metadata: strings(value.metadata) };
}

function byNameThenId(a: ServiceIdentity, b: ServiceIdentity): number {
  return a.name.localeCompare(b.name) || a.id.localeCompare(b.id);
}

const DATA_KEYS = ["p50_ns", "p90_ns", "p99_ns", "in_flight", "rejected", "latency_window"] as const;

function statsData(value: unknown): Partial<EndpointStatsData> {
  const out: Partial<EndpointStatsData> = {};
  if (!isRecord(value)) return out;
  for (const key of DATA_KEYS) {
    const v = value[key];
    if (typeof v === "number" && Number.isFinite(v)) out[key] = v;
  }
  return out;
}
