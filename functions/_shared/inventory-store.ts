/**
 * The `inventory` bucket: one keyed record per sku with its totals. Each change for an order is one
 * keyed update, idempotent through the order's mark (StockMark), and refused once the writer's lease
 * is over, so a stalled writer can never apply a change after someone else took its work over.
 */
import { FunctionError, type Context, type Keyed, type KeyedChange, type View } from "../../runtime/index.ts";
import { fromLegacySku, isLegacySku } from "./stock-legacy.ts";
import { DEFAULT_CURRENCY, INVENTORY_BUCKET, type StockMark, type StockRecord, stockBuckets, stockSettings } from "./stock-types.ts";

/** The sku records, bounded in size, in a bucket created with the configured limits. */
export function inventoryStore(ctx: Pick<Context, "keyed">): Keyed<StockRecord> {
  return ctx.keyed<StockRecord>(INVENTORY_BUCKET, {
    maxBytes: stockSettings().skuRecordMaxBytes,
    bucket: stockBuckets().inventory,
  });
}

/**
 * The sku records as a local view: current to within the view's lag (STATS `data.views`), for reads
 * that only show or price stock. Reserving never reads it: the keyed update checks the latest record.
 */
export function inventoryView(ctx: Pick<Context, "view">): View<StockRecord> {
  return ctx.view<StockRecord>(INVENTORY_BUCKET, { bucket: stockBuckets().inventory });
}

/** onHand − reserved: what can still be reserved. */
export function availableOf(rec: Pick<StockRecord, "onHand" | "reserved">): number {
  return rec.onHand - rec.reserved;
}

/** A change one order makes to one sku. `unmark` forgets the order's mark once its reservation records the change. */
export type LineOp = "hold" | "sell" | "free" | "unmark";

/** What a line change found. */
export type LineResult =
  | { kind: "missing" }
  | { kind: "short"; available: number }
  | { kind: "expired" }
  | { kind: "done"; before: StockRecord; after: StockRecord };

/** The parameters of one line change. */
export interface LineChange {
  orderId: string;
  op: LineOp;
  quantity: number;
  /** The writer's lease (epoch ms); a hold, sell or free after it is refused. */
  leaseUntil: number;
  /** For `free`: every line was held, so a line without a mark still holds its units. */
  wasHeld?: boolean;
}

/** The keyed update for one line change (pure: it may be applied again after a lost race). */
export function lineUpdate(change: LineChange): (cur: StockRecord | undefined) => KeyedChange<StockRecord, LineResult> {
  const apply = applyLine(change);
  return (stored) => {
    if (!stored) return { result: { kind: "missing" } };
    const cur = fromLegacySku(stored);
    const out = apply(cur);
    // A record in the previous model's shape is written in the new one on first touch, whatever the change found.
    return cur !== stored && !("write" in out) ? { write: cur, result: out.result } : out;
  };
}

/** Writes a sku record of the previous model's shape in the current one; false when there was nothing to migrate. */
export function migrateSku(skus: Keyed<StockRecord>, sku: string): Promise<boolean> {
  return skus.update(sku, (cur) => (cur && isLegacySku(cur) ? { write: fromLegacySku(cur), result: true } : { result: false }));
}

function applyLine(change: LineChange): (cur: StockRecord) => KeyedChange<StockRecord, LineResult> {
  return (cur) => {
    const marks = cur.marks ?? [];
    const i = marks.findIndex((m) => m.o === change.orderId);
    const mark = i >= 0 ? marks[i] : undefined;
    const done = (after: StockRecord) => ({ write: after, result: { kind: "done" as const, before: cur, after } });
    const same = { result: { kind: "done" as const, before: cur, after: cur } };
    if (change.op === "unmark") return mark ? done(withMarks(cur, without(marks, i))) : same;
    if (Date.now() > change.leaseUntil) return { result: { kind: "expired" } };
    const q = change.quantity;
    const marked = (p: StockMark["p"], quantity = q) => [...without(marks, i), { o: change.orderId, p, q: quantity, at: Date.now() }];
    switch (change.op) {
      case "hold":
        // A mark other than our hold means someone else settled this order here: we no longer own it.
        if (mark) return mark.p === "h" ? same : { result: { kind: "expired" } };
        if (availableOf(cur) < q) return { result: { kind: "short", available: Math.max(0, availableOf(cur)) } };
        return done({ ...withMarks(cur, marked("h")), reserved: cur.reserved + q });
      case "sell":
        if (mark?.p === "s") return same;
        if (mark?.p === "f") throw new Error(`order ${change.orderId} was freed on sku ${cur.sku}; it cannot be sold`);
        // Without a mark and never fully held, nothing is held here to sell: a record from the previous
        // model whose sale of this line was already applied (the hold was gone).
        if (!mark && !change.wasHeld) return same;
        if (cur.reserved < q) throw new Error(`sku ${cur.sku} holds ${cur.reserved} units, fewer than the ${q} to sell`);
        return done({ ...withMarks(cur, marked("s")), reserved: cur.reserved - q, onHand: cur.onHand - q, sold: cur.sold + q });
      case "free":
        if (mark?.p === "f") return same;
        if (mark?.p === "s") throw new Error(`order ${change.orderId} was sold on sku ${cur.sku}; it cannot be freed`);
        // Without a mark and never fully held, nothing is held here: the `f` mark only fences off a late hold.
        if (!mark && !change.wasHeld) return done(withMarks(cur, marked("f", 0)));
        return done({ ...withMarks(cur, marked("f")), reserved: Math.max(0, cur.reserved - q) });
    }
  };
}

function without(marks: StockMark[], i: number): StockMark[] {
  return i < 0 ? marks : [...marks.slice(0, i), ...marks.slice(i + 1)];
}

function withMarks(rec: StockRecord, marks: StockMark[]): StockRecord {
  return { ...rec, marks, updatedAt: new Date().toISOString() };
}

/** Applies one line change to `sku`. */
export function changeLine(skus: Keyed<StockRecord>, sku: string, change: LineChange): Promise<LineResult> {
  return skus.update(sku, lineUpdate(change));
}

/** What put_product writes. */
export interface ProductInput {
  sku: string;
  name: string;
  priceCents: number;
  onHand: number;
  currency?: string;
}

/** Creates or updates a product; keeps its reserved units; 409 when onHand would fall below them. */
export function upsertProduct(skus: Keyed<StockRecord>, input: ProductInput): Promise<StockRecord> {
  return skus.update(input.sku, (stored) => {
    const cur = stored && fromLegacySku(stored);
    const base: StockRecord = cur ?? {
      sku: input.sku,
      name: "",
      priceCents: 0,
      currency: DEFAULT_CURRENCY,
      onHand: 0,
      reserved: 0,
      sold: 0,
      marks: [],
      updatedAt: "",
    };
    if (input.onHand < base.reserved) {
      throw new FunctionError(
        409,
        `sku ${input.sku} has ${base.reserved} units reserved; onHand cannot go below that (asked ${input.onHand})`,
        [{ sku: input.sku, requested: input.onHand, reserved: base.reserved }],
      );
    }
    const next: StockRecord = {
      ...base,
      marks: base.marks ?? [],
      name: input.name,
      priceCents: input.priceCents,
      currency: input.currency ?? base.currency,
      onHand: input.onHand,
      updatedAt: new Date().toISOString(),
    };
    return { write: next, result: next };
  });
}
