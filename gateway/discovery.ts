/**
 * The gateway's view of what it may serve: the public functions of this runtime in `$SRV.INFO`
 * (never internal ones, never other services on the bus), cached and refreshed on a timer, and
 * refreshed early (at most once per `missRefreshMs`) when a request names a function the cache does
 * not know, so a newly deployed function appears without a restart.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { type FunctionContract, contractsOf, discoverInfo, functionEndpoint, isPublicFunction } from "../runtime/client/index.ts";

/** What the gateway needs to route a request to one function. */
export interface FunctionRoute extends FunctionContract {
  /** Smallest body limit among instances, so the gateway never forwards what an instance would refuse. */
  maxPayload: number;
  timeoutMs: number;
  /** "none", "token", or the scopes required, space-separated. */
  auth: string;
}

/** Options of the cache. */
export interface DiscoveryOptions {
  refreshMs?: number;
  missRefreshMs?: number;
}

/** The cached, refreshed routing table. */
export class Discovery {
  private routes = new Map<string, FunctionRoute>();
  private sorted: FunctionRoute[] = [];
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
    this.timer = setInterval(() => void this.refresh().catch(() => {}), this.refreshMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Every function served now, by name. */
  list(): FunctionRoute[] {
    return this.sorted;
  }

  /** True when `name` is served as far as the cache knows (no query). */
  has(name: string): boolean {
    return this.routes.has(name);
  }

  /** The cached route of `name`, without any query (the hot path). */
  get(name: string): FunctionRoute | undefined {
    return this.routes.get(name);
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
        const infos = await discoverInfo(this.nc, { timeoutMs: 1500, stallMs: 200 });
        this.routes = buildRoutes(infos.filter(isPublicFunction));
        this.sorted = [...this.routes.values()].sort((a, b) => a.name.localeCompare(b.name));
        this.lastRefresh = Date.now();
      } finally {
        this.inFlight = undefined;
      }
    })();
    return this.inFlight;
  }
}

function buildRoutes(infos: Parameters<typeof contractsOf>[0]): Map<string, FunctionRoute> {
  const routes = new Map<string, FunctionRoute>();
  for (const [name, contract] of contractsOf(infos)) {
    routes.set(name, {
      ...contract,
      maxPayload: Math.min(...contract.instances.map((i) => positive(functionEndpoint(i)?.metadata.max_payload, 65_536))),
      timeoutMs: positive(contract.metadata.timeout_ms, 5000),
      auth: contract.metadata.auth ?? "none",
    });
  }
  return routes;
}

function positive(text: string | undefined, fallback: number): number {
  const n = Number(text);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}
