/**
 * Reading and changing orders: keyed records, so every change is applied to the latest order with
 * compare-and-set, and keys are `kvKey(orderId)` (any schema-valid id is a key of its own).
 */
import { type Context, type Keyed, type RetentionLimits, kvRetention } from "../../runtime/index.ts";
import { ORDERS_BUCKET, type OrderRecord, isFinal, parseOrderRecord } from "./order-record.ts";

/** The orders bucket as keyed records. */
export type KV = Keyed<OrderRecord>;

/** Default limits of the orders bucket (`NFN_ORDERS_*`): a year of orders, 1 GiB, latest revision only. */
export const ORDERS_RETENTION: RetentionLimits = { maxAgeMs: 365 * 86_400_000, maxBytes: 1024 ** 3, history: 1 };

/** The orders store of this connection (created with its limits on first use; one per connection, so updates coalesce). */
export function ordersStore(ctx: Pick<Context, "keyed">): KV {
  return ctx.keyed<OrderRecord>(ORDERS_BUCKET, { bucket: kvRetention(ORDERS_BUCKET, ORDERS_RETENTION) });
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

/** Stores a new order; when a run that died after storing it comes again, the stored one stands. */
export function storeNewOrder(kv: KV, order: OrderRecord): Promise<OrderRecord> {
  return kv.update<OrderRecord>(
    order.orderId,
    (cur) => {
      const existing = parseOrderRecord(cur);
      if (existing && existing.orderId === order.orderId) return { result: existing };
      return { write: order, result: order };
    },
    { expectNew: true },
  );
}

/** Ends the order with `patch` (confirmed or cancelled); an order already final stays as it is, so a rerun replies the same. */
export function finishOrder(kv: KV, orderId: string, patch: Partial<OrderRecord>): Promise<OrderRecord> {
  return kv.update<OrderRecord>(orderId, (cur) => {
    const latest = parseOrderRecord(cur);
    if (!latest || latest.orderId !== orderId) throw new Error(`order ${orderId} vanished before it was finished`);
    if (isFinal(latest)) return { result: latest };
    const order: OrderRecord = { ...latest, ...patch, updatedAt: patch.updatedAt ?? new Date().toISOString() };
    return { write: order, result: order };
  });
}
