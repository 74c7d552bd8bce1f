/**
 * The dashboard's numbers: `$SRV.STATS` of every instance polled each interval, joined with the
 * discovery cache (versions, bundle hashes) and the event feed. Rates come from the difference
 * between two polls, so they show what happens now rather than since start.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import type { Discovery } from "./discovery.ts";
import type { EventFeed, EventLine, SagaOutcomes } from "./event-feed.ts";
import type { RequestLog, RequestRecord } from "./dashboard-requests.ts";
import { type StatsReply, discoverInfo, discoverStats, functionEndpoint } from "../runtime/client/index.ts";

// How often, at most, the dashboard asks INFO for instances the gateway's discovery does not route to.
const OTHER_INFO_MS = 10_000;

/** One instance row. */
export interface InstanceView {
  id: string;
  version: string;
  bundle: string;
  requests: number;
  errors: number;
  inFlight: number;
  p50Ms: number;
  p99Ms: number;
  lastError: string;
}

/** One function row. */
export interface FunctionView {
  name: string;
  versions: string[];
  bundles: string[];
  /** More than one version or bundle hash is serving at once. */
  skew: boolean;
  reqPerSec: number;
  requests: number;
  errors: number;
  /** errors / requests since the instances started, 0..1. */
  errorRate: number;
  /** Worst instance's percentiles. */
  p50Ms: number;
  p99Ms: number;
  inFlight: number;
  lastError: string;
  instances: InstanceView[];
}

/** Everything the page shows at one moment. */
export interface DashboardSnapshot {
  at: string;
  functions: FunctionView[];
  events: EventLine[];
  sagas: SagaOutcomes;
  /** The gateway's latest invocations, newest first. */
  requests: RequestRecord[];
  /** False when ids and error texts were left out (the viewer is not an admin). */
  full: boolean;
}

/** One latency sample: when, and `[function, p50 ms, p99 ms]` for each function. */
export interface LatencySample {
  at: number;
  values: [string, number, number][];
}

/** Latency samples kept (one per poll: ten minutes at the default second). */
export const LATENCY_SAMPLES = 600;
/** Invocations a snapshot lists. */
export const SNAPSHOT_REQUESTS = 20;

/**
 * The snapshot a viewer who is not an admin gets: no order or customer ids (aggregate ids), no
 * correlation ids, no error texts (only their codes).
 */
export function publicSnapshot(s: DashboardSnapshot): DashboardSnapshot {
  const code = (text: string) => (text === "" ? "" : (/^\d{3}/.exec(text)?.[0] ?? "error"));
  return {
    ...s,
    full: false,
    functions: s.functions.map((f) => ({
      ...f,
      lastError: code(f.lastError),
      instances: f.instances.map((i) => ({ ...i, lastError: code(i.lastError) })),
    })),
    events: s.events.map((e) => ({ ...e, aggregateId: "", correlationId: "" })),
    requests: s.requests.map((r) => ({ ...r, correlationId: "", idempotencyKey: "" })),
  };
}

