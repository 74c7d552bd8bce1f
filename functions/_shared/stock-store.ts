/** The three buckets of stock state, opened together, and the reservation record's compare-and-set. */
import type { KV } from "@nats-io/kv";
import type { Context } from "../../runtime/index.ts";
import { inventoryKv } from "./inventory-store.ts";
import { kvKey } from "../../runtime/index.ts";
import { purgeKey, readJson, writeIfUnchanged, type Versioned } from "./stock-kv.ts";
import { OPEN_RESERVATIONS_BUCKET, RESERVATIONS_BUCKET, type Reservation, type StockSettings, stockSettings } from "./stock-types.ts";

/** Everything the stock operations touch. */
export interface StockStore {
  ctx: Context;
  inventory: KV;
  reservations: KV;
  /** Keys of reservations not yet finished, with their expiry: what the sweeper scans. */
  open: KV;
  settings: StockSettings;
}

/** Opens (creating on first use) the stock buckets for one request or timer run. */
export async function openStockStore(ctx: Context): Promise<StockStore> {
  const [inventory, reservations, open] = await Promise.all([
    inventoryKv(ctx),
    ctx.kv(RESERVATIONS_BUCKET),
    ctx.kv(OPEN_RESERVATIONS_BUCKET),
  ]);
  return { ctx, inventory, reservations, open, settings: stockSettings() };
}

/** Reads the reservation of `orderId`. */
export function readReservation(store: StockStore, orderId: string): Promise<Versioned<Reservation> | undefined> {
  return readJson<Reservation>(store.reservations, orderId);
}

/** Moves a reservation on from the version read; undefined when someone else changed it first. */
export async function updateReservation(
  store: StockStore,
  current: Versioned<Reservation>,
  change: Partial<Reservation>,
): Promise<Versioned<Reservation> | undefined> {
  const value: Reservation = { ...current.value, ...change, updatedAt: new Date().toISOString() };
  const revision = await writeIfUnchanged(store.reservations, value.orderId, value, current.revision);
  return revision === undefined ? undefined : { value, revision };
}

/** Creates the reservation record; undefined when one exists already. */
export async function createReservation(store: StockStore, value: Reservation): Promise<Versioned<Reservation> | undefined> {
  const revision = await writeIfUnchanged(store.reservations, value.orderId, value, undefined);
  return revision === undefined ? undefined : { value, revision };
}

/** Marks a reservation as open (before it exists) so the sweeper finds it even after a crash. */
export async function markOpen(store: StockStore, orderId: string, expiresAt: string): Promise<void> {
  await store.open.put(kvKey(orderId), JSON.stringify({ orderId, expiresAt, openedAt: new Date().toISOString() }));
}

/** Forgets an open mark once the reservation is final (a crash before this only costs the sweeper a read). */
export function markClosed(store: StockStore, orderId: string): Promise<void> {
  return purgeKey(store.ctx.js, OPEN_RESERVATIONS_BUCKET, orderId);
}
