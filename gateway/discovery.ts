/**
 * The gateway's view of what is deployed: `$SRV.INFO` of every instance, cached and refreshed on a
 * timer, and refreshed early (at most once per `missRefreshMs`) when a request names a function the
 * cache does not know, so a newly deployed function appears without a restart.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { type InstanceInfo, parseInfos, querySrv } from "./srv-query.ts";

/** What the gateway needs to route a request to one function. */
export interface FunctionRoute {
  name: string;
  /** Highest version deployed (there may be more during a rollout). */
  version: string;
  description: string;
  subject: string;
  requestSchema: unknown;
  responseSchema: unknown;
  /** Smallest body limit among instances, so the gateway never forwards what an instance would refuse. */
  maxPayload: number;
  timeoutMs: number;
  /** "none", "token", or the scopes required, space-separated. */
  auth: string;
  instances: InstanceInfo[];
}

/** Options of the cache. */
export interface DiscoveryOptions {
  refreshMs?: number;
  missRefreshMs?: number;
}

/** The cached, refreshed routing table. */
export class Discovery {
  private routes = new Map<string, FunctionRoute>();
  private lastRefresh = 0;
  private inFlight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly refreshMs: number;
  private readonly missRefreshMs: number;

  constructor(
    private readonly nc: NatsConnection,
    options: DiscoveryOptions = {},
  ) {
    this.refreshMs = options.refreshMs ?? 5000;
    this.missRefreshMs = options.missRefreshMs ?? 1000;
  }

  /** Loads the table once and keeps it fresh until `stop`. */
  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => void this.refresh(), this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Every function known now, by name. */
  list(): FunctionRoute[] {
    return [...this.routes.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** True when `name` is deployed as far as the cache knows (no query). */
  has(name: string): boolean {
    return this.routes.has(name);
  }

  /** The route of `name`, refreshing first when it is unknown and the last refresh is not recent. */
  async lookup(name: string): Promise<FunctionRoute | undefined> {
    const known = this.routes.get(name);
    if (known || Date.now() - this.lastRefresh < this.missRefreshMs) return known;
    await this.refresh();
    return this.routes.get(name);
  }

  /** Queries `$SRV.INFO` now (one query at a time; concurrent callers share it). */
  refresh(): Promise<void> {
    this.inFlight ??= (async () => {
      try {
        const infos = parseInfos(await querySrv(this.nc, "INFO"));
        this.routes = buildRoutes(infos);
        this.lastRefresh = Date.now();
      } finally {
        this.inFlight = undefined;
      }
    })();
    return this.inFlight;
  }
}

function buildRoutes(infos: InstanceInfo[]): Map<string, FunctionRoute> {
  const byName = new Map<string, InstanceInfo[]>();
  for (const info of infos) byName.set(info.name, [...(byName.get(info.name) ?? []), info]);
  const routes = new Map<string, FunctionRoute>();
  for (const [name, instances] of byName) {
    const newest = instances.reduce((a, b) => (compareVersions(b.version, a.version) > 0 ? b : a));
    const meta = newest.metadata;
    routes.set(name, {
      name,
      version: newest.version,
      description: newest.description,
      subject: newest.subject,
      requestSchema: parseSchema(meta.request_schema),
      responseSchema: parseSchema(meta.response_schema),
      maxPayload: Math.min(...instances.map((i) => positive(i.metadata.max_payload, 65_536))),
      timeoutMs: positive(meta.timeout_ms, 5000),
      auth: meta.auth ?? "none",
      instances,
    });
  }
  return routes;
}

/** Compares two semantic versions by their numeric core (enough to pick the newest of a rollout). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/).map(Number);
  const pb = b.split(/[.+-]/).map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] || 0) - (pb[i] || 0);
    if (d !== 0) return d;
  }
  return 0;
}

function parseSchema(text: string | undefined): unknown {
  if (text === undefined) return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return {};
  }
}

function positive(text: string | undefined, fallback: number): number {
  const n = Number(text);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}
