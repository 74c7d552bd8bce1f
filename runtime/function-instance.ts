/** One function running on one connection: its micro service endpoint and, later, its event consumer. */
import type { NatsConnection } from "@nats-io/nats-core";
import type { FunctionDefinition } from "./define-function.ts";
import { createDispatcher } from "./dispatcher.ts";
import type { Logger } from "./logger.ts";
import { type MicroEndpoint, registerEndpoint } from "./micro-adapter.ts";
import type { StateAccess } from "./state.ts";
import { EndpointStats } from "./stats.ts";
import { startTimers } from "./timers.ts";
import { startTriggers } from "./triggers.ts";
import { subjectFor as functionSubject } from "./config.ts";
import { startDurable } from "./durable/start-durable.ts";
import { sourceSha256Of } from "./loader.ts";

/** Everything a function instance shares with the other functions of its host. */
export interface InstanceEnvironment {
  nc: NatsConnection;
  state: StateAccess;
  subjectPrefix: string;
  queue: string;
  log: Logger;
}

/** Where a function's code came from, advertised in INFO metadata. */
export interface InstanceOrigin {
  /** sha256 of the deployed bundle; default the sha256 of the source module it was loaded from (runtime/loader.ts), else "source". */
  bundleSha256?: string;
  /** The worker running it (host:pid or NFN_WORKER_NAME), advertised as service metadata `worker`. */
  worker?: string;
}

/** A started function. */
export interface RunningFunction {
  readonly definition: FunctionDefinition;
  readonly subject: string | undefined;
  readonly endpoint: MicroEndpoint | undefined;
  readonly stats: EndpointStats | undefined;
  /** Stops taking requests, waits up to `graceMs` for those in flight, then returns. */
  stop(graceMs: number): Promise<void>;
}

/** Registers `def` as its own micro service on `env.nc`. */
export async function startFunction(
  def: FunctionDefinition,
  env: InstanceEnvironment,
  origin: InstanceOrigin = {},
): Promise<RunningFunction> {
  const subjectFor = (fn: string) => functionSubject(env, fn);
  const stopTimers = startTimers(def, env);
  const stopTriggers = await startTriggers(def, env).catch(async (err: unknown) => {
    await stopTimers();
    throw err;
  });
  if (def.endpoint === false) {
    return {
      definition: def,
      subject: undefined,
      endpoint: undefined,
      stats: undefined,
      stop: () => Promise.all([stopTimers(), stopTriggers()]).then(() => undefined),
    };
  }
  const subject = subjectFor(def.name);
  const stats = new EndpointStats(def.name, subject, env.queue);
  const dispatchEnv = { nc: env.nc, state: env.state, subjectFor, log: env.log };
  // A durable function's requests run as journaled invocations; its recovery loop runs beside the endpoint.
  const durable = def.durable ? await startDurable(def, dispatchEnv) : undefined;
  const dispatch = createDispatcher(durable?.definition ?? def, dispatchEnv, stats);
  const endpoint = await registerEndpoint(env.nc, {
    name: def.name,
    version: def.version,
    description: def.description,
    subject,
    queue: env.queue,
    serviceMetadata: origin.worker ? { runtime: "nats-functions", worker: origin.worker } : { runtime: "nats-functions" },
    endpointMetadata: {
      request_schema: JSON.stringify(def.request),
      response_schema: JSON.stringify(def.response),
      bundle_sha256: origin.bundleSha256 ?? sourceSha256Of(def) ?? "source",
      max_payload: String(def.limits.maxPayload),
      max_in_flight: String(def.limits.maxInFlight),
      timeout_ms: String(def.limits.timeoutMs),
      visibility: def.visibility,
      auth: def.auth ? (def.auth.scopes ?? []).join(" ") || "token" : "none",
    },
    stats,
    onRequest: dispatch,
    log: env.log,
  });
  return {
    definition: def,
    subject,
    endpoint,
    stats: endpoint.stats,
    async stop(graceMs) {
      await Promise.all([endpoint.stop(), stopTimers(), stopTriggers()]);
      await Promise.all([waitUntil(() => endpoint.stats.inFlight === 0, graceMs), durable?.stop(graceMs)]);
    },
  };
}

/** Polls `done` every 10 ms until it is true or `ms` pass; true when it became true. */
export async function waitUntil(done: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}
