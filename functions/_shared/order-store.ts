/** Reading and changing orders: keyed records, so every change is applied to the latest order with compare-and-set. */
import type { Context, Keyed } from "../../runtime/index.ts";
import { ORDERS_BUCKET, type OrderRecord, parseOrderRecord } from "./order-record.ts";

/** The orders bucket as keyed records. */
export type KV = Keyed<OrderRecord>;

/** The orders store of this connection (one per connection, so updates of an order coalesce). */
export function ordersStore(ctx: Pick<Context, "keyed">): KV {
  return ctx.keyed<OrderRecord>(ORDERS_BUCKET);
}

/** An order as read or written; `won` tells a transition's writer whether its change is the one stored. */
export interface StoredOrder {
  order: OrderRecord;
}

/** The order stored under `orderId`, or undefined. */
export async function loadOrder(kv: KV, orderId: string): Promise<StoredOrder | undefined> {
  const order = parseOrderRecord(await kv.get(orderId));
  return order && { order };
}

/** Stores a new order; undefined when one with that id exists already (an idempotent repeat or a race). */
export async function createOrder(kv: KV, order: OrderRecord): Promise<StoredOrder | undefined> {
  const created = await kv.update<boolean>(order.orderId, (cur) => (cur ? { result: false } : { write: order, result: true }), {
    expectNew: true,
  });
  return created ? { order } : undefined;
}

// The state a transition was decided on: a writer that moved the order since makes it lose.
function sameState(a: OrderRecord, b: OrderRecord): boolean {
  return a.updatedAt === b.updatedAt && a.step === b.step && a.status === b.status;
}

/**
 * Applies `patch` if the order is still as `current` read it. Returns the new state, or the state
 * someone else wrote first (with `won: false`) so the caller continues from there.
 */
export async function transition(kv: KV, current: StoredOrder, patch: Partial<OrderRecord>): Promise<StoredOrder & { won: boolean }> {
  const orderId = current.order.orderId;
  return kv.update<StoredOrder & { won: boolean }>(orderId, (cur) => {
    const latest = parseOrderRecord(cur);
    if (!latest) throw new Error(`order ${orderId} vanished during a transition`);
    if (!sameState(latest, current.order)) return { result: { order: latest, won: false } };
    const order: OrderRecord = { ...latest, ...patch, updatedAt: new Date().toISOString() };
    return { write: order, result: { order, won: true } };
  });
}
