/**
 * reserve_stock's core: all or nothing across the lines, never oversold, idempotent by orderId.
 * Only the request that creates the `pending` record places holds; any repeat waits for its outcome.
 */
import { FunctionError } from "../../runtime/index.ts";
import { availableOf, placeHold, readStock } from "./inventory-store.ts";
import type { Versioned } from "./stock-kv.ts";
import { finish, settleLines } from "./stock-settle.ts";
import { type StockStore, createReservation, markOpen, readReservation, updateReservation } from "./stock-store.ts";
import type { Reservation, ReservedLine, ShortLine, StockLine, StockRecord } from "./stock-types.ts";

/** What reserve_stock asks for. */
export interface ReserveInput {
  orderId: string;
  items: StockLine[];
  ttlSeconds: number;
}

/** Adds up lines that name the same sku: a hold is per order and sku. */
export function mergeLines(items: StockLine[]): StockLine[] {
  const bySku = new Map<string, number>();
  for (const { sku, quantity } of items) bySku.set(sku, (bySku.get(sku) ?? 0) + quantity);
  return [...bySku].map(([sku, quantity]) => ({ sku, quantity }));
}

/** Reserves, or returns the reservation the order already has; 404 unknown sku, 409 short or already released. */
export async function reserveStock(store: StockStore, input: ReserveInput): Promise<Reservation> {
  const lines = mergeLines(input.items);
  // One round trip for the idempotency check and the skus: the common case is a new order.
  const [existing, ...records] = await Promise.all([
    readReservation(store, input.orderId),
    ...lines.map((l) => readStock(store.inventory, l.sku)),
  ]);
  if (existing) return answerFor(store, existing);
  const unknown = lines.filter((_, i) => !records[i]).map((l) => ({ sku: l.sku, message: "unknown sku" }));
  if (unknown.length > 0) throw new FunctionError(404, `unknown sku: ${unknown.map((u) => u.sku).join(", ")}`, unknown);

  const now = Date.now();
  const priced: ReservedLine[] = lines.map((l, i) => {
    const rec = records[i]?.value as StockRecord;
    return { ...l, priceCents: rec.priceCents, currency: rec.currency };
  });
  const pending: Reservation = {
    orderId: input.orderId,
    status: "pending",
    items: priced,
    expiresAt: new Date(now + input.ttlSeconds * 1000).toISOString(),
    createdAt: new Date(now).toISOString(),
    updatedAt: new Date(now).toISOString(),
  };
  // Both are written before any hold is placed, so whatever a crash leaves, the sweeper can find.
  const [, created] = await Promise.all([markOpen(store, input.orderId, pending.expiresAt), createReservation(store, pending)]);
  if (!created) {
    const winner = await readReservation(store, input.orderId);
    if (!winner) throw new Error(`reservation ${input.orderId} exists but cannot be read`);
    return answerFor(store, winner);
  }
  return placeAll(store, created, records as Versioned<StockRecord>[]);
}

// The creator's part: place every hold, then one compare-and-set decides reserved or rejected.
async function placeAll(store: StockStore, created: Versioned<Reservation>, records: Versioned<StockRecord>[]): Promise<Reservation> {
  const { orderId, items } = created.value;
  const changes = await Promise.all(items.map((line, i) => placeHold(store.inventory, line.sku, orderId, line.quantity, records[i])));
  const short: ShortLine[] = [];
  const crossings: StockRecord[] = [];
  changes.forEach((change, i) => {
    const line = items[i] as ReservedLine;
    if (change.kind === "changed") {
      const { lowStockThreshold } = store.settings;
      if (availableOf(change.before) > lowStockThreshold && availableOf(change.after) <= lowStockThreshold) crossings.push(change.after);
    } else if (change.kind !== "unchanged" || change.why === "short") {
      const available = change.kind === "unchanged" ? Math.max(0, availableOf(change.record)) : 0;
      short.push({ sku: line.sku, requested: line.quantity, available });
    }
  });
  const decided = await updateReservation(store, created, short.length === 0 ? { status: "reserved" } : { status: "rejected", short });
  if (!decided) {
    // Released (or swept) while we were placing holds: return ours and report that outcome.
    const now = await readReservation(store, orderId);
    if (!now) throw new Error(`reservation ${orderId} disappeared while it was being made`);
    if (now.value.status === "released") await settleLines(store, created.value, false);
    const final = now.value.status === "releasing" ? await finish(store, now) : now.value;
    return answerFor(store, { value: final, revision: now.revision });
  }
  if (decided.value.status === "rejected") {
    // All or nothing: give back the lines that were placed (a crash here is finished by the sweeper).
    await settleLines(store, decided.value, false);
    return answerFor(store, decided);
  }
  const events = [
    store.ctx.emit("stock.reserved", orderId, {
      orderId,
      items: items.map(({ sku, quantity }) => ({ sku, quantity })),
      expiresAt: decided.value.expiresAt,
    }),
    ...crossings.map((rec) =>
      store.ctx.emit("inventory.low_stock", rec.sku, {
        sku: rec.sku,
        available: availableOf(rec),
        onHand: rec.onHand,
        reserved: rec.reserved,
        threshold: store.settings.lowStockThreshold,
      }),
    ),
  ];
  await Promise.all(events);
  return decided.value;
}

/** The reply for a reservation that exists: itself, or the error its state means. */
async function answerFor(store: StockStore, current: Versioned<Reservation>): Promise<Reservation> {
  const r = current.value.status === "pending" ? (await waitWhilePending(store, current.value.orderId)).value : current.value;
  switch (r.status) {
    case "reserved":
    case "committing":
    case "committed":
      return r;
    case "rejected":
      throw new FunctionError(409, `not enough stock for order ${r.orderId}`, r.short);
    default:
      if (r.reason === "released_before_reserve") {
        throw new FunctionError(409, `order ${r.orderId} was released before it was reserved; reserve with a new orderId`);
      }
      throw new FunctionError(
        409,
        `the reservation of order ${r.orderId} was released (${r.reason ?? "requested"}); reserve with a new orderId`,
        r.short,
      );
  }
}

/** Waits (polling KV) while another request is still making the reservation; 409 if it is not done in time. */
export async function waitWhilePending(store: StockStore, orderId: string): Promise<Versioned<Reservation>> {
  for (;;) {
    const current = await readReservation(store, orderId);
    if (!current) throw new FunctionError(404, `order ${orderId} has no reservation`);
    if (current.value.status !== "pending") return current;
    if (store.ctx.remainingMs() < 100 || store.ctx.signal.aborted) {
      throw new FunctionError(409, `the reservation of order ${orderId} is still being made by another request; retry shortly`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
