/** What `nfn runs` does: list, show, cancel and retry durable invocations in the journal. */
import { Kvm } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import { type StateAccess, createStateAccess } from "../state.ts";
import { Journal } from "./journal.ts";
import type { FinalRecord, OpenRecord, RunStatus, StepRecord, StoredError, Wake } from "./records.ts";

/** One invocation as `nfn runs ls` lists it. */
export interface RunSummary {
  id: string;
  fn: string;
  status: RunStatus;
  createdAt: number;
  endedAt?: number;
  runs: number;
  owner?: string;
  error?: StoredError;
}

/** One invocation as `nfn runs show` explains it. */
export interface RunDetail extends RunSummary {
  input: unknown;
  result?: unknown;
  leaseUntil?: number;
  wake?: Wake;
  cancelRequested?: boolean;
  steps: StepRecord[];
  /** The journal holds more steps than were read (`show` with `maxSteps`). */
  moreSteps?: boolean;
}

/** Thrown for an id that is not in the journal, or names several functions. */
export class RunLookupError extends Error {
  constructor(
    message: string,
    readonly kind: "not-found" | "ambiguous" | "state" | "invalid",
  ) {
    super(message);
    this.name = "RunLookupError";
  }
}

const FN_NAME = /^[A-Za-z0-9_-]{1,64}$/;

// A function name becomes a subject token of a KV key: anything else is refused before it is used.
function checkFn(fn: string | undefined): void {
  if (fn !== undefined && !FN_NAME.test(fn)) throw new RunLookupError("a function name is 1-64 letters, digits, _ or -", "invalid");
}

/** The journal as an operator sees it. */
export class RunsAdmin {
  private constructor(readonly journal: Journal) {}

  /** Opens the journal on `nc` (the bucket is created when it does not exist yet). */
  static async open(nc: NatsConnection, replicas = 1): Promise<RunsAdmin> {
    return new RunsAdmin(await Journal.open(nc, createStateAccess(nc, replicas)));
  }

  /**
   * Binds to the journal without creating or inspecting the bucket, for a reader that may only get
   * messages (the gateway's dashboard): reads fail when the bucket is missing or not readable.
   */
  static async attach(nc: NatsConnection): Promise<RunsAdmin> {
    const base = createStateAccess(nc, 1);
    const kvm = new Kvm(nc);
    const readOnly: StateAccess = { ...base, kv: (bucket: string) => kvm.open(bucket) };
    return new RunsAdmin(await Journal.open(nc, readOnly));
  }

  /** Invocations of `fn` (or all), newest first, optionally of one status, at most `limit`. */
  async list(options: { fn?: string; status?: RunStatus; limit?: number } = {}): Promise<RunSummary[]> {
    checkFn(options.fn);
    const out: RunSummary[] = [];
    const wantOpen = options.status === undefined || options.status === "running" || options.status === "waiting";
    const wantFinal = options.status === undefined || !wantOpen;
    if (wantOpen) {
      for (const { fn, id } of await this.journal.openIds(options.fn)) {
        const open = await this.journal.getOpen(fn, id);
        if (open && (options.status === undefined || open.value.status === options.status)) out.push(openSummary(open.value));
      }
    }
    if (wantFinal) {
      for (const { fn, id } of await this.journal.finalIds(options.fn)) {
        const final = await this.journal.getFinal(fn, id);
        if (final && (options.status === undefined || final.status === options.status) && !out.some((r) => r.fn === fn && r.id === id)) {
          out.push(finalSummary(final));
        }
      }
    }
    return out.sort((a, b) => b.createdAt - a.createdAt).slice(0, options.limit ?? 100);
  }

