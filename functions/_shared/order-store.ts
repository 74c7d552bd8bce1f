/**
 * Reading and changing orders in KV: every change is a compare-and-set on the entry's revision.
 * Keys are `kvKey(orderId)`, so any schema-valid id (`a:b`, `.x`, `__proto__`) is a key of its own.
 */
import { type Context, type RetentionLimits, kvKey, kvRetention } from "../../runtime/index.ts";
import { OPEN_ORDERS_BUCKET, ORDERS_BUCKET, type OrderRecord, parseOrderRecord } from "./order-record.ts";
import { isRevisionConflict } from "./saga-ids.ts";

/** A KV bucket as ctx.kv returns it. */
export type KV = Awaited<ReturnType<Context["kv"]>>;

/** Default limits of the orders bucket (`NFN_ORDERS_*`): a year of orders, 1 GiB, latest revision only. */
export const ORDERS_RETENTION: RetentionLimits = { maxAgeMs: 365 * 86_400_000, maxBytes: 1024 ** 3, history: 1 };
/** Default limits of the open-orders index (`NFN_ORDERS_OPEN_*`): an order settles in seconds, so a week is plenty. */
export const OPEN_ORDERS_RETENTION: RetentionLimits = { maxAgeMs: 7 * 86_400_000, maxBytes: 64 * 1024 ** 2, history: 1 };

/** The orders bucket, created with its limits on first use. Every function that opens it goes through here. */
export function ordersBucket(ctx: Pick<Context, "kv">): Promise<KV> {
  return ctx.kv(ORDERS_BUCKET, kvRetention(ORDERS_BUCKET, ORDERS_RETENTION));
}

/** The open-orders index bucket (key = orderId, a UUID made by create_order), created with its limits. */
export function openOrdersBucket(ctx: Pick<Context, "kv">): Promise<KV> {
  return ctx.kv(OPEN_ORDERS_BUCKET, kvRetention(OPEN_ORDERS_BUCKET, OPEN_ORDERS_RETENTION));
}

/** An order with the KV revision it was read at. */
export interface StoredOrder {
  order: OrderRecord;
  revision: number;
}

/** The order stored under `orderId`, or undefined. */
export async function loadOrder(kv: KV, orderId: string): Promise<StoredOrder | undefined> {
  const entry = await kv.get(kvKey(orderId));
  if (!entry || entry.operation !== "PUT") return undefined;
  const order = parseOrderRecord(entry.json<unknown>());
  // The record must be the one asked for: a key is never taken for another order's.
  return order && order.orderId === orderId ? { order, revision: entry.revision } : undefined;
}

/** Stores a new order; undefined when one with that id exists already (an idempotent repeat or a race). */
export async function createOrder(kv: KV, order: OrderRecord): Promise<StoredOrder | undefined> {
  try {
    const revision = await kv.create(kvKey(order.orderId), JSON.stringify(order));
    return { order, revision };
  } catch (err) {
    if (isRevisionConflict(err)) return undefined;
    throw err;
  }
}

/**
 * Applies `patch` if the order is still at `current.revision`. Returns the new state, or the state
 * someone else wrote first (with `won: false`) so the caller continues from there.
 */
export async function transition(kv: KV, current: StoredOrder, patch: Partial<OrderRecord>): Promise<StoredOrder & { won: boolean }> {
  const order: OrderRecord = { ...current.order, ...patch, updatedAt: new Date().toISOString() };
  try {
    const revision = await kv.update(kvKey(order.orderId), JSON.stringify(order), current.revision);
    return { order, revision, won: true };
  } catch (err) {
    if (!isRevisionConflict(err)) throw err;
    const latest = await loadOrder(kv, current.order.orderId);
    if (!latest) throw new Error(`order ${current.order.orderId} vanished during a transition`, { cause: err });
    return { ...latest, won: false };
  }
}
