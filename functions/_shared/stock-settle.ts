/** Finishing a reservation: commit (a sale), release (compensation), expiry and abandonment. Idempotent and safe to run concurrently. */
import { FunctionError } from "../../runtime/index.ts";
import { newLease, takeOver, work } from "./stock-owner.ts";
import { outcome, pause } from "./stock-reserve.ts";
import { type StockStore, leaseOver, unsettled } from "./stock-store.ts";
import type { ReleaseReason, Reservation } from "./stock-types.ts";

/** Turns the reservation of `orderId` into a sale. Idempotent; 404 without a reservation; 409 when it was released or refused. */
export async function commitReservation(store: StockStore, orderId: string): Promise<Reservation> {
  for (;;) {
    // Decided in one keyed update when the reservation is there to commit (the common case: no read first).
    const step = await store.reservations.update<{ r: Reservation | undefined; mine: boolean }>(orderId, (cur) => {
      if (cur?.status !== "reserved") return { result: { r: cur, mine: false } };
      const next: Reservation = { ...cur, status: "committed", held: true, settled: false, ...newLease(store) };
      return { write: next, result: { r: next, mine: true } };
    });
    let r = step.r;
    if (!r) throw new FunctionError(404, `order ${orderId} has no reservation: call reserve_stock first`);
    if (step.mine) return work(store, r);
    if (r.status === "pending") r = await outcome(store, r);
    switch (r.status) {
      case "reserved":
        continue;
      case "committing":
      case "committed":
        if (!unsettled(r)) return r;
        await finishOrWait(store, r);
        continue;
      case "rejected":
        throw new FunctionError(409, `the reservation of order ${orderId} was refused for lack of stock; there is nothing to commit`);
      default:
        throw new FunctionError(
          409,
          `the reservation of order ${orderId} was released (${r.reason ?? "requested"}); reserve again with a new orderId`,
        );
    }
  }
}

/**
 * Releases the stock of `orderId`. Idempotent; before any reserve it leaves a tombstone so that a
 * later reserve for the order fails; while the reservation is being made it asks its maker to
 * release it instead; 409 when the stock was already sold.
 */
export async function releaseReservation(store: StockStore, orderId: string, reason: ReleaseReason): Promise<Reservation> {
  const now = new Date().toISOString();
  const tombstone: Reservation = {
    orderId,
    status: "released",
    reason: "released_before_reserve",
    items: [],
    expiresAt: now,
    createdAt: now,
    updatedAt: now,
    settled: true,
  };
  const step = await store.reservations.update<{ r: Reservation; mine: boolean }>(orderId, (cur) => {
    if (!cur) return { write: tombstone, result: { r: tombstone, mine: false } };
    if (cur.status === "pending" && !cur.releaseRequested) {
      const next: Reservation = { ...cur, releaseRequested: reason, updatedAt: new Date().toISOString() };
      return { write: next, result: { r: next, mine: false } };
    }
    if (cur.status === "reserved") {
      const next: Reservation = { ...cur, status: "released", reason, held: true, settled: false, ...newLease(store) };
      return { write: next, result: { r: next, mine: true } };
    }
    return { result: { r: cur, mine: false } };
  });
  if (step.mine) return work(store, step.r);
  if (step.r.status === "committed" || step.r.status === "committing") {
    throw new FunctionError(409, `the stock of order ${orderId} was already sold (committed); it cannot be released`);
  }
  return step.r;
}

/** Releases a reservation whose time is up (the sweeper); undefined when it is not due or not reserved. */
export async function expireReservation(store: StockStore, orderId: string, now = Date.now()): Promise<Reservation | undefined> {
  const mine = await decide(store, orderId, (cur) =>
    cur.status === "reserved" && now >= Date.parse(cur.expiresAt) ? { status: "released", reason: "expired" } : undefined,
  );
  return mine && work(store, mine);
}

/** Releases a reservation whose maker died while making it (the sweeper); undefined when it is not abandoned. */
export async function abandonReservation(store: StockStore, orderId: string, now = Date.now()): Promise<Reservation | undefined> {
  const mine = await decide(store, orderId, (cur) =>
    cur.status === "pending" && leaseOver(store, cur, now) && now - Date.parse(cur.updatedAt) > store.settings.staleMs
      ? { status: "released", reason: "abandoned", held: false }
      : undefined,
  );
  return mine && work(store, mine);
}

/** Finishes an unsettled reservation whose owner's lease is over, or waits a moment for its owner. */
export async function finishOrWait(store: StockStore, r: Reservation): Promise<void> {
  if (leaseOver(store, r)) {
    const mine = await takeOver(store, r.orderId);
    if (mine) await work(store, mine);
    return;
  }
  await pause(store, `the reservation of order ${r.orderId} is being settled by another request; retry shortly`);
}

// Moves a reservation to a new state this writer then owns; undefined when `change` says no (or it is gone).
function decide(
  store: StockStore,
  orderId: string,
  change: (cur: Reservation) => Partial<Reservation> | undefined,
): Promise<Reservation | undefined> {
  return store.reservations.update<Reservation | undefined>(orderId, (cur) => {
    const patch = cur && change(cur);
    if (!cur || !patch) return { result: undefined };
    const next: Reservation = {
      ...cur,
      held: cur.status === "reserved" || cur.held === true,
      ...patch,
      settled: false,
      ...newLease(store),
    };
    return { write: next, result: next };
  });
}
