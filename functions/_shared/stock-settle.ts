/** Finishing a reservation: release (compensation, expiry) and commit (a sale). Idempotent and safe to run concurrently. */
import { FunctionError } from "../../runtime/index.ts";
import { settleHold } from "./inventory-store.ts";
import { MAX_CAS_ATTEMPTS, backoff, type Versioned } from "./stock-kv.ts";
import { type StockStore, createReservation, markClosed, readReservation, updateReservation } from "./stock-store.ts";
import type { ReleaseReason, Reservation } from "./stock-types.ts";

/** Removes (or, for a sale, sells) every hold of the reservation; each sku change is keyed by orderId, so repeating it is harmless. */
export async function settleLines(store: StockStore, reservation: Reservation, sell: boolean): Promise<void> {
  await Promise.all(reservation.items.map((line) => settleHold(store.inventory, line.sku, reservation.orderId, sell)));
}

/**
 * Ends a reservation: one compare-and-set to `committed` or `released` decides it, then the holds are
 * sold or returned. A crash after the decision leaves holds of a finished order, which the sweeper
 * settles the same way (a hold is keyed by orderId, so doing it twice is harmless). Only the writer
 * that wins the decision emits the event. Undefined when someone else changed the record first.
 */
export async function closeAs(
  store: StockStore,
  current: Versioned<Reservation>,
  status: "committed" | "released",
  reason?: ReleaseReason,
): Promise<Reservation | undefined> {
  const done = await updateReservation(
    store,
    current,
    status === "released" ? { status, reason: reason ?? current.value.reason ?? "requested" } : { status },
  );
  if (!done) return undefined;
  // The decision is recorded: the holds, the open mark and the event no longer depend on each other.
  await Promise.all([
    settleLines(store, done.value, status === "committed"),
    markClosed(store, done.value.orderId),
    emitFinal(store, done.value),
  ]);
  return done.value;
}

/** Finishes a reservation left `releasing` or `committing` (states written by earlier versions, or a crash). */
export async function finish(store: StockStore, start: Versioned<Reservation>): Promise<Reservation> {
  let current = start;
  for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
    const { status } = current.value;
    if (status !== "releasing" && status !== "committing") return current.value;
    const done = await closeAs(store, current, status === "committing" ? "committed" : "released");
    if (done) return done;
    await backoff(attempt);
    const reread = await readReservation(store, start.value.orderId);
    if (!reread) throw new Error(`reservation ${start.value.orderId} disappeared while it was being finished`);
    current = reread;
  }
  throw new Error(`reservation ${start.value.orderId}: gave up after ${MAX_CAS_ATTEMPTS} conflicting writes`);
}

async function emitFinal(store: StockStore, r: Reservation): Promise<void> {
  const items = r.items.map(({ sku, quantity }) => ({ sku, quantity }));
  if (r.status === "committed") await store.ctx.emit("stock.committed", r.orderId, { orderId: r.orderId, items });
  // A rejected reservation never held stock as far as anyone else could see: no event.
  if (r.status === "released")
    await store.ctx.emit("stock.released", r.orderId, { orderId: r.orderId, items, reason: r.reason ?? "requested" });
}

/**
 * Releases the stock of `orderId`. Idempotent; before any reserve it leaves a tombstone so that a
 * later reserve for the order fails; 409 when the stock was already sold.
 */
export async function releaseReservation(store: StockStore, orderId: string, reason: ReleaseReason): Promise<Reservation> {
  for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
    const current = await readReservation(store, orderId);
    if (!current) {
      const now = new Date().toISOString();
      const tombstone: Reservation = {
        orderId,
        status: "released",
        reason: "released_before_reserve",
        items: [],
        expiresAt: now,
        createdAt: now,
        updatedAt: now,
      };
      if (await createReservation(store, tombstone)) return tombstone;
    } else {
      const { status } = current.value;
      if (status === "released" || status === "rejected") return current.value;
      if (status === "committing" || status === "committed") {
        throw new FunctionError(409, `the stock of order ${orderId} is already sold (committed); a sale cannot be released`);
      }
      if (status === "releasing") return finish(store, current);
      const done = await closeAs(store, current, "released", reason);
      if (done) return done;
    }
    await backoff(attempt);
  }
  throw new Error(`reservation ${orderId}: gave up after ${MAX_CAS_ATTEMPTS} conflicting writes`);
}

/** Turns the reservation of `orderId` into a sale. Idempotent; 404 without a reservation; 409 when it was released or refused. */
export async function commitReservation(
  store: StockStore,
  orderId: string,
  waitForPending: (orderId: string) => Promise<Versioned<Reservation>>,
): Promise<Reservation> {
  for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
    let current = await readReservation(store, orderId);
    if (!current) throw new FunctionError(404, `order ${orderId} has no reservation: call reserve_stock first`);
    if (current.value.status === "pending") current = await waitForPending(orderId);
    const r = current.value;
    switch (r.status) {
      case "committed":
        return r;
      case "committing":
        return finish(store, current);
      case "rejected":
        throw new FunctionError(
          409,
          `the reservation of order ${orderId} was refused for lack of stock; there is nothing to commit`,
          r.short,
        );
      case "releasing":
      case "released":
        throw new FunctionError(
          409,
          `the reservation of order ${orderId} was released (${r.reason ?? "requested"}); reserve again with a new orderId`,
        );
      default: {
        const done = await closeAs(store, current, "committed");
        if (done) return done;
      }
    }
    await backoff(attempt);
  }
  throw new Error(`reservation ${orderId}: gave up after ${MAX_CAS_ATTEMPTS} conflicting writes`);
}
