/**
 * The one place that talks to @nats-io/services. It registers a function as an ADR-32 micro
 * service, puts the runtime's exact EndpointStats behind `$SRV.STATS`, and puts the reply guard in
 * front of the library's own `$SRV` subscriptions.
 *
 * Why the swap: the library times only the synchronous part of a handler, in milliseconds, and
 * does not count `respondError` replies as errors. The dispatcher measures the whole asynchronous
 * request in nanoseconds instead, and the library's own counting is turned off here.
 *
 * Why a reply guard sits here too: the library answers `$SRV.PING|INFO|STATS` itself, from callbacks
 * it hands to `nc.subscribe`. The library gets a connection whose `subscribe` wraps the callback of
 * every `$SRV` subscription, so such a request whose reply subject is not an inbox never reaches it.
 * (The endpoint's own requests are guarded by the dispatcher, whatever subscription brings them.)
 */
import type { NatsConnection, Msg, MsgCallback, SubscriptionOptions, Subscription } from "@nats-io/nats-core";
import { Svcm, type Service } from "@nats-io/services";
import type { Logger } from "./logger.ts";
import { inboxPrefixOf } from "./connect.ts";
import { replyGuard } from "./reply-guard.ts";
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
  /** Called once per request message (the dispatcher, which guards the reply subject); must never throw. */
  onRequest: (msg: Msg) => void;
  /** Where dropped `$SRV` requests (reply subject not an inbox) are reported, at most once a minute. */
  log: Logger;
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
  const acceptsReply = replyGuard({ fn: spec.name, version: spec.version, stats: spec.stats, log: spec.log }, inboxPrefixOf(nc));
  const service: Service = await new Svcm(guardedConnection(nc, acceptsReply)).add({
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

/**
 * `nc` as the library sees it: the same connection, except that every `$SRV` subscription drops
 * messages whose reply subject is not an inbox (`acceptsReply` counts them) before the library sees them.
 */
function guardedConnection(nc: NatsConnection, acceptsReply: (msg: Msg) => boolean): NatsConnection {
  const subscribe = (subject: string, opts?: SubscriptionOptions): Subscription => {
    if (!subject.startsWith("$SRV.")) return nc.subscribe(subject, opts);
    const callback = opts?.callback;
    if (!callback) throw new Error("micro-adapter: @nats-io/services subscribed to $SRV without a callback; the reply guard needs one");
    const guarded: MsgCallback<Msg> = (err, msg) => {
      if (err || acceptsReply(msg)) void callback(err, msg);
    };
    return nc.subscribe(subject, { ...opts, callback: guarded });
  };
  return new Proxy(nc, {
    get(target, prop) {
      if (prop === "subscribe") return subscribe;
      const value: unknown = Reflect.get(target, prop, target);
      // Bound to the real connection: its methods use private fields a proxy does not have.
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
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