  /** Everything the journal holds about `id`: the invocation and each step (at most `maxSteps` of them). */
  async show(id: string, fn?: string, maxSteps = Number.POSITIVE_INFINITY): Promise<RunDetail> {
    checkFn(fn);
    if (id.length === 0) throw new RunLookupError("an invocation id is not empty", "invalid");
    const name = fn ?? (await this.functionOf(id));
    const [open, final] = await Promise.all([this.journal.getOpen(name, id), this.journal.getFinal(name, id)]);
    if (!open && !final) throw new RunLookupError(`no invocation ${id.slice(0, 64)} of ${name}`, "not-found");
    const steps: StepRecord[] = [];
    let more = false;
    for (let n = 0; ; n++) {
      const step = await this.journal.getStep(name, id, n);
      if (!step) break;
      if (steps.length >= maxSteps) {
        more = true;
        break;
      }
      steps.push(step);
    }
    if (open) {
      const o = open.value;
      const detail: RunDetail = { ...openSummary(o), input: o.input, leaseUntil: o.leaseUntil, steps };
      if (o.wake) detail.wake = o.wake;
      if (o.cancel) detail.cancelRequested = true;
      if (more) detail.moreSteps = true;
      return detail;
    }
    const f = final as FinalRecord;
    const detail: RunDetail = { ...finalSummary(f), input: f.input, steps };
    if (f.result !== undefined) detail.result = f.result;
    if (more) detail.moreSteps = true;
    return detail;
  }

  /** Asks for `id` to be cancelled: its next run (at once when it waits) runs the compensations and ends `cancelled`. */
  async cancel(id: string, fn?: string): Promise<RunDetail> {
    checkFn(fn);
    const name = fn ?? (await this.functionOf(id));
    for (let tries = 0; tries < 5; tries++) {
      const open = await this.journal.getOpen(name, id);
      if (!open) throw new RunLookupError(`invocation ${id.slice(0, 64)} of ${name} is not open (it ended, or does not exist)`, "state");
      if (open.value.cancel) break;
      if ((await this.journal.updateOpen({ ...open.value, cancel: true }, open.revision)) !== undefined) break;
    }
    return this.show(id, name);
  }

  /** Runs a failed invocation again: finished steps keep their results, failed steps run again. */
  async retry(id: string, fn?: string): Promise<RunDetail> {
    checkFn(fn);
    const name = fn ?? (await this.functionOf(id));
    const final = await this.journal.getFinal(name, id);
    if (!final)
      throw new RunLookupError(`invocation ${id.slice(0, 64)} of ${name} has not ended; only a failed one can be retried`, "state");
    if (final.status !== "failed")
      throw new RunLookupError(`invocation ${id.slice(0, 64)} is ${final.status}; only a failed one can be retried`, "state");
    const open: OpenRecord = {
      v: 1,
      id,
      fn: name,
      status: "waiting",
      inputHash: final.inputHash,
      input: final.input,
      correlationId: final.correlationId ?? id,
      createdAt: final.createdAt,
      leaseUntil: 0,
      runs: final.runs,
      wake: { kind: "sleep", at: 0 },
      retry: true,
    };
    if (final.caller) open.caller = final.caller;
    if (final.traceparent) open.traceparent = final.traceparent;
    if ((await this.journal.createOpen(open)) === undefined)
      throw new RunLookupError(`invocation ${id.slice(0, 64)} is already open again`, "state");
    for (let n = 0; n < final.steps; n++) {
      const step = await this.journal.getStep(name, id, n);
      if (step?.status === "failed") await this.journal.deleteStep(name, id, n);
    }
    await this.journal.deleteFinal(name, id);
    return this.show(id, name);
  }

  private async functionOf(id: string): Promise<string> {
    if (id.length === 0) throw new RunLookupError("an invocation id is not empty", "invalid");
    const fns = await this.journal.functionsOf(id);
    if (fns.length === 0)
      throw new RunLookupError(
        `no invocation ${id.slice(0, 64)} in the journal (ended ones are kept for the retention period)`,
        "not-found",
      );
    if (fns.length > 1)
      throw new RunLookupError(`invocation ${id.slice(0, 64)} exists for ${fns.join(", ")}: say which with --fn`, "ambiguous");
    return fns[0] as string;
  }
}

function openSummary(o: OpenRecord): RunSummary {
  const s: RunSummary = { id: o.id, fn: o.fn, status: o.status, createdAt: o.createdAt, runs: o.runs };
  if (o.owner) s.owner = o.owner;
  return s;
}

function finalSummary(f: FinalRecord): RunSummary {
  const s: RunSummary = { id: f.id, fn: f.fn, status: f.status, createdAt: f.createdAt, endedAt: f.endedAt, runs: f.runs };
  if (f.error) s.error = f.error;
  return s;
}
