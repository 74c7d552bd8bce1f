/**
 * One run of a durable invocation: `ctx.step`, `ctx.sleep` and `ctx.waitForEvent` against its
 * journal. Steps are numbered in the order the handler calls them; while the journal has a record
 * for the next number the run replays it, and from the first number without one it runs for real.
 */
import { createHash } from "node:crypto";
import { isFunctionError } from "../errors.ts";
import { isTransientError } from "./transient.ts";
import type { DomainEvent } from "../types.ts";
import type { Journal } from "./journal.ts";
import { MAX_RECORD_BYTES } from "./journal.ts";
import type { Lease } from "./lease.ts";
import type { StepRecord } from "./records.ts";
import { DurableSignal, JournalMismatchError } from "./signals.ts";
import { replayError, storeError } from "./stored-error.ts";
import type { DurableContext, StepOptions, StepRun, WaitOptions } from "./types.ts";
import { matches } from "./event-match.ts";

interface Compensation {
  name: string;
  result: unknown;
  key: string;
  undo: (result: unknown, run: StepRun) => Promise<unknown> | unknown;
}

/** The journal-backed half of a durable handler's context. */
export class DurableRun implements DurableContext {
  private next = 0;
  /** When the latest step this run met started: a wait also sees events published since then. */
  private lastStartedAt: number | undefined;
  private readonly compensations: Compensation[] = [];

  constructor(
    private readonly journal: Journal,
    private readonly lease: Lease,
    /** False for a first run: nothing can be journaled yet, so no step is read. */
    private replaying: boolean,
    private readonly waitable: ReadonlySet<string>,
    /** `transientErrors: "resume"`: a step's transient error is not journaled, so a later run tries the step again. */
    private readonly resumeTransient = false,
  ) {}

  get invocationId(): string {
    return this.lease.record.id;
  }

  /** Steps numbered so far in this run. */
  get stepCount(): number {
    return this.next;
  }

  async step<T>(name: string, fn: (run: StepRun) => Promise<T> | T, options: StepOptions<T> = {}): Promise<T> {
    if (typeof name !== "string" || name.length === 0) throw new TypeError("ctx.step needs a non-empty name");
    const n = this.next++;
    const key = this.keyOf(n, name);
    const recorded = await this.replay(n, name, "step");
    const record = recorded ?? (await this.execute(n, name, key, fn, options));
    if (record.status === "failed") throw replayError(record.error ?? { code: 500, type: "INTERNAL", message: "step failed" });
    if (options.compensate) {
      this.compensations.push({ name, result: record.result, key, undo: options.compensate as Compensation["undo"] });
    }
    return record.result as T;
  }

