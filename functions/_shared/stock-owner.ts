/**
 * The owner's part of a reservation. Whoever last wrote a reservation's state (and its lease) alone
 * applies it to the skus: holds for `pending`, sales for `committed`, returns for `released` and
 * `rejected`; then it records the reservation settled and forgets its marks on the skus. When an
 * owner dies, anyone may take the work over once its lease is over; every sku change is keyed by
 * the order's mark, so doing a change again is harmless, and a change after the lease is refused.
 *
 * Protocol of one reservation (multi-sku, all or nothing):
 *   1. the record is created `pending` (with a lease) and put on the due stream;
 *   2. each sku is held (a mark `h` and `reserved` up), one keyed update each, in parallel;
 *   3. the record becomes `reserved` (all held) or `rejected` (a line short or unknown);
 *   4. a rejected one gives back the held lines, then is marked `settled`;
 *   5. the marks are forgotten.
 * A crash anywhere leaves a record that says what to finish, and marks that say what each sku did.
 */
import { FunctionError } from "../../runtime/index.ts";
import { type LineOp, type LineResult, availableOf, changeLine } from "./inventory-store.ts";
import { stableUuid } from "./saga-ids.ts";
import { type StockStore, leaseOver, unsettled } from "./stock-store.ts";
import type { Reservation, ReservedLine, ShortLine, StockRecord } from "./stock-types.ts";

/** A new lease for this writer: until its own deadline (work after it would be answered 504 anyway), at most NFN_RESERVATION_LEASE_MS. */
export function newLease(store: StockStore): Pick<Reservation, "owner" | "leaseUntil" | "updatedAt"> {
  return { owner: store.me, leaseUntil: leaseEnd(store), updatedAt: new Date().toISOString() };
}

/** When a lease taken now ends. */
export function leaseEnd(store: StockStore): number {
  const now = Date.now();
  return Math.max(now + 1000, Math.min(store.ctx.deadline, now + store.settings.leaseMs));
}

/** The answer when a writer finds it no longer owns the work it was doing (someone took it over). */
export function lostLease(orderId: string): FunctionError {
  return new FunctionError(503, `the reservation of order ${orderId} is being finished by another request; retry shortly`);
}

/** Takes the work of an unsettled reservation over from an owner whose lease is over; undefined when it is not ours to take. */
export function takeOver(store: StockStore, orderId: string): Promise<Reservation | undefined> {
  return store.reservations.update<Reservation | undefined>(orderId, (cur) => {
    if (!cur || !unsettled(cur) || !leaseOver(store, cur)) return { result: undefined };
    const next: Reservation = { ...cur, ...newLease(store) };
    return { write: next, result: next };
  });
}

/** Writes `make(current)` if this writer still owns the reservation; undefined when it does not. */
function asOwner(store: StockStore, orderId: string, make: (cur: Reservation) => Reservation): Promise<Reservation | undefined> {
  return store.reservations.update<Reservation | undefined>(orderId, (cur) => {
    if (!cur || cur.owner !== store.me || !unsettled(cur)) return { result: undefined };
    const next = make(cur);
    return { write: next, result: next };
  });
}

/** Does the owned reservation's remaining work; the reservation as it ends up. */
export async function work(store: StockStore, r: Reservation): Promise<Reservation> {
  if (r.status === "pending") return r.releaseRequested ? releaseInstead(store, r) : placeHolds(store, r);
  if (r.status === "reserved") return r;
  const sell = r.status === "committed" || r.status === "committing";
  await applyLines(store, r, sell ? "sell" : "free");
  const status = r.status === "committing" ? "committed" : r.status === "releasing" ? "released" : r.status;
  // The skus are settled: the event is true whoever records it (its id is stable), so it goes out with the record.
  const [done] = await Promise.all([
    asOwner(store, r.orderId, (cur) => ({ ...cur, status, settled: true, updatedAt: new Date().toISOString() })),
    emitFinal(store, { ...r, status }),
  ]);
  if (!done) throw lostLease(r.orderId);
  // The record says it all now; the marks are only forgotten, and nobody waits for that (the
  // sweeper forgets any a crash leaves).
  applyLines(store, done, "unmark").catch((err: unknown) => store.ctx.log.warn("forgetting marks failed", { error: err }));
  return done;
}

