/**
 * The one place that talks to @nats-io/services. It registers a function as an ADR-32 micro
 * service and puts the runtime's exact EndpointStats behind `$SRV.STATS`.
 *
 * Why the swap: the library times only the synchronous part of a handler, in milliseconds, and
 * does not count `respondError` replies as errors. The dispatcher measures the whole asynchronous
 * request in nanoseconds instead, and the library's own counting is turned off here.
 */
import type { NatsConnection, Msg } from "@nats-io/nats-core";
import { Svcm, type Service } from "@nats-io/services";
import type { EndpointStats } from "./stats.ts";

/** What one function registers. */
export interface MicroEndpointSpec {
  name: string;
  version: string;
  description: string;
  subject: string;
  queue: string;
  serviceMetadata: Record<string, string>;
  endpointMetadata: Record<string, string>;
  /** Counters that `$SRV.STATS` reports; the dispatcher records into them. */
  stats: EndpointStats;
  /** Called once per request message; must never throw. */
  onRequest: (msg: Msg) => void;
}

/** A registered function endpoint. */
export interface MicroEndpoint {
  readonly id: string;
  readonly stats: EndpointStats;
  /** Stops taking requests: unsubscribes (draining what the server already sent) and leaves `$SRV`. */
  stop(): Promise<void>;
}

// The library's per-endpoint record that STATS reads; only the fields used here.
interface LibraryEndpointRecord {
  name: string;
  stats: unknown;
}

/** Registers `spec` as its own micro service with one endpoint. */
export async function registerEndpoint(nc: NatsConnection, spec: MicroEndpointSpec): Promise<MicroEndpoint> {
  const service: Service = await new Svcm(nc).add({
    name: spec.name,
    version: spec.version,
    description: spec.description,
    queue: spec.queue,
    metadata: spec.serviceMetadata,
  });
  const { stats } = spec;
  service.addEndpoint(spec.name, {
    subject: spec.subject,
    queue: spec.queue,
    metadata: spec.endpointMetadata,
    handler: (err, msg) => {
      if (err) return; // the library closes the service itself on subscription errors
      spec.onRequest(msg);
    },
  });
  installExactStats(service, spec.name, stats);
  // Resolve only once the server has the subscriptions, so "registered" means reachable.
  await nc.flush();
  return {
    get id() {
      return service.info().id;
    },
    stats,
    async stop() {
      await service.stop();
    },
  };
}

// Messages are delivered on a later tick, so swapping right after addEndpoint loses none.
function installExactStats(service: Service, endpointName: string, stats: EndpointStats): void {
  const handlers = (service as unknown as { handlers?: LibraryEndpointRecord[] }).handlers;
  const record = handlers?.find((h) => h.name === endpointName);
  if (!record) {
    throw new Error("@nats-io/services changed its internals: pin the version in package.json or update micro-adapter.ts");
  }
  record.stats = {
    countLatency() {},
    countError() {},
    reset() {
      stats.reset();
    },
    stats() {
      return stats.toJSON();
    },
  };
}
