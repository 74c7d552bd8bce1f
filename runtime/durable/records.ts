/** The journal's records: one open record per running invocation, one final record, one per step. */
import type { Caller, DomainEvent } from "../types.ts";
import type { EventMatch } from "./types.ts";

/** Status of an invocation as `nfn runs` shows it. */
export type RunStatus = "running" | "waiting" | "done" | "failed" | "cancelled";

/** An error as the journal keeps it (the wire code, type and message; 500s keep the operator's text). */
export interface StoredError {
  code: number;
  type: string;
  message: string;
  details?: Record<string, unknown>[];
}

/** Why a waiting invocation sleeps: a timer, or an event (with a deadline). */
export type Wake =
  | { kind: "sleep"; at: number }
  | { kind: "event"; n: number; eventType: string; match: EventMatch; at: number; since: number; event?: DomainEvent };

/** What is needed to run an invocation again, kept while it is open. */
export interface OpenRecord {
  v: 1;
  id: string;
  fn: string;
  status: "running" | "waiting";
  inputHash: string;
  input: unknown;
  caller?: Caller;
  correlationId: string;
  traceparent?: string;
  createdAt: number;
  /** The instance that holds the lease, when running. */
  owner?: string;
  /** Epoch ms after which another instance may take over. */
  leaseUntil: number;
  /** How many times a run was started (1 for a first run). */
  runs: number;
  wake?: Wake;
  /** Set by `nfn runs cancel`: the next run compensates instead of going on. */
  cancel?: boolean;
  /** Set by `nfn runs retry`: a final record may still exist and is overwritten by this run. */
  retry?: boolean;
  /** The transient error the last run stopped at (`transientErrors: "resume"`); resumed after `leaseUntil`. */
  lastError?: StoredError;
}

/** The outcome of a finished invocation. */
export interface FinalRecord {
  v: 1;
  id: string;
  fn: string;
  status: "done" | "failed" | "cancelled";
  inputHash: string;
  input: unknown;
  result?: unknown;
  error?: StoredError;
  createdAt: number;
  endedAt: number;
  steps: number;
  runs: number;
  caller?: Caller;
  correlationId?: string;
  traceparent?: string;
}

/** One journaled step (a `ctx.step`, a sleep, a wait, or a compensation). */
export interface StepRecord {
  v: 1;
  n: number;
  name: string;
  kind: "step" | "sleep" | "wait" | "undo";
  status: "done" | "failed" | "waiting";
  result?: unknown;
  error?: StoredError;
  startedAt: number;
  ms: number;
  attempts: number;
  /** Sleeps and waits: when the wait ends. */
  wakeAt?: number;
}

/** Parses a JSON record from the journal; undefined when it is not one of ours. */
export function parseRecord<T extends { v: 1 }>(text: string): T | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === "object" && value !== null && (value as { v?: unknown }).v === 1 ? (value as T) : undefined;
  } catch {
    return undefined;
  }
}
