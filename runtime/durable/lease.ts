/**
 * The lease on one open invocation: compare-and-set on its open record, renewed by a heartbeat
 * while the run goes on. At most one instance holds it; a run that loses it stops at its next step.
 */
import type { Journal } from "./journal.ts";
import type { OpenRecord, StoredError, Wake } from "./records.ts";

/** Held by the run that owns an invocation. */
export class Lease {
  /** True once another instance took the invocation over (or it vanished). */
  lost = false;
  private timer: NodeJS.Timeout | undefined;
  private renewing: Promise<void> | undefined;

  constructor(
    private readonly journal: Journal,
    public record: OpenRecord,
    public revision: number,
    private readonly leaseMs: number,
  ) {}

  /** True when `nfn runs cancel` asked for this invocation to be cancelled. */
  get cancelRequested(): boolean {
    return this.record.cancel === true;
  }

  /** Renews every third of the lease until stopped. */
  startHeartbeat(): void {
    const every = Math.max(1, Math.floor(this.leaseMs / 3));
    this.timer = setInterval(() => {
      this.renewing ??= this.renew().finally(() => (this.renewing = undefined));
    }, every);
    this.timer.unref();
  }

  /** Stops the heartbeat and waits for a renewal in progress. */
  async stopHeartbeat(): Promise<void> {
    clearInterval(this.timer);
    await this.renewing;
  }

  /** Extends the lease by compare-and-set; a cancel written meanwhile by the CLI is adopted. */
  async renew(): Promise<void> {
    if (this.lost) return;
    for (let tries = 0; tries < 3; tries++) {
      const next: OpenRecord = { ...this.record, leaseUntil: Date.now() + this.leaseMs };
      const rev = await this.journal.updateOpen(next, this.revision).catch(() => undefined);
      if (rev !== undefined) {
        this.record = next;
        this.revision = rev;
        return;
      }
      const current = await this.journal.getOpen(this.record.fn, this.record.id).catch(() => undefined);
      if (!current || current.value.owner !== this.record.owner || current.value.status !== "running") {
        this.lost = true;
        return;
      }
      // Same owner, another writer (a cancel request): take its record and try again.
      this.record = current.value;
      this.revision = current.revision;
    }
  }

  /**
   * Gives the invocation up after a transient error: still running, no owner, resumable by any
   * instance from `until`. False when the lease was lost first (the new owner goes on).
   */
  async backOff(until: number, error: StoredError): Promise<boolean> {
    for (let tries = 0; tries < 3 && !this.lost; tries++) {
      const next: OpenRecord = { ...this.record, owner: undefined, leaseUntil: until, lastError: error };
      const rev = await this.journal.updateOpen(next, this.revision);
      if (rev !== undefined) {
        this.record = next;
        this.revision = rev;
        this.lost = true; // no longer ours: a later step of this run must not go on
        return true;
      }
      await this.renew();
    }
    return false;
  }

  /** Gives the invocation up until `wake`: waiting, no owner. False when the lease was lost first. */
  async suspend(wake: Wake): Promise<boolean> {
    for (let tries = 0; tries < 3 && !this.lost; tries++) {
      const next: OpenRecord = { ...this.record, status: "waiting", owner: undefined, leaseUntil: 0, wake };
      const rev = await this.journal.updateOpen(next, this.revision);
      if (rev !== undefined) {
        this.record = next;
        this.revision = rev;
        return true;
      }
      await this.renew(); // re-reads a concurrent cancel, or finds the lease gone
    }
    return false;
  }
}
