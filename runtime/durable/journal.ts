/**
 * The journal of durable invocations in one KV bucket (`durable_runs`), every operation O(1):
 * `open.<fn>.<id>` while an invocation runs or waits (the lease and the index recovery reads),
 * `inv.<fn>.<id>` once it ends, `step.<fn>.<id>.<n>` per step. Ids go through `kvKey`.
 */
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import type { NatsConnection } from "@nats-io/nats-core";
import type { StateAccess } from "../state.ts";
import { idFromKvKey, kvKey } from "../kv-key.ts";
import { type RetentionLimits, kvRetention } from "../retention.ts";
import { type FinalRecord, type OpenRecord, type StepRecord, parseRecord } from "./records.ts";

/** The bucket every durable function journals into. */
export const RUNS_BUCKET = "durable_runs";
/** Default limits of the journal bucket (NFN_DURABLE_RUNS_MAX_AGE, _MAX_BYTES override them). */
export const JOURNAL_RETENTION: RetentionLimits = { maxAgeMs: 7 * 86_400_000, maxBytes: 1024 ** 3, history: 1 };
/** Largest JSON of one step result, input or final result the journal accepts. */
export const MAX_RECORD_BYTES = 256 * 1024;

/** A record with the revision it was read at (for compare-and-set). */
export interface Versioned<T> {
  value: T;
  revision: number;
}

/** Journal access for one bucket. */
export class Journal {
  private constructor(
    readonly kv: KV,
    private readonly jsm: JetStreamManager,
  ) {}

  /** Opens (creating when needed, with its retention limits) the journal bucket. */
  static async open(nc: NatsConnection, state: StateAccess): Promise<Journal> {
    const [kv, jsm] = await Promise.all([
      state.kv(RUNS_BUCKET, kvRetention(RUNS_BUCKET, JOURNAL_RETENTION)),
      jetstreamManager(nc, { checkAPI: false }),
    ]);
    return new Journal(kv, jsm);
  }

  /** The open record of `id`, if any. */
  getOpen(fn: string, id: string): Promise<Versioned<OpenRecord> | undefined> {
    return this.read<OpenRecord>(openKey(fn, id));
  }

  /** The final record of `id`, if it ended. */
  async getFinal(fn: string, id: string): Promise<FinalRecord | undefined> {
    return (await this.read<FinalRecord>(finalKey(fn, id)))?.value;
  }

  /** Step `n` of `id`, if it was journaled. */
  async getStep(fn: string, id: string, n: number): Promise<StepRecord | undefined> {
    return (await this.read<StepRecord>(stepKey(fn, id, n)))?.value;
  }

  /** Creates the open record; its revision, or undefined when one exists already. */
  createOpen(record: OpenRecord): Promise<number | undefined> {
    return this.create(openKey(record.fn, record.id), record);
  }

  /** Compare-and-set of the open record; the new revision, or undefined when someone else wrote first. */
  async updateOpen(record: OpenRecord, revision: number): Promise<number | undefined> {
    const data = this.encode(record);
    try {
      return await this.kv.update(openKey(record.fn, record.id), data, revision);
    } catch (err) {
      if (isWrongSequence(err)) return undefined;
      throw err;
    }
  }

  /** Removes the open record for good (no delete marker, so the index holds only open invocations). */
  async deleteOpen(fn: string, id: string, revision: number): Promise<void> {
    await this.jsm.streams.deleteMessage(`KV_${RUNS_BUCKET}`, revision, false).catch((err: unknown) => {
      // Already removed (a retry of the same cleanup): nothing left to do.
      if (!isNotFound(err)) throw err;
    });
  }

  /** Writes the final record. */
  async putFinal(record: FinalRecord): Promise<void> {
    await this.kv.put(finalKey(record.fn, record.id), this.encode(record));
  }

  /** Removes a final record (retry starts the invocation again). */
  deleteFinal(fn: string, id: string): Promise<void> {
    return this.kv.delete(finalKey(fn, id));
  }

  /** Records step `n` once; when another run recorded it first, returns that record instead. */
  async createStep(fn: string, id: string, record: StepRecord): Promise<StepRecord> {
    const rev = await this.create(stepKey(fn, id, record.n), record);
    if (rev !== undefined) return record;
    const existing = await this.getStep(fn, id, record.n);
    if (!existing) throw new Error(`step ${record.n} of ${id} could be neither written nor read`);
    return existing;
  }

  /** Overwrites step `n` (a sleep or wait that ended). */
  async putStep(fn: string, id: string, record: StepRecord): Promise<void> {
    await this.kv.put(stepKey(fn, id, record.n), this.encode(record));
  }

  /** Removes step `n` (retry of a failed step). */
  deleteStep(fn: string, id: string, n: number): Promise<void> {
    return this.kv.delete(stepKey(fn, id, n));
  }

  /** Ids of the open invocations of `fn` (or of every function): as many as are open, never the history. */
  async openIds(fn?: string): Promise<{ fn: string; id: string }[]> {
    return this.listKeys(fn === undefined ? "open.>" : `open.${fn}.>`);
  }

  /** Ids of the ended invocations of `fn` (or every function) still within retention. */
  async finalIds(fn?: string): Promise<{ fn: string; id: string }[]> {
    return this.listKeys(fn === undefined ? "inv.>" : `inv.${fn}.>`);
  }

  /** Every function that has an invocation `id`, open or ended. */
  async functionsOf(id: string): Promise<string[]> {
    const found = await Promise.all([this.listKeys(`open.*.${kvKey(id)}`), this.listKeys(`inv.*.${kvKey(id)}`)]);
    return [...new Set(found.flat().map((k) => k.fn))];
  }

  private async listKeys(filter: string): Promise<{ fn: string; id: string }[]> {
    const out: { fn: string; id: string }[] = [];
    for await (const key of await this.kv.keys(filter)) {
      const [, fn, encoded] = key.split(".");
      if (fn && encoded) out.push({ fn, id: idFromKvKey(encoded) });
    }
    return out;
  }

  private async read<T extends { v: 1 }>(key: string): Promise<Versioned<T> | undefined> {
    const entry = await this.kv.get(key);
    if (!entry || entry.operation !== "PUT") return undefined;
    const value = parseRecord<T>(entry.string());
    return value && { value, revision: entry.revision };
  }

  private async create(key: string, record: object): Promise<number | undefined> {
    const data = this.encode(record);
    try {
      return await this.kv.create(key, data);
    } catch (err) {
      if (isWrongSequence(err)) return undefined;
      throw err;
    }
  }

  private encode(record: object): string {
    return JSON.stringify(record);
  }
}

function openKey(fn: string, id: string): string {
  return `open.${fn}.${kvKey(id)}`;
}
function finalKey(fn: string, id: string): string {
  return `inv.${fn}.${kvKey(id)}`;
}
function stepKey(fn: string, id: string, n: number): string {
  return `step.${fn}.${kvKey(id)}.${n}`;
}

// JetStream API error codes: 10071 wrong last sequence, 10037 no message found.
function apiCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}
function isWrongSequence(err: unknown): boolean {
  return apiCode(err) === 10071 || /wrong last sequence/i.test(String((err as Error)?.message));
}
function isNotFound(err: unknown): boolean {
  return apiCode(err) === 10037 || /no message found/i.test(String((err as Error)?.message));
}
