/**
 * reserve_stock's core: all or nothing across the lines, never oversold, idempotent by orderId.
 * Only the request that creates the `pending` record (or takes it over after its maker's lease)
 * places holds; a repeat waits for the outcome and gets it only if it names the same lines.
 */
import { FunctionError } from "../../runtime/index.ts";
import { leaseEnd, takeOver, work } from "./stock-owner.ts";
import { type StockStore, leaseOver, readReservation } from "./stock-store.ts";
import type { Reservation, StockLine } from "./stock-types.ts";

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

/** Reserves, or returns the reservation the order already has; 404 unknown sku, 409 short, released or other lines. */
export async function reserveStock(store: StockStore, input: ReserveInput): Promise<Reservation> {
  const lines = mergeLines(input.items);
  const now = Date.now();
  const at = new Date(now).toISOString();
  const pending: Reservation = {
    orderId: input.orderId,
    status: "pending",
    // Prices are filled in from the sku records when the lines are held.
    items: lines.map((l) => ({ ...l, priceCents: 0, currency: "" })),
    expiresAt: new Date(now + input.ttlSeconds * 1000).toISOString(),
    createdAt: at,
    updatedAt: at,
    owner: store.me,
    leaseUntil: leaseEnd(store),
  };
  // Written before any hold is placed (and so due for the sweeper), whatever a crash leaves can be found.
  const existing = await store.reservations.update<Reservation | undefined>(
    input.orderId,
    (cur) => (cur ? { result: cur } : { write: pending, result: undefined }),
    { expectNew: true },
  );
  const made = existing ? await outcome(store, existing, lines) : await work(store, pending);
  return answer(made);
}

/** The outcome of a reservation someone else is making: waits, or takes it over once its maker's lease is over. */
export async function outcome(store: StockStore, first: Reservation, lines?: StockLine[]): Promise<Reservation> {
  let waits = 0;
  for (let r: Reservation | undefined = first; ; r = await readReservation(store, first.orderId)) {
    if (!r) throw new FunctionError(404, `order ${first.orderId} has no reservation`);
    if (lines && r.items.length > 0 && !sameLines(r.items, lines)) {
      throw new FunctionError(409, `order ${r.orderId} already has a reservation with other lines; reserve with a new orderId`);
    }
    if (r.status !== "pending") return r;
    if (leaseOver(store, r)) {
      const mine = await takeOver(store, r.orderId);
      if (mine) return work(store, mine);
      continue;
    }
    // A live maker finishes in milliseconds; a dead one's lease ends at a known time: look often at
    // first, then no more than a few times a second, so a crowd of retries does not flood the store.
    const leaseLeft = (r.leaseUntil ?? 0) + store.settings.skewMs - Date.now();
    await pause(
      store,
      `the reservation of order ${r.orderId} is still being made by another request; retry shortly`,
      Math.max(5, Math.min(leaseLeft + 1, 5 * 2 ** Math.min(waits++, 6))),
    );
  }
}

/** Waits about `ms` (less when the deadline is nearer) before looking again; 503 (retry) when the deadline is too near. */
export async function pause(store: StockStore, whyRetry: string, ms = 10): Promise<void> {
  const left = store.ctx.remainingMs() - 100;
  if (left <= 0 || store.ctx.signal.aborted) throw new FunctionError(503, whyRetry);
  await new Promise((resolve) => setTimeout(resolve, Math.min(left, ms * (0.5 + Math.random()))));
}

function sameLines(stored: StockLine[], asked: StockLine[]): boolean {
  if (stored.length !== asked.length) return false;
  const want = new Map(asked.map((l) => [l.sku, l.quantity]));
  return stored.every((l) => want.get(l.sku) === l.quantity);
}

/** The reply for a reservation: itself, or the error its state means (no other order's lines or prices in it). */
export function answer(r: Reservation): Reservation {
  switch (r.status) {
    case "reserved":
    case "committing":
    case "committed":
      return r;
    case "pending":
      throw new FunctionError(503, `the reservation of order ${r.orderId} is still being made; retry shortly`);
    case "rejected":
      if (r.unknown && r.unknown.length > 0) {
        const shown = r.unknown.slice(0, 5);
        throw new FunctionError(
          404,
          `unknown sku: ${shown.join(", ")}`,
          shown.map((sku) => ({ sku, message: "unknown sku" })),
        );
      }
      throw new FunctionError(409, `not enough stock for order ${r.orderId}`, r.short);
    default: {
      const reason = r.reason ?? r.releaseRequested ?? "requested";
      if (reason === "released_before_reserve") {
        throw new FunctionError(409, `order ${r.orderId} was released before it was reserved; reserve with a new orderId`);
      }
      // The reason (no lines, no amounts) tells a saga why, so it never cancels for a reason that is not true.
      throw new FunctionError(409, `the reservation of order ${r.orderId} was released (${reason}); reserve with a new orderId`, [
        { reason },
      ]);
    }
  }
}
