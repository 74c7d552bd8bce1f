/** The stock state opened together: sku records, reservation records and the stream of due reservations. */
import { randomUUID } from "node:crypto";
import { AckPolicy, DeliverPolicy, RetentionPolicy, StorageType, type JetStreamManager } from "@nats-io/jetstream";
import { headers } from "@nats-io/nats-core";
import { type Context, type Keyed, kvKey } from "../../runtime/index.ts";
import { inventoryStore } from "./inventory-store.ts";
import {
  DUE_STREAM,
  DUE_SUBJECT,
  RESERVATIONS_BUCKET,
  type Reservation,
  type StockRecord,
  type StockSettings,
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

// Streams made once per process (the stream config is idempotent, this only saves the round trip).
const ensured = new WeakMap<object, Promise<void>>();

/** Opens the stock state for one request or timer run (the due stream is created on first use). */
export async function openStockStore(ctx: Context): Promise<StockStore> {
  const settings = stockSettings();
  const store: StockStore = {
    ctx,
    skus: inventoryStore(ctx),
    reservations: ctx.keyed<Reservation>(RESERVATIONS_BUCKET, {
      bucket: {
        ttl: settings.limits.reservationsMaxAgeS * 1000,
        max_bytes: settings.limits.reservationsMaxBytes,
        history: settings.limits.history,
      },
    }),
    settings,
    me: randomUUID(),
  };
  let ready = ensured.get(ctx.js);
  if (!ready) {
    ready = ensureDueStream(ctx, settings);
    ready.catch(() => ensured.delete(ctx.js));
    ensured.set(ctx.js, ready);
  }
  await ready;
  return store;
}

async function ensureDueStream(ctx: Context, settings: StockSettings): Promise<void> {
  const jsm: JetStreamManager = await ctx.js.jetstreamManager();
  const config = {
    name: DUE_STREAM,
    subjects: [`${DUE_SUBJECT}.>`],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    // A due message outlives the longest reservation and its recovery; then it has nothing left to do.
    max_age: settings.limits.reservationsMaxAgeS * 1e9,
    max_bytes: settings.limits.dueMaxBytes,
  };
  try {
    await jsm.streams.info(DUE_STREAM);
  } catch {
    await jsm.streams.add(config).catch(async (err: unknown) => {
      // Another instance created it between our look and our add.
      await jsm.streams.info(DUE_STREAM).catch(() => Promise.reject(err));
    });
  }
  await jsm.consumers
    .add(DUE_STREAM, {
      durable_name: DUE_CONSUMER,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: 30e9,
      // Reservations waiting for their expiry are unacknowledged: allow as many as may be open.
      max_ack_pending: -1,
      max_deliver: -1,
    })
    .catch(async (err: unknown) => {
      await jsm.consumers.info(DUE_STREAM, DUE_CONSUMER).catch(() => Promise.reject(err));
    });
}

/** Puts `orderId` on the due stream (once: the message id makes a repeat a no-op) so a sweeper looks at it later. */
export async function markDue(store: StockStore, orderId: string): Promise<void> {
  const h = headers();
  h.set("Nats-Msg-Id", `due:${orderId}`);
  await store.ctx.js.publish(`${DUE_SUBJECT}.${kvKey(orderId)}`, JSON.stringify({ orderId }), { headers: h });
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
