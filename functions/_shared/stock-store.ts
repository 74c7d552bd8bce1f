/** The stock state opened together: sku records, reservation records and the stream of due reservations. */
import { randomUUID } from "node:crypto";
import { AckPolicy, DeliverPolicy, type JetStreamManager } from "@nats-io/jetstream";
import type { Context, Keyed } from "../../runtime/index.ts";
import { inventoryStore } from "./inventory-store.ts";
import {
  DUE_STREAM,
  RESERVATIONS_BUCKET,
  type Reservation,
  type StockRecord,
  type StockSettings,
  stockBuckets,
  stockSettings,
} from "./stock-types.ts";

/** Everything the stock operations touch. */
export interface StockStore {
  ctx: Context;
  skus: Keyed<StockRecord>;
  reservations: Keyed<Reservation>;
  settings: StockSettings;
  /** This request's identity as a lease owner. */
  me: string;
}

/** The durable consumer the sweepers of every instance share. */
export const DUE_CONSUMER = "reservation-sweeper";

// The sweepers' consumer, made once per process (adding it again is harmless; this saves the round trip).
const ensured = new WeakMap<object, Promise<void>>();

/** Opens the stock state for one request or timer run. */
export function openStockStore(ctx: Context): Promise<StockStore> {
  const settings = stockSettings();
  return Promise.resolve({
    ctx,
    skus: inventoryStore(ctx),
    reservations: ctx.keyed<Reservation>(RESERVATIONS_BUCKET, { bucket: stockBuckets().reservations }),
    settings,
    me: randomUUID(),
  });
}

/**
 * Makes sure the sweepers' shared consumer exists. It reads the reservations bucket's own stream:
 * every write of a reservation record is a message there, so each reservation falls due for a look
 * without a second write, and a revision superseded by a newer one is skipped (one is kept per key).
 */
export async function ensureDueConsumer(store: StockStore): Promise<void> {
  const { js } = store.ctx;
  let ready = ensured.get(js);
  if (!ready) {
    ready = addDueConsumer(store);
    ready.catch(() => ensured.delete(js));
    ensured.set(js, ready);
  }
  await ready;
}

async function addDueConsumer(store: StockStore): Promise<void> {
  // Opening the bucket creates it (with its limits) when no reservation was made yet.
  await store.reservations.get("-");
  const jsm: JetStreamManager = await store.ctx.js.jetstreamManager();
  await jsm.consumers
    .add(DUE_STREAM, {
      durable_name: DUE_CONSUMER,
      filter_subject: `$KV.${RESERVATIONS_BUCKET}.>`,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: 30e9,
      // Reservations waiting for their expiry stay unacknowledged: allow as many as may be open.
      max_ack_pending: -1,
      max_deliver: -1,
    })
    .catch(async (err: unknown) => {
      await jsm.consumers.info(DUE_STREAM, DUE_CONSUMER).catch(() => Promise.reject(err));
    });
}

/** Reads the reservation of `orderId`. */
export function readReservation(store: StockStore, orderId: string): Promise<Reservation | undefined> {
  return store.reservations.get(orderId);
}

/** True when the lease on `r` is over (with the allowed clock skew): another writer may take its work over. */
export function leaseOver(store: StockStore, r: Reservation, now = Date.now()): boolean {
  const until = r.leaseUntil ?? Date.parse(r.updatedAt) + store.settings.leaseMs;
  return now > until + store.settings.skewMs;
}

/** True when `r` has sku changes left to apply (its owner is working on it, or has died). */
export function unsettled(r: Reservation): boolean {
  if (r.status === "pending" || r.status === "committing" || r.status === "releasing") return true;
  if (r.status === "reserved") return false;
  return r.settled !== true;
}
