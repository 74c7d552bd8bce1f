/**
 * Runs the invocations of one durable function on one instance: the request path (start, or
 * replay an ended invocation's reply), runs under a lease, suspension, and taking over open
 * invocations whose lease expired or whose wait ended (called by the recovery loop).
 */
import { createHash, randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { headers as natsHeaders } from "@nats-io/nats-core";
import type { FunctionDefinition } from "../define-function.ts";
import { FunctionError, isFunctionError, toFunctionError } from "../errors.ts";
import { AUTHORIZATION, CORRELATION_ID, IDEMPOTENCY_KEY, TRACEPARENT } from "../headers.ts";
import { Cancellation, RequestContext } from "../context.ts";
import type { DispatchEnvironment } from "../dispatcher.ts";
import type { Context } from "../types.ts";
import { continueTrace } from "../trace.ts";
import { DurableRun } from "./durable-run.ts";
import type { Journal, Versioned } from "./journal.ts";
import { Lease } from "./lease.ts";
import type { FinalRecord, OpenRecord } from "./records.ts";
import { isDurableSignal } from "./signals.ts";
import { lookBack } from "./event-waits.ts";
import { unindexWait } from "./wait-index.ts";
import { type Outcome, ReplyWaiter } from "./reply-waiter.ts";
import { replayError, storeError } from "./stored-error.ts";
import type { ResolvedDurableOptions } from "./options.ts";
import { compileValidator, type Validator } from "../validation.ts";
import { canonicalJson } from "../canonical-json.ts";
import { isTransientError } from "./transient.ts";

// A wake further away than this is left to the recovery loop instead of a local timer.
const LOCAL_WAKE_MAX_MS = 5 * 60_000;

/** The durable runner of one function on one instance. */
export class DurableRunner {
  /** This instance, as lease owner. */
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly active = new Map<string, Promise<Outcome>>();
  private readonly replies: ReplyWaiter;
  private readonly wakeTimers = new Set<NodeJS.Timeout>();
  private stopped = false;
  private readonly validateResponse: Validator;

  constructor(
    private readonly def: FunctionDefinition,
    private readonly env: DispatchEnvironment,
    readonly journal: Journal,
    private readonly options: ResolvedDurableOptions,
  ) {
    this.validateResponse = compileValidator(def.response);
    this.replies = new ReplyWaiter(env.nc, journal);
  }

  /** The request path: start (or resume, or answer from the journal) the invocation of this request. */
  async handle(input: unknown, ctx: Context): Promise<unknown> {
    const key = ctx.header(IDEMPOTENCY_KEY);
    // A key used as the invocation id must fit a KV key token; one hashed into a derived id may be longer.
    const maxKey = this.options.invocationId ? 255 : 64;
    if (key !== undefined && key.length > maxKey) throw new FunctionError(400, `Idempotency-Key must be at most ${maxKey} characters`);
    const id = key === undefined ? randomUUID() : this.invocationIdOf(key, ctx.caller);
    const fn = this.def.name;
    const inputHash = hashInput(ctx.caller?.sub, input);
    if (key !== undefined) {
      const final = await this.journal.getFinal(fn, id);
      if (final) return finalReply(final, inputHash);
    }
    const now = Date.now();
    const record: OpenRecord = {
      v: 1,
      id,
      fn,
      status: "running",
      inputHash,
      input,
      correlationId: ctx.correlationId,
      createdAt: now,
      owner: this.owner,
      leaseUntil: now + this.options.leaseMs,
      runs: 1,
    };
    if (ctx.caller) record.caller = ctx.caller;
    const traceparent = ctx.header(TRACEPARENT);
    if (traceparent) record.traceparent = traceparent;
    const rev = await this.journal.createOpen(record);
    let lease: Lease;
    let replay = false;
    if (rev !== undefined) lease = new Lease(this.journal, record, rev, this.options.leaseMs);
    else {
      // The same key is open already (a retry, a concurrent repeat) or has just ended.
      const open = await this.journal.getOpen(fn, id);
      if (!open) {
        const final = await this.journal.getFinal(fn, id);
        if (final) return finalReply(final, inputHash);
        throw new FunctionError(409, "the same Idempotency-Key is changing state; retry shortly");
      }
      if (open.value.inputHash !== inputHash) throw mismatch();
      // A concurrent repeat on the instance that runs it waits for the same outcome.
      const local = this.active.get(id);
      if (local) return this.replies.reply(fn, id, local, ctx.deadline);
      const eligible = this.eligible(open.value);
      // Backing off after a transient error: nothing runs it now, so waiting for its end is pointless.
      if (!eligible && open.value.lastError)
        throw new FunctionError(409, "the same Idempotency-Key is still in progress; retry in a moment");
      const taken = eligible ? await this.takeOver(open) : undefined;
      // Running on another instance, or waiting: the caller still gets the reply if it ends within the deadline.
      if (!taken) return this.replies.reply(fn, id, Promise.resolve({ status: open.value.status }), ctx.deadline);
      lease = taken;
      replay = true;
    }
    return this.replies.reply(fn, id, this.run(lease, replay, ctx.header(AUTHORIZATION)), ctx.deadline);
  }

  /** Takes over `id` when its lease expired or its wait is over; false when it is not due (or another instance won). */
  async tryResume(id: string): Promise<boolean> {
    // Past the function's in-flight limit, this instance leaves the rest to the others (or its next pass).
    if (this.stopped || this.active.has(id) || this.active.size >= this.def.limits.maxInFlight) return false;
    const open = await this.journal.getOpen(this.def.name, id);
    if (!open || !this.eligible(open.value)) return false;
    const final = await this.journal.getFinal(this.def.name, id);
    if (final && open.value.retry !== true) {
      // A run ended but died before removing its open record: finish the cleanup.
      await this.journal.deleteOpen(this.def.name, id, open.revision);
      return false;
    }
    const lease = await this.takeOver(open);
    if (!lease) return false;
    void this.run(lease, true, undefined);
    return true;
  }

  /** Stops waking invocations; waits (at most `graceMs`) for the runs in progress. */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    for (const t of this.wakeTimers) clearTimeout(t);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.active.values()]),
      new Promise((r) => {
        timer = setTimeout(r, graceMs);
      }),
    ]);
    clearTimeout(timer);
  }

  /** Invocations running on this instance now. */
  get running(): number {
    return this.active.size;
  }

  private eligible(open: OpenRecord): boolean {
    const now = Date.now();
    if (open.status === "running") return open.leaseUntil < now;
    return (
      open.cancel === true ||
      (open.wake !== undefined && (open.wake.at <= now || (open.wake.kind === "event" && open.wake.event !== undefined)))
    );
  }

  private async takeOver(open: Versioned<OpenRecord>): Promise<Lease | undefined> {
    const next: OpenRecord = {
      ...open.value,
      retry: undefined,
      lastError: undefined,
      status: "running",
      owner: this.owner,
      leaseUntil: Date.now() + this.options.leaseMs,
      runs: open.value.runs + 1,
    };
    const rev = await this.journal.updateOpen(next, open.revision);
    if (rev === undefined) return undefined;
    // Its wait is over (an event, a timeout or a cancel woke it): out of the wait index.
    unindexWait(this.env.state.js, this.journal.kv, open.value).catch((err: unknown) =>
      this.env.log.warn("could not remove a wait from the wait index; the next event for it sweeps it", {
        invocationId: next.id,
        error: err,
      }),
    );
    return new Lease(this.journal, next, rev, this.options.leaseMs);
  }

  private run(lease: Lease, replay: boolean, authorization: string | undefined): Promise<Outcome> {
    const id = lease.record.id;
    const outcome = this.execute(lease, replay, authorization).catch((err: unknown): Outcome => {
      this.env.log.error("durable run could not record its outcome; recovery will run it again", {
        fn: this.def.name,
        invocationId: id,
        error: err,
      });
      return { status: "running" };
    });
    this.active.set(id, outcome);
    void outcome.then((o) => {
      this.active.delete(id);
      // The consumer skips an event that came before the invocation was marked waiting: look for it now.
      if (o.status === "waiting" && lease.record.wake?.kind === "event") {
        lookBack(this.env.state.js, this, lease.record.fn, id).catch((err: unknown) =>
          this.env.log.warn("could not look for events published before the wait", { invocationId: id, error: err }),
        );
      }
      this.replies.settle(id, o);
    });
    return outcome;
  }

  private async execute(lease: Lease, replay: boolean, authorization: string | undefined): Promise<Outcome> {
    const rec = lease.record;
    const { timeoutMs } = this.def.limits;
    const cancel = new Cancellation();
    const timer = setTimeout(
      () => cancel.abort(new FunctionError(504, `${this.def.name} run did not finish within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const headers = natsHeaders();
    if (rec.traceparent) headers.set(TRACEPARENT, rec.traceparent);
    headers.set(CORRELATION_ID, rec.correlationId);
    if (authorization) headers.set(AUTHORIZATION, authorization);
    const ctx = new RequestContext({
      nc: this.env.nc,
      state: this.env.state,
      subjectFor: this.env.subjectFor,
      fn: { name: this.def.name, version: this.def.version },
      headers,
      trace: continueTrace(rec.traceparent),
      correlationId: rec.correlationId,
      deadline: Date.now() + timeoutMs,
      cancel,
      log: this.env.log.child({ fn: this.def.name, version: this.def.version, invocationId: rec.id }),
    });
    ctx.caller = rec.caller;
    const resume = this.options.transientErrors === "resume";
    const run = new DurableRun(this.journal, lease, replay, new Set(this.options.events), resume);
    ctx.durable = run;
    lease.startHeartbeat();
    try {
      let result: unknown;
      try {
        result = await this.def.handler(rec.input, ctx);
      } catch (err) {
        if (!(isDurableSignal(err) && err.kind === "cancel")) throw err;
        await run.compensate();
        return await this.finish(lease, run, { status: "cancelled", error: new FunctionError(409, `invocation was cancelled`) });
      }
      // Checked before it is recorded: a reply replayed from the journal must be one the schema allows.
      const problems = this.validateResponse(result);
      if (problems) {
        ctx.log.error("reply does not match the response schema", { details: problems });
        const err = new Error(`the reply does not match the response schema: ${problems[0]?.path || "/"} ${problems[0]?.message ?? ""}`);
        return await this.finish(lease, run, { status: "failed", error: toFunctionError(err) }, err);
      }
      return await this.finish(lease, run, { status: "done", result });
    } catch (err) {
      if (isDurableSignal(err)) {
        if (err.kind === "suspend" && err.wake) {
          await lease.stopHeartbeat();
          if (!(await lease.suspend(err.wake))) return { status: "running" };
          this.scheduleWake(rec.id, err.wake.at);
          return { status: "waiting" };
        }
        return { status: "running" }; // lease lost: the instance that took over goes on
      }
      if (resume && isTransientError(err)) return await this.backOff(lease, err);
      if (!isFunctionError(err) || err.code === 500) ctx.log.error("durable invocation failed", { error: err });
      return await this.finish(lease, run, { status: "failed", error: toFunctionError(err) }, err);
    } finally {
      clearTimeout(timer);
      await lease.stopHeartbeat();
    }
  }

  private async finish(lease: Lease, run: DurableRun, outcome: Outcome, cause?: unknown): Promise<Outcome> {
    await lease.stopHeartbeat();
    if (lease.lost) return { status: "running" };
    const rec = lease.record;
    const final: FinalRecord = {
      v: 1,
      id: rec.id,
      fn: rec.fn,
      status: outcome.status === "done" ? "done" : outcome.status === "cancelled" ? "cancelled" : "failed",
      inputHash: rec.inputHash,
      input: rec.input,
      createdAt: rec.createdAt,
      endedAt: Date.now(),
      steps: run.stepCount,
      runs: rec.runs,
      correlationId: rec.correlationId,
    };
    if (rec.caller) final.caller = rec.caller;
    if (rec.traceparent) final.traceparent = rec.traceparent;
    if (outcome.status === "done" && outcome.result !== undefined) final.result = outcome.result;
    if (outcome.status === "failed" || outcome.status === "cancelled") final.error = storeError(cause ?? outcome.error);
    await this.journal.putFinal(final);
    this.replies.announce(rec.fn, rec.id, final.status);
    // The reply need not wait for the index cleanup; recovery finishes it when this instance dies first.
    void this.journal.deleteOpen(rec.fn, rec.id, lease.revision).catch((err: unknown) => {
      this.env.log.warn("could not remove an ended invocation from the open index", { invocationId: rec.id, error: err });
    });
    return outcome;
  }

  /** Leaves the invocation open after a transient error; the caller gets it as 503, recovery resumes it after the lease. */
  private async backOff(lease: Lease, err: unknown): Promise<Outcome> {
    const error = toFunctionError(err);
    await lease.stopHeartbeat();
    if (!lease.lost) {
      // When even this write fails (the store is away), the lease simply runs out: recovery resumes it all the same.
      await lease.backOff(Date.now() + this.options.leaseMs, storeError(error)).catch((cause: unknown) => {
        this.env.log.warn("could not record a transient error; the lease expires instead", { invocationId: lease.record.id, error: cause });
      });
    }
    // 504 would tell the caller the work may be lost; it is kept and resumes, which is what 503 (retry) says.
    if (error.code === 504)
      return { status: "failed", error: new FunctionError(503, `${error.message}; the invocation is kept and resumes by itself`) };
    return { status: "failed", error };
  }

  /** The invocation id of a request with `key`: the key itself, or what `durable.invocationId` derives (checked). */
  private invocationIdOf(key: string, caller: Context["caller"]): string {
    const derive = this.options.invocationId;
    if (!derive) return key;
    const id = derive(key, caller);
    if (typeof id !== "string" || id.length === 0 || id.length > 128)
      throw new Error(`${this.def.name}: durable.invocationId returned no id of 1..128 characters`);
    return id;
  }

  private scheduleWake(id: string, at: number): void {
    const delay = at - Date.now();
    if (this.stopped || delay > LOCAL_WAKE_MAX_MS) return;
    const timer = setTimeout(
      () => {
        this.wakeTimers.delete(timer);
        this.tryResume(id).catch((err: unknown) =>
          this.env.log.warn("durable wake failed; recovery will retry", { invocationId: id, error: err }),
        );
      },
      Math.max(0, delay),
    );
    timer.unref();
    this.wakeTimers.add(timer);
  }
}

function mismatch(): FunctionError {
  return new FunctionError(422, "this Idempotency-Key was used with a different payload (or by another caller)");
}

function finalReply(final: FinalRecord, inputHash: string): unknown {
  if (final.inputHash !== inputHash) throw mismatch();
  if (final.status === "done") return final.result;
  throw replayError(final.error ?? { code: 500, type: "INTERNAL", message: "invocation failed" });
}

// The caller is part of the hash: another caller reusing a key gets 422, never someone else's reply.
function hashInput(sub: string | undefined, input: unknown): string {
  // Canonical: the same payload with its keys in another order is the same request.
  return createHash("sha256")
    .update(`${sub ?? ""}\n${canonicalJson(input)}`)
    .digest("base64url");
}