/** Polls STATS and keeps the latest snapshot. */
export class DashboardState {
  private previous = new Map<string, { requests: number; at: number }>();
  private rates = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private latest: DashboardSnapshot;
  private readonly samples: (LatencySample | undefined)[] = new Array<LatencySample | undefined>(LATENCY_SAMPLES);
  private nextSample = 0;
  /** Bundle hashes of instances the gateway's discovery leaves out (internal functions), by instance id. */
  private otherBundles = new Map<string, string>();
  private otherInfoAt = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly discovery: Discovery,
    private readonly events: EventFeed,
    private readonly intervalMs = 1000,
    private readonly requests?: RequestLog,
  ) {
    this.latest = {
      at: new Date().toISOString(),
      functions: [],
      events: [],
      sagas: { confirmed: 0, cancelled: {} },
      requests: [],
      full: true,
    };
  }

  /** p50/p99 per function over time, oldest first (a fixed-size ring: one sample per poll). */
  latency(): LatencySample[] {
    const out: LatencySample[] = [];
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      const sample = this.samples[(this.nextSample + i) % LATENCY_SAMPLES];
      if (sample) out.push(sample);
    }
    return out;
  }

  // Internal functions are not in the gateway's discovery (it routes public ones only): their
  // bundle hashes come from one INFO round, kept only for instances that still answer STATS.
  private async refreshOtherBundles(live: Set<string>): Promise<void> {
    const infos = await discoverInfo(this.nc, { timeoutMs: 800, stallMs: 150 });
    const next = new Map<string, string>();
    for (const info of infos) {
      const bundle = functionEndpoint(info)?.metadata.bundle_sha256;
      if (live.has(info.id) && typeof bundle === "string") next.set(info.id, bundle);
    }
    this.otherBundles = next;
  }

  /** Polls now and then every interval until `stop`. */
  async start(): Promise<void> {
    await this.poll();
    const loop = () => {
      // A poll still in flight when stop() ran must not schedule another one.
      if (this.stopped) return;
      this.timer = setTimeout(() => void this.poll().finally(loop), this.intervalMs);
      this.timer.unref();
    };
    loop();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** The last snapshot taken. */
  snapshot(): DashboardSnapshot {
    return this.latest;
  }

  /** Takes a snapshot now. */
  async poll(): Promise<DashboardSnapshot> {
    const stats = await discoverStats(this.nc, { timeoutMs: 800, stallMs: 150 });
    const now = Date.now();
    const known = new Map(this.discovery.list().flatMap((r) => r.instances.map((i) => [i.id, i] as const)));
    const unknown = stats.filter((s) => !known.has(s.id));
    if (unknown.length > 0) void this.discovery.refresh().catch(() => {});
    if (unknown.some((s) => !this.otherBundles.has(s.id)) && now - this.otherInfoAt >= OTHER_INFO_MS) {
      this.otherInfoAt = now;
      void this.refreshOtherBundles(new Set(stats.map((s) => s.id))).catch(() => {});
    }
    const byName = new Map<string, StatsReply[]>();
    for (const s of stats) byName.set(s.name, [...(byName.get(s.name) ?? []), s]);
    const functions: FunctionView[] = [];
    for (const [name, list] of [...byName].sort(([a], [b]) => a.localeCompare(b))) {
      const instances = list.map((s) => {
        const e = s.endpoints[0];
        const info = known.get(s.id);
        return {
          id: s.id,
          version: s.version,
          bundle: (info && functionEndpoint(info)?.metadata.bundle_sha256) ?? this.otherBundles.get(s.id) ?? "?",
          requests: e?.num_requests ?? 0,
          errors: e?.num_errors ?? 0,
          inFlight: e?.data.in_flight ?? 0,
          p50Ms: (e?.data.p50_ns ?? 0) / 1e6,
          p99Ms: (e?.data.p99_ns ?? 0) / 1e6,
          lastError: e?.last_error ?? "",
        };
      });
      const requests = sum(instances.map((i) => i.requests));
      const errors = sum(instances.map((i) => i.errors));
      const versions = [...new Set(instances.map((i) => i.version))].sort();
      const bundles = [...new Set(instances.map((i) => i.bundle))].sort();
      functions.push({
        name,
        versions,
        bundles,
        skew: versions.length > 1 || bundles.length > 1,
        reqPerSec: this.rate(name, requests, now),
        requests,
        errors,
        errorRate: requests === 0 ? 0 : errors / requests,
        p50Ms: Math.max(0, ...instances.map((i) => i.p50Ms)),
        p99Ms: Math.max(0, ...instances.map((i) => i.p99Ms)),
        inFlight: sum(instances.map((i) => i.inFlight)),
        lastError: instances.map((i) => i.lastError).find((e) => e !== "") ?? "",
        instances,
      });
    }
    this.latest = {
      at: new Date(now).toISOString(),
      functions,
      events: [...this.events.recent],
      sagas: structuredClone(this.events.sagas),
      requests: this.requests?.latest(SNAPSHOT_REQUESTS) ?? [],
      full: true,
    };
    this.samples[this.nextSample] = { at: now, values: functions.map((f) => [f.name, f.p50Ms, f.p99Ms]) };
    this.nextSample = (this.nextSample + 1) % LATENCY_SAMPLES;
    return this.latest;
  }

  // Requests per second between this poll and the previous one; a restart (counter drop) counts from 0.
  private rate(name: string, requests: number, now: number): number {
    const prev = this.previous.get(name);
    this.previous.set(name, { requests, at: now });
    if (!prev || now <= prev.at) return this.rates.get(name) ?? 0;
    const delta = requests >= prev.requests ? requests - prev.requests : requests;
    const rate = Math.round((delta * 1000 * 10) / (now - prev.at)) / 10;
    this.rates.set(name, rate);
    return rate;
  }
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