async function releaseInstead(store: StockStore, r: Reservation): Promise<Reservation> {
  const released = await asOwner(store, r.orderId, (cur) => ({
    ...cur,
    status: "released",
    reason: cur.releaseRequested ?? "requested",
    held: false,
    settled: false,
    ...newLease(store),
  }));
  if (!released) throw lostLease(r.orderId);
  return work(store, released);
}

// Steps 2 and 3 of the protocol: hold every line, then decide.
async function placeHolds(store: StockStore, r: Reservation): Promise<Reservation> {
  const results = await applyLines(store, r, "hold");
  const unknown = r.items.filter((_, i) => results[i]?.kind === "missing").map((l) => l.sku);
  const short: ShortLine[] = [];
  const priced: ReservedLine[] = r.items.map((line, i) => {
    const res = results[i];
    if (res?.kind === "short") short.push({ sku: line.sku, requested: line.quantity, available: res.available });
    return res?.kind === "done" ? { ...line, priceCents: res.after.priceCents, currency: res.after.currency } : line;
  });
  const ok = unknown.length === 0 && short.length === 0;
  const decided = await asOwner(store, r.orderId, (cur) => {
    if (cur.status !== "pending") return cur;
    const at = new Date().toISOString();
    if (cur.releaseRequested)
      return { ...cur, status: "released", reason: cur.releaseRequested, held: false, settled: false, updatedAt: at };
    if (ok) return { ...cur, status: "reserved", items: priced, held: true, updatedAt: at };
    return {
      ...cur,
      status: "rejected",
      held: false,
      settled: false,
      updatedAt: at,
      ...(unknown.length > 0 ? { unknown } : { short }),
    };
  });
  if (!decided) throw lostLease(r.orderId);
  if (decided.status !== "reserved") return work(store, decided);
  // The record says `reserved` (every line held) now: the marks are only forgotten, and the reply does
  // not wait for that (a mark left behind is harmless to commit and release, and the sweeper forgets it).
  applyLines(store, decided, "unmark").catch((err: unknown) => store.ctx.log.warn("forgetting marks failed", { error: err }));
  await emitReserved(store, decided, results);
  return decided;
}

/** Applies one change to every line of `r`; a change refused because the lease ended means the work is no longer ours. */
async function applyLines(store: StockStore, r: Reservation, op: LineOp): Promise<LineResult[]> {
  const leaseUntil = r.leaseUntil ?? 0;
  const results = await Promise.all(
    r.items.map((line) =>
      changeLine(store.skus, line.sku, { orderId: r.orderId, op, quantity: line.quantity, leaseUntil, wasHeld: r.held === true }),
    ),
  );
  if (results.some((x) => x.kind === "expired")) throw lostLease(r.orderId);
  return results;
}

async function emitReserved(store: StockStore, r: Reservation, results: LineResult[]): Promise<void> {
  const { lowStockThreshold } = store.settings;
  const crossings: StockRecord[] = [];
  for (const res of results) {
    if (res.kind !== "done" || res.before === res.after) continue;
    if (availableOf(res.before) > lowStockThreshold && availableOf(res.after) <= lowStockThreshold) crossings.push(res.after);
  }
  await Promise.all([
    store.ctx.emit(
      "stock.reserved",
      r.orderId,
      { orderId: r.orderId, items: r.items.map(({ sku, quantity }) => ({ sku, quantity })), expiresAt: r.expiresAt },
      { eventId: stableUuid("stock.reserved", r.orderId) },
    ),
    ...crossings.map((rec) =>
      store.ctx.emit("inventory.low_stock", rec.sku, {
        sku: rec.sku,
        available: availableOf(rec),
        onHand: rec.onHand,
        reserved: rec.reserved,
        threshold: lowStockThreshold,
      }),
    ),
  ]);
}

async function emitFinal(store: StockStore, r: Reservation): Promise<void> {
  const items = r.items.map(({ sku, quantity }) => ({ sku, quantity }));
  if (r.status === "committed") {
    await store.ctx.emit(
      "stock.committed",
      r.orderId,
      { orderId: r.orderId, items },
      { eventId: stableUuid("stock.committed", r.orderId) },
    );
  }
  // A rejected reservation never held stock as far as anyone else could see: no event.
  if (r.status === "released") {
    await store.ctx.emit(
      "stock.released",
      r.orderId,
      { orderId: r.orderId, items, reason: r.reason ?? "requested" },
      { eventId: stableUuid("stock.released", r.orderId) },
    );
  }
}
