/**
 * The durable invocations behind a trace, read from the journal (`durable_runs`) as `nfn runs show`
 * explains them: each step with status, duration, attempts, result or error, sleeps and waits.
 * An invocation is found by its id: the trace key itself, or the `Idempotency-Key` of a request of
 * the trace. The journal holds inputs and results in clear: only an admin viewer gets them (and
 * ids, error texts, wait matches); anyone else sees names, kinds, statuses, codes and times.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { RunLookupError, RunsAdmin, type RunDetail } from "../runtime/durable/admin.ts";
import type { StepRecord } from "../runtime/durable/records.ts";
import type { RequestRecord } from "./dashboard-requests.ts";

/** Most invocations one trace reads from the journal. */
export const MAX_TRACE_RUNS = 4;
/** Most steps of one invocation a trace reads (one KV get each). */
export const MAX_TRACE_STEPS = 200;

/** One step of a durable invocation, as the trace shows it. */
export interface TraceRunStep {
  n: number;
  name: string;
  kind: StepRecord["kind"];
  status: StepRecord["status"];
  startedAt: number;
  ms: number;
  attempts: number;
  wakeAt?: number;
  /** Only for an admin viewer. */
  result?: unknown;
  /** The code and type for everyone; the message only for an admin viewer. */
  error?: { code: number; type: string; message?: string };
}

/** One durable invocation of the trace. */
export interface TraceRun {
  fn: string;
  /** Only for an admin viewer. */
  id?: string;
  status: RunDetail["status"];
  createdAt: number;
  endedAt?: number;
  runs: number;
  /** What a waiting invocation waits for (the match only for an admin viewer). */
  wake?: { kind: "sleep" | "event"; at: number; eventType?: string; match?: unknown };
  cancelRequested?: boolean;
  /** More steps than MAX_TRACE_STEPS: the rest are in `nfn runs show`. */
  moreSteps?: boolean;
  /** Only for an admin viewer. */
  input?: unknown;
  result?: unknown;
  error?: { code: number; type: string; message?: string };
  steps: TraceRunStep[];
}

/** The trace's durable part: the invocations found, or why the journal could not be read. */
export interface TraceRuns {
  runs: TraceRun[];
  /** Set when the gateway's identity cannot read the journal (README: The dashboard). */
  unavailable?: string;
}

/** Reads durable invocations for the dashboard, binding to the journal on first use. */
export class DashboardRuns {
  private admin: Promise<RunsAdmin> | undefined;
  private canList = true;

  constructor(private readonly nc: NatsConnection) {}

  /** The invocations whose id is `id` or the idempotency key of one of `requests`. */
  async forTrace(id: string, requests: RequestRecord[], admin: boolean): Promise<TraceRuns> {
    const candidates = new Map<string, string | undefined>();
    for (const r of requests) if (r.idempotencyKey) candidates.set(`${r.fn}\n${r.idempotencyKey}`, r.fn);
    let runs: RunsAdmin;
    try {
      this.admin ??= RunsAdmin.attach(this.nc);
      runs = await this.admin;
    } catch {
      this.admin = undefined;
      return { runs: [], unavailable: "the gateway cannot open the journal" };
    }
    const found: RunDetail[] = [];
    const seen = new Set<string>();
    const add = (d: RunDetail) => {
      const key = `${d.fn}\n${d.id}`;
      if (!seen.has(key) && found.length < MAX_TRACE_RUNS) found.push(d);
      seen.add(key);
    };
    try {
      for (const [key, fn] of candidates) {
        const detail = await show(runs, key.slice(key.indexOf("\n") + 1), fn);
        if (detail) add(detail);
      }
      // The trace key may be an invocation id itself (an Idempotency-Key, or the id of a 202 reply):
      // looked for under the functions of the trace's requests, else listed in the journal.
      const fns = [...new Set(requests.map((r) => r.fn))];
      for (const fn of fns.length > 0 ? fns : await this.functionsOf(runs, id)) {
        const detail = await show(runs, id, fn);
        if (detail) add(detail);
      }
    } catch {
      return { runs: found.map((d) => toTraceRun(d, admin)), unavailable: "the gateway's identity cannot read the journal" };
    }
    return { runs: found.map((d) => toTraceRun(d, admin)) };
  }

  // Listing needs a consumer on the journal, which the gateway identity of `nfn auth init` does not
  // get: after the first refusal the dashboard stops asking.
  private async functionsOf(runs: RunsAdmin, id: string): Promise<string[]> {
    if (!this.canList) return [];
    try {
      return await runs.journal.functionsOf(id);
    } catch {
      this.canList = false;
      return [];
    }
  }
}

async function show(runs: RunsAdmin, id: string, fn: string | undefined): Promise<RunDetail | undefined> {
  try {
    return await runs.show(id, fn, MAX_TRACE_STEPS);
  } catch (err) {
    if (err instanceof RunLookupError && (err.kind === "not-found" || err.kind === "invalid")) return undefined;
    // No durable function has run yet: the journal bucket does not exist.
    if ((err as { code?: unknown } | null)?.code === 10059 || /stream not found/i.test(String((err as Error | null)?.message)))
      return undefined;
    throw err;
  }
}

function errorOf(e: { code: number; type: string; message: string } | undefined, admin: boolean): TraceRun["error"] {
  if (!e) return undefined;
  return admin ? { code: e.code, type: e.type, message: e.message } : { code: e.code, type: e.type };
}

function toTraceRun(d: RunDetail, admin: boolean): TraceRun {
  const run: TraceRun = {
    fn: d.fn,
    status: d.status,
    createdAt: d.createdAt,
    runs: d.runs,
    steps: d.steps.map((s) => {
      const step: TraceRunStep = {
        n: s.n,
        name: s.name,
        kind: s.kind,
        status: s.status,
        startedAt: s.startedAt,
        ms: s.ms,
        attempts: s.attempts,
      };
      if (s.wakeAt !== undefined) step.wakeAt = s.wakeAt;
      if (admin && s.result !== undefined) step.result = s.result;
      const error = errorOf(s.error, admin);
      if (error) step.error = error;
      return step;
    }),
  };
  if (d.endedAt !== undefined) run.endedAt = d.endedAt;
  if (d.cancelRequested) run.cancelRequested = true;
  if (d.moreSteps) run.moreSteps = true;
  if (d.wake) {
    run.wake = { kind: d.wake.kind, at: d.wake.at };
    if (d.wake.kind === "event") {
      run.wake.eventType = d.wake.eventType;
      if (admin) run.wake.match = d.wake.match;
    }
  }
  const error = errorOf(d.error, admin);
  if (error) run.error = error;
  if (admin) {
    run.id = d.id;
    run.input = d.input;
    if (d.result !== undefined) run.result = d.result;
  }
  return run;
}
