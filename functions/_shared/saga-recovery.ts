/**
 * Recovery: finishes orders whose saga stopped (a crash, a lost connection). Any instance may run
 * it at any time: every step is idempotent and every transition a CAS, so two runs never double
 * anything. Only orders untouched for `graceMs` are taken, so live requests are left alone.
 */
import type { Context } from "../../runtime/index.ts";
import { isFinal } from "./order-record.ts";
import { loadOrder, openOrdersBucket, ordersStore } from "./order-store.ts";
import { closeOrder, driveOrder } from "./saga-steps.ts";

/** Tuning of one recovery pass. */
export interface RecoveryOptions {
  /** An order must be this long without a change before recovery takes it over. */
  graceMs: number;
  /** Orders handled at once. */
  concurrency?: number;
}

/** What one pass did. */
export interface RecoveryResult {
  recovered: number;
  failed: number;
}

/** One pass over the open-orders index; stops early when the pass's deadline comes near. */
export async function recoverOrders(ctx: Context, options: RecoveryOptions): Promise<RecoveryResult> {
  const open = await openOrdersBucket(ctx);
  const orders = ordersStore(ctx);
  const ids: string[] = [];
  for await (const key of await open.keys()) ids.push(key);
  const result: RecoveryResult = { recovered: 0, failed: 0 };
  const queue = [...ids];
  const worker = async () => {
    for (let id = queue.shift(); id !== undefined && ctx.remainingMs() > 1000; id = queue.shift()) {
      try {
        if (await recoverOne(ctx, id, options.graceMs)) result.recovered++;
      } catch (err) {
        result.failed++;
        ctx.log.warn("order recovery failed; the next pass retries it", { orderId: id, error: err });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 8) }, worker));
  if (result.recovered + result.failed > 0) ctx.log.info("order recovery pass", { open: ids.length, ...result });
  return result;

  async function recoverOne(c: Context, id: string, graceMs: number): Promise<boolean> {
    const stored = await loadOrder(orders, id);
    if (!stored) {
      // The request failed before its order was stored (for example an unknown sku): drop the index entry.
      const entry = await open.get(id);
      if (entry && entry.operation === "PUT" && Date.now() - Number(entry.string()) > graceMs) await open.delete(id);
      return false;
    }
    if (Date.now() - Date.parse(stored.order.updatedAt) < graceMs) return false;
    if (isFinal(stored.order)) await closeOrder(c, stored.order);
    else await driveOrder(c, orders, stored, { recovering: true });
    return true;
  }
}
