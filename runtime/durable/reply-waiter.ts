/**
 * How a request waits for its invocation: until just before the caller's deadline, for a run on
 * this instance or for the end another instance announces on core NATS; then the reply, or 202.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { FunctionError } from "../errors.ts";
import { kvKey } from "../kv-key.ts";
import type { Journal } from "./journal.ts";
import { replayError } from "./stored-error.ts";

/** How a run ended, as far as this instance knows. */
export type Outcome =
  { status: "done"; result: unknown } | { status: "failed" | "cancelled"; error: FunctionError } | { status: "waiting" | "running" };

/** The requests of one function on one instance that wait for invocations. */
export class ReplyWaiter {
  private readonly waiters = new Map<string, Set<(o: Outcome) => void>>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly journal: Journal,
  ) {}

  /** Tells the requests waiting on this instance how a local run of `id` ended. */
  settle(id: string, outcome: Outcome): void {
    for (const notify of this.waiters.get(id) ?? []) notify(outcome);
    this.waiters.delete(id);
  }

  /** Announces to every instance that `id` ended (a core publish: no JetStream write). */
  announce(fn: string, id: string, status: string): void {
    this.nc.publish(endedSubject(fn, id), status);
  }

  /** Waits for `outcome` until just before the request's deadline; after that (or while it waits) replies 202. */
  async reply(fn: string, id: string, outcome: Promise<Outcome>, deadline: number): Promise<unknown> {
    const budget = deadline - Date.now() - Math.min(50, Math.max(5, (deadline - Date.now()) / 10));
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const late = new Promise<Outcome>((resolve) => {
      timer = setTimeout(
        () => {
          timedOut = true;
          resolve({ status: "running" });
        },
        Math.max(0, budget),
      );
    });
    let remote: { ended: Promise<Outcome>; close(): void } | undefined;
    let forget: (() => void) | undefined;
    try {
      let o = await Promise.race([outcome, late]);
      if (!timedOut && (o.status === "waiting" || o.status === "running")) {
        // Resumed here (a local wake timer) or ended by another instance, it may still end within the deadline.
        remote = this.endedElsewhere(fn, id);
        const local = new Promise<Outcome>((resolve) => (forget = this.waitFor(id, resolve)));
        const after = await Promise.race([local, remote.ended, late]);
        const ended = after.status === "done" || after.status === "failed" || after.status === "cancelled";
        o = ended ? after : { status: (await this.currentStatus(fn, id)) ?? o.status };
      }
      if (o.status === "done") return o.result;
      if (o.status === "failed" || o.status === "cancelled")
        throw o.error.code === 500 ? new FunctionError(500, "internal error", undefined, { cause: o.error }) : o.error;
      throw accepted(fn, id, o.status);
    } finally {
      clearTimeout(timer);
      remote?.close();
      forget?.();
    }
  }

  // The status an open invocation has now, for the 202 reply.
  private async currentStatus(fn: string, id: string): Promise<"running" | "waiting" | undefined> {
    return (await this.journal.getOpen(fn, id).catch(() => undefined))?.value.status;
  }

  /** Resolves with the outcome when any instance announces that `id` ended (core NATS, no JetStream write). */
  private endedElsewhere(fn: string, id: string): { ended: Promise<Outcome>; close(): void } {
    const sub = this.nc.subscribe(endedSubject(fn, id), { max: 1 });
    const ended = (async (): Promise<Outcome> => {
      // Subscribed first, then read: an end between the two is seen either way.
      const already = await this.journal.getFinal(fn, id);
      if (!already) for await (const _ of sub) break;
      const final = already ?? (await this.journal.getFinal(fn, id));
      if (!final) return { status: "running" };
      if (final.status === "done") return { status: "done", result: final.result };
      return { status: final.status, error: replayError(final.error ?? { code: 500, type: "INTERNAL", message: "invocation failed" }) };
    })();
    return { ended, close: () => sub.unsubscribe() };
  }

  /** Registers `notify` for the outcome of a local run of `id`; returns its removal. */
  private waitFor(id: string, notify: (o: Outcome) => void): () => void {
    let set = this.waiters.get(id);
    if (!set) this.waiters.set(id, (set = new Set()));
    set.add(notify);
    return () => {
      set.delete(notify);
      if (set.size === 0 && this.waiters.get(id) === set) this.waiters.delete(id);
    };
  }
}

/** Where instances announce that an invocation ended, so a caller waiting on another instance gets its reply. */
export function endedSubject(fn: string, id: string): string {
  return `nfn.runs.ended.${fn}.${kvKey(id)}`;
}

/** The 202 reply: the invocation goes on; `details` carry its id and status. */
export function accepted(fn: string, id: string, status: "running" | "waiting"): FunctionError {
  return new FunctionError(202, `${fn} accepted the invocation; it is still ${status} (nfn runs show <invocationId>)`, [
    { invocationId: id, status },
  ]);
}
