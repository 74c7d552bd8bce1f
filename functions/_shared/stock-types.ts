/** The shapes of stock state in KV and the settings that shape it (env, read when used). */
import type { KvOptions } from "@nats-io/kv";
import { type RetentionLimits, kvRetention } from "../../runtime/index.ts";

/** KV bucket with one record per sku. */
export const INVENTORY_BUCKET = "inventory";
/** KV bucket with one record per orderId (kept after it ends: it is the idempotency record). */
export const RESERVATIONS_BUCKET = "reservations";
/** The stream under RESERVATIONS_BUCKET, which the sweeper reads as its queue of due reservations. */
export const DUE_STREAM = `KV_${RESERVATIONS_BUCKET}`;

/** One line of an order. */
export interface StockLine {
  sku: string;
  quantity: number;
}

/** A line as reserved: the price is captured when the stock is held. */
export interface ReservedLine extends StockLine {
  priceCents: number;
  currency: string;
}

/**
 * What a sku has applied for one order while that order's reservation record does not yet say so:
 * `h` held, `s` sold, `f` freed (or fenced: nothing held, and no late hold may land). A mark lives
 * only while a reservation is being made or settled, so a sku carries as many as are in progress,
 * never one per open reservation.
 */
export interface StockMark {
  /** orderId. */
  o: string;
  p: "h" | "s" | "f";
  q: number;
  /** Epoch ms when the mark was written. */
  at: number;
}

/** The `inventory` record of one sku: the product and its totals; its size does not grow with open reservations. */
export interface StockRecord {
  sku: string;
  name: string;
  priceCents: number;
  currency: string;
  onHand: number;
  /** Units held by open reservations. */
  reserved: number;
  /** Units sold through commit_stock (onHand already lowered by them). */
  sold: number;
  /** Orders whose change to this sku is in progress (see StockMark). */
  marks: StockMark[];
  updatedAt: string;
}

/**
 * Where a reservation is. `pending` → `reserved` → `committing` → `committed`, or → `releasing` →
 * `released`; `rejected` when the stock was short. Every change is a compare-and-set on the record.
 */
export type ReservationStatus = "pending" | "reserved" | "rejected" | "committing" | "committed" | "releasing" | "released";

/** Why a reservation was released. */
export type ReleaseReason = "requested" | "expired" | "abandoned" | "released_before_reserve";

/** A shortage reported in 409 details. */
// A type alias, not an interface, so it fits FunctionError's `details` (an index signature).
export type ShortLine = {
  sku: string;
  requested: number;
  available: number;
};

/** The `reservations` record of one order. */
export interface Reservation {
  orderId: string;
  status: ReservationStatus;
  items: ReservedLine[];
  /** ISO time after which the system may release it. */
  expiresAt: string;
  createdAt: string;
  updatedAt: string;
  reason?: ReleaseReason;
  short?: ShortLine[];
  /** Skus the catalog did not know (status `rejected`). */
  unknown?: string[];
  /** The writer that alone applies the current state to the skus until `leaseUntil` (epoch ms). */
  owner?: string;
  leaseUntil?: number;
  /** Every line was held (a release must give back lines that no longer carry a mark). */
  held?: boolean;
  /** The sku totals match the status: nothing is left to apply. */
  settled?: boolean;
  /** A release arrived while the reservation was being made: its maker releases it instead of reserving. */
  releaseRequested?: ReleaseReason;
}

/** True for states a reservation never leaves. */
export function isFinal(status: ReservationStatus): boolean {
  return status === "committed" || status === "released" || status === "rejected";
}

/** Default reservation lifetime when the request gives no ttlSeconds. */
export const DEFAULT_TTL_SECONDS = 900;
/** Longest reservation lifetime a request may ask for (one day). */
export const MAX_TTL_SECONDS = 86_400;
/** Default currency of a product. */
export const DEFAULT_CURRENCY = "EUR";

