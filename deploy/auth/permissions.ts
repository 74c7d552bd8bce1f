/**
 * Least-privilege NATS permissions computed from the functions' declarations (serves, calls, kv,
 * views, streams, emits, trigger, visibility), per function and per role. Never written by hand: re-run
 * `nfn auth init` after changing a declaration.
 */
import type { FunctionDefinition } from "../../runtime/define-function.ts";
import { EVENTS_STREAM, eventSubject } from "../../runtime/events.ts";
import { DLQ_STREAM, triggerConsumerName } from "../../runtime/triggers.ts";
import { RUNS_BUCKET } from "../../runtime/durable/journal.ts";
import { waitConsumerName } from "../../runtime/durable/event-waits.ts";
import { nestjsEnabled, nestjsSubjects } from "../../runtime/nestjs.ts";
import { BUNDLES_BUCKET, RELEASES_BUCKET } from "../registry/registry.ts";
import {
  JS_ACCOUNT_INFO,
  durableConsumerSubjects,
  kvReadSubjects,
  kvReadWriteSubjects,
  objectReadSubjects,
  objectReadWriteSubjects,
  streamCreateSubjects,
  streamInfoSubject,
  streamOwnSubjects,
  streamReadSubjects,
} from "./jetstream-subjects.ts";

/** Allowed subjects of one identity (a subscribe entry may carry a queue group: `"fn.x q"`). */
export interface Permissions {
  publish: string[];
  subscribe: string[];
}

/** How the functions are exposed; the runtime's NFN_SUBJECT_PREFIX and NFN_QUEUE. */
export interface SubjectSettings {
  subjectPrefix: string;
  queue: string;
}

/** Default subject settings (the runtime's defaults). */
export const DEFAULT_SUBJECTS: SubjectSettings = { subjectPrefix: "fn", queue: "q" };

/** Inbox prefix of the function identities; replies always go to `_INBOX.` or `_R_.` subjects. */
export const WORKER_INBOX = "_INBOX.worker";

/** A function's endpoint subject. */
export function endpointSubject(settings: SubjectSettings, fn: string): string {
  return settings.subjectPrefix === "" ? fn : `${settings.subjectPrefix}.${fn}`;
}

// The $SRV subjects a micro service answers for one service name (ADR-32).
function srvSubjects(fn: string): string[] {
  return ["$SRV.PING", "$SRV.INFO", "$SRV.STATS", `$SRV.*.${fn}`, `$SRV.*.${fn}.*`];
}

/** What one function needs: its endpoint and $SRV, its calls, buckets, streams, events and consumers. */
export function functionPermissions(
  def: FunctionDefinition,
  settings: SubjectSettings = DEFAULT_SUBJECTS,
  inboxPrefix = WORKER_INBOX,
): Permissions {
  // Every host makes sure EVENTS exists before it serves.
  const publish: string[] = [JS_ACCOUNT_INFO, streamInfoSubject(EVENTS_STREAM), ...streamCreateSubjects(EVENTS_STREAM)];
  const subscribe: string[] = [`${inboxPrefix}.>`];
  if (def.endpoint !== false) {
    subscribe.push(`${endpointSubject(settings, def.name)} ${settings.queue}`, ...srvSubjects(def.name));
    // The NestJS transport's subjects: the pattern itself and `{"cmd":"<name>"}`, in the same queue group.
    if (nestjsEnabled(def)) subscribe.push(...nestjsSubjects(def.name).map((s) => `${s} ${settings.queue}`));
    // Replies: to a caller's inbox, or to the reply subject an account import made (`_R_.`); nothing else.
    publish.push("_INBOX.>", "_R_.>");
  }
  const calls = new Set(def.calls ?? []);
  if (def.auth) calls.add("verify_token");
  for (const fn of calls) publish.push(endpointSubject(settings, fn));
  for (const bucket of def.kv ?? []) publish.push(...kvReadWriteSubjects(bucket));
  // A bucket only read through a view: gets and watches (and creating it empty), never $KV puts or deletes.
  for (const bucket of def.views ?? []) publish.push(...kvReadSubjects(bucket));
  for (const stream of def.streams ?? []) publish.push(...streamOwnSubjects(stream));
  for (const type of def.emits ?? []) publish.push(eventSubject(type));
  if (def.trigger) {
    publish.push(streamInfoSubject(DLQ_STREAM), ...streamCreateSubjects(DLQ_STREAM), `dlq.${def.name}.>`);
    for (const type of def.trigger.events) publish.push(...durableConsumerSubjects(EVENTS_STREAM, triggerConsumerName(def.name, type)));
  }
  if (def.durable && def.endpoint !== false) {
    // The journal, the announcement that an invocation ended, and the consumers of its waits (plus the look-back).
    publish.push(...kvReadWriteSubjects(RUNS_BUCKET), `nfn.runs.ended.${def.name}.>`);
    subscribe.push(`nfn.runs.ended.${def.name}.>`);
    const waits = def.durable === true ? [] : (def.durable.events ?? []);
    if (waits.length > 0) publish.push(...streamReadSubjects(EVENTS_STREAM));
    for (const type of waits) publish.push(...durableConsumerSubjects(EVENTS_STREAM, waitConsumerName(def.name, type)));
  }
  return normalize({ publish, subscribe });
}