  async sleep(ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms < 0) throw new TypeError("ctx.sleep needs a duration in ms, 0 or more");
    const n = this.next++;
    const recorded = await this.replay(n, "sleep", "sleep");
    if (recorded?.status === "done") return;
    if (recorded && this.lease.cancelRequested) throw new DurableSignal("cancel");
    const wakeAt = recorded?.wakeAt ?? Date.now() + ms;
    if (!recorded)
      await this.write({ v: 1, n, name: "sleep", kind: "sleep", status: "waiting", startedAt: Date.now(), ms: 0, attempts: 1, wakeAt });
    if (Date.now() >= wakeAt) {
      await this.finishWait(n, "sleep", "sleep", recorded?.startedAt ?? Date.now(), wakeAt, undefined);
      return;
    }
    throw new DurableSignal("suspend", { kind: "sleep", at: wakeAt });
  }

  async waitForEvent(eventType: string, options: WaitOptions): Promise<DomainEvent | null> {
    if (!this.waitable.has(eventType)) {
      throw new TypeError(`ctx.waitForEvent("${eventType.slice(0, 64)}"): list the event type in durable.events of the function`);
    }
    if (!Number.isFinite(options.timeoutMs) || options.timeoutMs < 0) throw new TypeError("ctx.waitForEvent needs timeoutMs, 0 or more");
    const n = this.next++;
    const name = `event:${eventType}`;
    const recorded = await this.replay(n, name, "wait");
    if (recorded?.status === "done") return (recorded.result as DomainEvent | null) ?? null;
    if (recorded && this.lease.cancelRequested) throw new DurableSignal("cancel");
    const wakeAt = recorded?.wakeAt ?? Date.now() + options.timeoutMs;
    const match = options.match ?? {};
    if (!recorded) await this.write({ v: 1, n, name, kind: "wait", status: "waiting", startedAt: Date.now(), ms: 0, attempts: 1, wakeAt });
    const wake = this.lease.record.wake;
    const arrived = wake?.kind === "event" && wake.n === n && wake.event && matches(wake.event, eventType, match) ? wake.event : undefined;
    if (arrived || Date.now() >= wakeAt) {
      const result = arrived ?? null;
      await this.finishWait(n, name, "wait", recorded?.startedAt ?? Date.now(), wakeAt, result);
      this.lease.record.wake = undefined;
      return result;
    }
    const since = this.lastStartedAt ?? this.lease.record.createdAt;
    throw new DurableSignal("suspend", { kind: "event", n, eventType, match, at: wakeAt, since });
  }

  /** Undoes every finished step that declared `compensate`, last first, each journaled as `undo:<name>`. */
  async compensate(): Promise<void> {
    this.replaying = true; // undo steps of an earlier, interrupted cancel are in the journal
    for (const c of this.compensations.reverse()) {
      const n = this.next++;
      const name = `undo:${c.name}`;
      const recorded = await this.replay(n, name, "undo", true);
      const record = recorded ?? (await this.execute(n, name, c.key, (run) => c.undo(c.result, run), { attempts: 3 }, "undo"));
      if (record.status === "failed") throw replayError(record.error ?? { code: 500, type: "INTERNAL", message: "compensation failed" });
    }
  }

  /** A key stable for (invocation, step number, step name): the same in every run, different for every step. */
  private keyOf(n: number, name: string): string {
    const digest = createHash("sha256").update(`${this.lease.record.fn}\n${this.lease.record.id}\n${n}\n${name}`).digest("base64url");
    return `step-${digest.slice(0, 32)}`;
  }

  /** The journal's record for step `n`, checked against what the code runs now; undefined past the journal's end. */
  private async replay(n: number, name: string, kind: StepRecord["kind"], inUndo = false): Promise<StepRecord | undefined> {
    if (this.lease.lost) throw new DurableSignal("lease-lost");
    if (!this.replaying) {
      if (this.lease.cancelRequested && !inUndo) throw new DurableSignal("cancel");
      return undefined;
    }
    const record = await this.journal.getStep(this.lease.record.fn, this.lease.record.id, n);
    if (!record) {
      this.replaying = false;
      if (this.lease.cancelRequested && !inUndo) throw new DurableSignal("cancel");
      return undefined;
    }
    // A cancel was already under way at this point in an earlier run: go on compensating.
    if (record.kind === "undo" && !inUndo) {
      this.next--;
      throw new DurableSignal("cancel");
    }
    if (record.name !== name || record.kind !== kind) throw new JournalMismatchError(n, record.name, name);
    if (kind === "step") this.lastStartedAt = record.startedAt;
    return record;
  }

  private async execute<T>(
    n: number,
    name: string,
    key: string,
    fn: (run: StepRun) => Promise<T> | T,
    options: StepOptions<T>,
    kind: StepRecord["kind"] = "step",
  ): Promise<StepRecord> {
    const attempts = Math.max(1, Math.floor(options.attempts ?? 1));
    const startedAt = Date.now();
    if (kind === "step") this.lastStartedAt = startedAt;
    let record: StepRecord | undefined;
    for (let attempt = 1; !record; attempt++) {
      try {
        const value = await fn({ key, attempt });
        const text = value === undefined ? undefined : JSON.stringify(value);
        if (text !== undefined && Buffer.byteLength(text) > MAX_RECORD_BYTES) {
          throw new Error(`step "${name.slice(0, 64)}" returned more than ${MAX_RECORD_BYTES} bytes of JSON; journal a reference instead`);
        }
        const result: unknown = text === undefined ? undefined : JSON.parse(text);
        record = { v: 1, n, name, kind, status: "done", result, startedAt, ms: Date.now() - startedAt, attempts: attempt };
      } catch (err) {
        if (this.lease.lost) throw new DurableSignal("lease-lost");
        const final = attempt >= attempts || (isFunctionError(err) && err.code < 500);
        if (!final) {
          await new Promise((r) => setTimeout(r, options.backoffMs ?? 100));
          continue;
        }
        if (this.resumeTransient && isTransientError(err)) throw err;
        record = {
          v: 1,
          n,
          name,
          kind,
          status: "failed",
          error: storeError(err),
          startedAt,
          ms: Date.now() - startedAt,
          attempts: attempt,
        };
      }
    }
    if (this.lease.lost) throw new DurableSignal("lease-lost");
    // create, not put: when two runs raced past a lost lease, the first record stands for both.
    return this.journal.createStep(this.lease.record.fn, this.lease.record.id, record);
  }

  private async write(record: StepRecord): Promise<void> {
    await this.journal.createStep(this.lease.record.fn, this.lease.record.id, record);
  }

  private async finishWait(
    n: number,
    name: string,
    kind: "sleep" | "wait",
    startedAt: number,
    wakeAt: number,
    result: unknown,
  ): Promise<void> {
    const record: StepRecord = { v: 1, n, name, kind, status: "done", startedAt, ms: Date.now() - startedAt, attempts: 1, wakeAt };
    if (result !== undefined) record.result = result;
    await this.journal.putStep(this.lease.record.fn, this.lease.record.id, record);
  }
}
