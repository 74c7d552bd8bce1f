/** Reading and changing orders in KV: every change is a compare-and-set on the entry's revision. */
import type { Context } from "../../runtime/index.ts";
import { type OrderRecord, parseOrderRecord } from "./order-record.ts";
import { isRevisionConflict } from "./saga-ids.ts";

/** A KV bucket as ctx.kv returns it. */
export type KV = Awaited<ReturnType<Context["kv"]>>;

/** An order with the KV revision it was read at. */
export interface StoredOrder {
  order: OrderRecord;
  revision: number;
}

/** The order stored under `orderId`, or undefined. */
export async function loadOrder(kv: KV, orderId: string): Promise<StoredOrder | undefined> {
  const entry = await kv.get(orderId);
  if (!entry || entry.operation !== "PUT") return undefined;
  const order = parseOrderRecord(entry.json<unknown>());
  return order && { order, revision: entry.revision };
}

/** Stores a new order; undefined when one with that id exists already (an idempotent repeat or a race). */
export async function createOrder(kv: KV, order: OrderRecord): Promise<StoredOrder | undefined> {
  try {
    const revision = await kv.create(order.orderId, JSON.stringify(order));
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
    const revision = await kv.update(order.orderId, JSON.stringify(order), current.revision);
    return { order, revision, won: true };
  } catch (err) {
    if (!isRevisionConflict(err)) throw err;
    const latest = await loadOrder(kv, current.order.orderId);
    if (!latest) throw new Error(`order ${current.order.orderId} vanished during a transition`, { cause: err });
    return { ...latest, won: false };
  }
}
