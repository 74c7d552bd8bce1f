/**
 * Reading and changing orders: keyed records, so every change is applied to the latest order with
 * compare-and-set, and keys are `kvKey(orderId)` (any schema-valid id is a key of its own).
 */
import { type Context, type Keyed, type RetentionLimits, kvRetention } from "../../runtime/index.ts";
import { OPEN_ORDERS_BUCKET, ORDERS_BUCKET, type OrderRecord, parseOrderRecord } from "./order-record.ts";

/** The orders bucket as keyed records. */
export type KV = Keyed<OrderRecord>;

/** Default limits of the orders bucket (`NFN_ORDERS_*`): a year of orders, 1 GiB, latest revision only. */
export const ORDERS_RETENTION: RetentionLimits = { maxAgeMs: 365 * 86_400_000, maxBytes: 1024 ** 3, history: 1 };
/** Default limits of the open-orders index (`NFN_ORDERS_OPEN_*`): an order settles in seconds, so a week is plenty. */
export const OPEN_ORDERS_RETENTION: RetentionLimits = { maxAgeMs: 7 * 86_400_000, maxBytes: 64 * 1024 ** 2, history: 1 };

/** The orders store of this connection (created with its limits on first use; one per connection, so updates coalesce). */
export function ordersStore(ctx: Pick<Context, "keyed">): KV {
  return ctx.keyed<OrderRecord>(ORDERS_BUCKET, { bucket: kvRetention(ORDERS_BUCKET, ORDERS_RETENTION) });
}

/** The open-orders index bucket (key = orderId, a UUID made by create_order), created with its limits. */
export function openOrdersBucket(ctx: Pick<Context, "kv">): ReturnType<Context["kv"]> {
  return ctx.kv(OPEN_ORDERS_BUCKET, kvRetention(OPEN_ORDERS_BUCKET, OPEN_ORDERS_RETENTION));
}

/** An order as read or written. */
export interface StoredOrder {
  order: OrderRecord;
}

/** The order stored under `orderId`, or undefined. */
export async function loadOrder(kv: KV, orderId: string): Promise<StoredOrder | undefined> {
  const order = parseOrderRecord(await kv.get(orderId));
  // The record must be the one asked for: a key is never taken for another order's.
  return order && order.orderId === orderId ? { order } : undefined;
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
