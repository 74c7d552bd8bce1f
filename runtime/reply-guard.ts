/**
 * The reply guard: the runtime answers a request only when its reply subject is an inbox. A
 * requester chooses the reply subject freely, and the runtime's connection may publish where the
 * requester may not (JetStream API, KV, `$SRV`), so a reply anywhere else would let anyone make a
 * function purge a stream or write a key with the function's permissions.
 */
import type { Msg } from "@nats-io/nats-core";
import { clipInput } from "./errors.ts";
import type { Logger } from "./logger.ts";
import { opsHooks } from "./ops/hooks.ts";

/** The inbox prefix every NATS client uses unless told otherwise. */
export const DEFAULT_INBOX_PREFIX = "_INBOX.";
/** Reply subjects the server writes for a service import (the requester's own subject is hidden behind it). */
export const IMPORT_REPLY_PREFIX = "_R_.";
/** Longest pause between two log lines about refused replies. */
export const REFUSAL_LOG_INTERVAL_MS = 60_000;

/**
 * True when `reply` is an inbox: `_INBOX.`, `<inboxPrefix>.` of the connection, or `_R_.` of an
 * import. An empty or missing reply is not: a message nobody waits for must not run a handler either.
 */
export function isInboxReply(reply: string | undefined, inboxPrefix?: string): boolean {
  if (!reply) return false;
  if (reply.startsWith(DEFAULT_INBOX_PREFIX) || reply.startsWith(IMPORT_REPLY_PREFIX)) return true;
  return inboxPrefix !== undefined && inboxPrefix !== "" && reply.startsWith(`${inboxPrefix}.`);
}

// One process-wide clock for the log line: a flood on many functions still logs once a minute.
let lastLoggedAt = Number.NEGATIVE_INFINITY;
let unlogged = 0;

/** Logs a refused reply at most once per minute, with how many were refused without a line. */
export function logRefusedReply(log: Logger, fn: string, subject: string, reply: string | undefined, now = Date.now()): void {
  unlogged++;
  if (now - lastLoggedAt < REFUSAL_LOG_INTERVAL_MS) return;
  lastLoggedAt = now;
  const shown = reply === undefined || reply === "" ? "(none)" : clipInput(reply);
  log.warn("request dropped: its reply subject is not an inbox (no handler ran, nothing replied)", {
    fn,
    subject: clipInput(subject),
    reply: shown,
    droppedSinceLastLine: unlogged,
  });
  unlogged = 0;
}

/** Where a guard reports what it dropped: the endpoint's STATS counter and the log. */
export interface ReplyGuardTarget {
  fn: string;
  version: string;
  stats: { refuseReply(): void };
  log: Logger;
}

/**
 * The guard of one function: true when `msg` may be answered; otherwise counts it (STATS
 * `rejected_reply_subject`, the metrics hook), logs at most once a minute and returns false.
 */
export function replyGuard(target: ReplyGuardTarget, inboxPrefix: string | undefined): (msg: Msg) => boolean {
  return (msg) => {
    if (isInboxReply(msg.reply, inboxPrefix)) return true;
    target.stats.refuseReply();
    opsHooks.onRejectedReply?.(target.fn, target.version);
    logRefusedReply(target.log, target.fn, msg.subject, msg.reply);
    return false;
  };
}