/** Tunables from the environment, read when used so tests and operators can set them before start. */
export interface StockSettings {
  /** NFN_LOW_STOCK_THRESHOLD: emit inventory.low_stock when available falls to or below this. */
  lowStockThreshold: number;
  /** NFN_SWEEP_INTERVAL_MS: how often each instance looks for expired reservations. */
  sweepIntervalMs: number;
  /** NFN_RESERVATION_STALE_MS: a `pending` or half-done reservation older than this is finished by the sweeper. */
  staleMs: number;
  /** NFN_RESERVATION_LEASE_MS: how long the writer of a reservation's state alone applies it to the skus. */
  leaseMs: number;
  /** NFN_CLOCK_SKEW_MS: clock difference between instances allowed for; a lease is taken over this long after it ends. */
  skewMs: number;
  /** NFN_SWEEP_BATCH: due reservations and skus one sweep looks at, at most. */
  sweepBatch: number;
  /** NFN_SKU_RECORD_MAX_BYTES: largest sku record (its in-progress marks). */
  skuRecordMaxBytes: number;
}

/** Default limits of the `inventory` bucket (`NFN_INVENTORY_*`): products stay until changed, so bytes and history only. */
export const INVENTORY_RETENTION: RetentionLimits = { maxAgeMs: 0, maxBytes: 256 * 1024 ** 2, history: 1 };
/**
 * Default limits of the `reservations` bucket (`NFN_RESERVATIONS_*`): 30 days after its last change a
 * reservation (or a release-before-reserve tombstone) is dropped; an order is settled long before.
 */
export const RESERVATIONS_RETENTION: RetentionLimits = { maxAgeMs: 30 * 86_400_000, maxBytes: 1024 ** 3, history: 1 };

/** The options the stock buckets are created with (their retention, `NFN_INVENTORY_*` and `NFN_RESERVATIONS_*`). */
export interface StockBuckets {
  inventory: Partial<KvOptions>;
  reservations: Partial<KvOptions>;
}

// Read at most once a second from process.env: every request asks, and the environment rarely changes.
let cached: { at: number; settings: StockSettings; buckets: StockBuckets } | undefined;

function current(): { settings: StockSettings; buckets: StockBuckets } {
  const now = Date.now();
  if (!cached || now - cached.at > 1000) {
    cached = {
      at: now,
      settings: readSettings(process.env),
      buckets: {
        inventory: kvRetention(INVENTORY_BUCKET, INVENTORY_RETENTION),
        reservations: kvRetention(RESERVATIONS_BUCKET, RESERVATIONS_RETENTION),
      },
    };
  }
  return cached;
}

/** Reads the stock settings; a malformed value is a startup error that names the variable. */
export function stockSettings(env: NodeJS.ProcessEnv = process.env): StockSettings {
  if (env !== process.env) return readSettings(env);
  return current().settings;
}

/** The stock buckets' creation options, read like the settings (at most once a second). */
export function stockBuckets(): StockBuckets {
  return current().buckets;
}

function readSettings(env: NodeJS.ProcessEnv): StockSettings {
  return {
    lowStockThreshold: intFromEnv(env, "NFN_LOW_STOCK_THRESHOLD", 5, 0),
    sweepIntervalMs: intFromEnv(env, "NFN_SWEEP_INTERVAL_MS", 5_000, 50),
    staleMs: intFromEnv(env, "NFN_RESERVATION_STALE_MS", 30_000, 1),
    leaseMs: intFromEnv(env, "NFN_RESERVATION_LEASE_MS", 10_000, 100),
    skewMs: intFromEnv(env, "NFN_CLOCK_SKEW_MS", 1_000, 0),
    sweepBatch: intFromEnv(env, "NFN_SWEEP_BATCH", 256, 1),
    skuRecordMaxBytes: intFromEnv(env, "NFN_SKU_RECORD_MAX_BYTES", 512 * 1024, 1024),
  };
}

function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name}=${raw} must be an integer >= ${min}`);
  return n;
}
