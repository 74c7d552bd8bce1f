/**
 * The reservation sweeper: releases expired reservations, finishes abandoned ones and removes holds
 * whose order is over. Every instance runs it; every change is a compare-and-set, so running it
 * everywhere at once is safe (the loser of a race re-reads and finds nothing to do).
 */
import { settleHold } from "./inventory-store.ts";
import { kvKey } from "../../runtime/index.ts";
import { listIds, readJson } from "./stock-kv.ts";
import { closeAs, finish } from "./stock-settle.ts";
import { type StockStore, markClosed, readReservation } from "./stock-store.ts";
import { INVENTORY_BUCKET, OPEN_RESERVATIONS_BUCKET, type StockRecord, isFinal } from "./stock-types.ts";

/** What one sweep did. */
export interface SweepResult {
  expired: number;
  abandoned: number;
  orphanHolds: number;
}

/** One pass over the open reservations and the holds. */
export async function sweepReservations(store: StockStore, now = Date.now()): Promise<SweepResult> {
  const result: SweepResult = { expired: 0, abandoned: 0, orphanHolds: 0 };
  for (const orderId of await listIds(store.ctx.js, OPEN_RESERVATIONS_BUCKET)) {
    if (store.ctx.signal.aborted) return result;
    await sweepOne(store, orderId, now, result);
  }
  for (const sku of await listIds(store.ctx.js, INVENTORY_BUCKET)) {
    if (store.ctx.signal.aborted) return result;
    const rec = await readJson<StockRecord>(store.inventory, sku);
    if (!rec || rec.value.reserved === 0) continue;
    for (const [orderId, hold] of Object.entries(rec.value.holds)) {
      if (now - hold.at < store.settings.staleMs) continue;
      const r = await readReservation(store, orderId);
      // A hold outlives its order's decision only when a crash or a late writer left it: settle it as decided.
      const status = r?.value.status;
      if (r && status === "pending" && now - Date.parse(r.value.updatedAt) > store.settings.staleMs) {
        if (await closeAs(store, r, "released", "abandoned")) result.abandoned++;
      } else if (!r || status === "released" || status === "rejected" || status === "committed") {
        const change = await settleHold(store.inventory, sku, orderId, status === "committed");
        if (change.kind === "changed") result.orphanHolds++;
      }
    }
  }
  return result;
}

async function sweepOne(store: StockStore, orderId: string, now: number, result: SweepResult): Promise<void> {
  const current = await readReservation(store, orderId);
  if (!current) {
    // Marked open but never created (a crash in between): forget the mark once it is old.
    const mark = await store.open.get(kvKey(orderId));
    const openedAt = mark?.operation === "PUT" ? Date.parse(mark.json<{ openedAt?: string }>().openedAt ?? "") : Number.NaN;
    if (mark && (Number.isNaN(openedAt) || now - openedAt > store.settings.staleMs)) await markClosed(store, orderId);
    return;
  }
  const r = current.value;
  if (isFinal(r.status)) {
    await markClosed(store, orderId);
    return;
  }
  const idleMs = now - Date.parse(r.updatedAt);
  if (r.status === "reserved" && now >= Date.parse(r.expiresAt)) {
    if (await closeAs(store, current, "released", "expired")) result.expired++;
  } else if (r.status === "pending" && idleMs > store.settings.staleMs) {
    if (await closeAs(store, current, "released", "abandoned")) result.abandoned++;
  } else if ((r.status === "releasing" || r.status === "committing") && idleMs > store.settings.staleMs) {
    await finish(store, current);
    result.abandoned++;
  }
}
