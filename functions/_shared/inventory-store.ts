/** The `inventory` bucket: one record per sku, changed only by compare-and-set, holds keyed by orderId. */
import type { KV } from "@nats-io/kv";
import { FunctionError, type Context } from "../../runtime/index.ts";
import { MAX_CAS_ATTEMPTS, backoff, readJson, writeIfUnchanged, type Versioned } from "./stock-kv.ts";
import { DEFAULT_CURRENCY, INVENTORY_BUCKET, type Hold, type StockRecord } from "./stock-types.ts";

/** The inventory bucket, created on first use. */
export function inventoryKv(ctx: Pick<Context, "kv">): Promise<KV> {
  return ctx.kv(INVENTORY_BUCKET);
}

/** onHand − reserved: what can still be reserved. */
export function availableOf(rec: Pick<StockRecord, "onHand" | "reserved">): number {
  return rec.onHand - rec.reserved;
}

/** Reads one sku. */
export function readStock(kv: KV, sku: string): Promise<Versioned<StockRecord> | undefined> {
  return readJson<StockRecord>(kv, sku);
}

/** The result of one change to a sku: the record before and after, or why nothing changed. */
export type SkuChange<R> =
  { kind: "missing" } | { kind: "unchanged"; record: StockRecord; why: R } | { kind: "changed"; before: StockRecord; after: StockRecord };

/**
 * Read-decide-write on one sku until the write wins. `decide` returns the new record, or a reason
 * to leave it as it is. Any number of instances may run this on the same sku at once.
 */
export async function changeSku<R>(
  kv: KV,
  sku: string,
  decide: (rec: StockRecord) => StockRecord | { keep: R },
  known?: Versioned<StockRecord>,
): Promise<SkuChange<R>> {
  for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
    // A record the caller just read saves a round trip; if it is stale, the write fails and we re-read.
    const current = attempt === 0 && known ? known : await readStock(kv, sku);
    if (!current) return { kind: "missing" };
    const next = decide(current.value);
    if ("keep" in next) {
      // Never refuse on a record the caller read earlier: confirm on a fresh read first.
      if (attempt === 0 && known) continue;
      return { kind: "unchanged", record: current.value, why: next.keep };
    }
    const written = await writeIfUnchanged(kv, sku, withTotals(next), current.revision);
    if (written !== undefined) return { kind: "changed", before: current.value, after: withTotals(next) };
    await backoff(attempt);
  }
  throw new Error(`sku ${sku}: gave up after ${MAX_CAS_ATTEMPTS} conflicting writes`);
}

// `reserved` is recomputed from the holds on every write, so the two can never disagree.
function withTotals(rec: StockRecord): StockRecord {
  const reserved = Object.values(rec.holds).reduce((sum, h) => sum + h.quantity, 0);
  return { ...rec, reserved, updatedAt: new Date().toISOString() };
}

/** Places the hold of `orderId` on `sku` unless it is there already; refuses when available is short. */
export function placeHold(
  kv: KV,
  sku: string,
  orderId: string,
  quantity: number,
  known?: Versioned<StockRecord>,
): Promise<SkuChange<"held" | "short">> {
  return changeSku<"held" | "short">(
    kv,
    sku,
    (rec) => {
      if (rec.holds[orderId]) return { keep: "held" };
      if (availableOf(rec) < quantity) return { keep: "short" };
      return { ...rec, holds: { ...rec.holds, [orderId]: { quantity, at: Date.now() } } };
    },
    known,
  );
}

/** Removes the hold of `orderId` from `sku`; `sell` also takes the units out of onHand (a sale). */
export function settleHold(kv: KV, sku: string, orderId: string, sell: boolean): Promise<SkuChange<"absent">> {
  return changeSku<"absent">(kv, sku, (rec) => {
    const hold: Hold | undefined = rec.holds[orderId];
    if (!hold) return { keep: "absent" };
    const { [orderId]: _settled, ...holds } = rec.holds;
    return sell ? { ...rec, holds, onHand: rec.onHand - hold.quantity, sold: rec.sold + hold.quantity } : { ...rec, holds };
  });
}

/** What put_product writes. */
export interface ProductInput {
  sku: string;
  name: string;
  priceCents: number;
  onHand: number;
  currency?: string;
}

/** Creates or updates a product; keeps its holds; 409 when onHand would fall below what is reserved. */
export async function upsertProduct(kv: KV, input: ProductInput): Promise<StockRecord> {
  for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
    const current = await readStock(kv, input.sku);
    const base: StockRecord = current?.value ?? {
      sku: input.sku,
      name: "",
      priceCents: 0,
      currency: DEFAULT_CURRENCY,
      onHand: 0,
      reserved: 0,
      sold: 0,
      holds: {},
      updatedAt: "",
    };
    if (input.onHand < base.reserved) {
      throw new FunctionError(
        409,
        `sku ${input.sku} has ${base.reserved} units reserved; onHand cannot go below that (asked ${input.onHand})`,
        [{ sku: input.sku, requested: input.onHand, reserved: base.reserved }],
      );
    }
    const next = withTotals({
      ...base,
      name: input.name,
      priceCents: input.priceCents,
      currency: input.currency ?? base.currency,
      onHand: input.onHand,
    });
    if ((await writeIfUnchanged(kv, input.sku, next, current?.revision)) !== undefined) return next;
    await backoff(attempt);
  }
  throw new Error(`sku ${input.sku}: gave up after ${MAX_CAS_ATTEMPTS} conflicting writes`);
}