/** The worker identity: every function it may host, and read access to the release registry. */
export function workerPermissions(
  defs: FunctionDefinition[],
  settings: SubjectSettings = DEFAULT_SUBJECTS,
  inboxPrefix = WORKER_INBOX,
): Permissions {
  const registry = [...kvReadSubjects(RELEASES_BUCKET), ...objectReadSubjects(BUNDLES_BUCKET)];
  return merge([...defs.map((d) => functionPermissions(d, settings, inboxPrefix)), { publish: registry, subscribe: [] }]);
}

/**
 * The JetStream API subjects of the event feed arrive in the callers' account under this prefix: an
 * account without JetStream answers `$JS.API.>` itself ("not enabled"), so the callers' account maps
 * the few feed subjects onto the imported ones instead of importing them under their own names.
 */
export const IMPORTED_JS_API = "$JS.FN.API";

/** Inbox prefix of the deployer. */
export const DEPLOYER_INBOX = "_INBOX.deployer";

/** The deployer: the registry bucket and the bundle store, and `$SRV` to see what runs; nothing else. */
export function deployerPermissions(): Permissions {
  return normalize({
    publish: [
      JS_ACCOUNT_INFO,
      ...kvReadWriteSubjects(RELEASES_BUCKET),
      ...objectReadWriteSubjects(BUNDLES_BUCKET),
      "$SRV.PING",
      "$SRV.INFO",
      "$SRV.STATS",
      "$SRV.*.*",
      "$SRV.*.*.*",
    ],
    subscribe: [`${DEPLOYER_INBOX}.>`],
  });
}

/** The public functions: the only ones the callers' account imports. */
export function publicFunctions(defs: FunctionDefinition[]): FunctionDefinition[] {
  return defs.filter((d) => d.visibility === "public" && d.endpoint !== false);
}

/** The subjects callers publish to reach `def`: its endpoint, and its NestJS transport subjects when it answers them. */
export function callerSubjects(def: FunctionDefinition, settings: SubjectSettings = DEFAULT_SUBJECTS): string[] {
  return [endpointSubject(settings, def.name), ...(nestjsEnabled(def) ? nestjsSubjects(def.name) : [])];
}

/** The EVENTS reads the gateway's live feed makes (an ordered consumer), imported into the callers' account. */
export function eventFeedSubjects(): string[] {
  return [
    streamInfoSubject(EVENTS_STREAM),
    `$JS.API.CONSUMER.CREATE.${EVENTS_STREAM}.*`,
    `$JS.API.CONSUMER.INFO.${EVENTS_STREAM}.*`,
    `$JS.API.CONSUMER.DELETE.${EVENTS_STREAM}.*`,
    `$JS.API.CONSUMER.MSG.NEXT.${EVENTS_STREAM}.*`,
  ];
}

/** A caller (CLI user, service): public functions and `$SRV` discovery, replies on its own inbox only. */
export function callerPermissions(
  defs: FunctionDefinition[],
  inboxPrefix: string,
  settings: SubjectSettings = DEFAULT_SUBJECTS,
): Permissions {
  return normalize({
    publish: [
      ...publicFunctions(defs).flatMap((d) => callerSubjects(d, settings)),
      "$SRV.PING",
      "$SRV.INFO",
      "$SRV.STATS",
      "$SRV.*.*",
      "$SRV.*.*.*",
    ],
    subscribe: [`${inboxPrefix}.>`],
  });
}

/**
 * What the dashboard reads beyond the feed, imported into the callers' account for the gateway
 * alone: the dead letters (ordered reads, one message, removal after a replay), messages of the
 * durable journal (the trace's steps), and publishing the event types a trigger may park, which is
 * what a replay does.
 */
export function dashboardSubjects(defs: FunctionDefinition[]): { jsApi: string[]; events: string[] } {
  const dlq = eventFeedSubjects().map((s) => s.replace(`.${EVENTS_STREAM}`, `.${DLQ_STREAM}`));
  const jsApi = [...dlq, `$JS.API.STREAM.MSG.GET.${DLQ_STREAM}`, `$JS.API.STREAM.MSG.DELETE.${DLQ_STREAM}`];
  if (defs.some((d) => d.durable && d.endpoint !== false)) jsApi.push(`$JS.API.STREAM.MSG.GET.KV_${RUNS_BUCKET}`);
  const events = [...new Set(defs.flatMap((d) => d.trigger?.events ?? []))].sort().map(eventSubject);
  return { jsApi, events };
}

/** The gateway: a caller that also reads the EVENTS feed, the dead letters and the journal for the dashboard. */
export function gatewayPermissions(
  defs: FunctionDefinition[],
  inboxPrefix: string,
  settings: SubjectSettings = DEFAULT_SUBJECTS,
): Permissions {
  const caller = callerPermissions(defs, inboxPrefix, settings);
  const extra = dashboardSubjects(defs);
  // The server checks a publish after the account's mappings, so the imported names are allowed too.
  const feed = [...eventFeedSubjects(), ...extra.jsApi];
  const imported = feed.map((s) => `${IMPORTED_JS_API}.${s.slice("$JS.API.".length)}`);
  return normalize({ publish: [...caller.publish, ...feed, ...imported, ...extra.events], subscribe: caller.subscribe });
}

function merge(list: Permissions[]): Permissions {
  return normalize({ publish: list.flatMap((p) => p.publish), subscribe: list.flatMap((p) => p.subscribe) });
}

function normalize(p: Permissions): Permissions {
  return { publish: [...new Set(p.publish)].sort(), subscribe: [...new Set(p.subscribe)].sort() };
}
