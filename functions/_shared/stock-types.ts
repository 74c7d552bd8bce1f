/** The shapes of stock state in KV and the settings that shape it (env, read when used). */

/** KV bucket with one record per sku. */
export const INVENTORY_BUCKET = "inventory";
/** KV bucket with one record per orderId (kept after it ends: it is the idempotency record). */
export const RESERVATIONS_BUCKET = "reservations";
/** KV bucket with one key per reservation that is not finished yet: what the sweeper scans. */
export const OPEN_RESERVATIONS_BUCKET = "reservations_open";

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

/** Stock held for one order on one sku. */
export interface Hold {
  quantity: number;
  /** Epoch ms when the hold was placed. */
  at: number;
}

/** The `inventory` record of one sku: the product and its stock. `reserved` is always the sum of `holds`. */
export interface StockRecord {
  sku: string;
  name: string;
  priceCents: number;
  currency: string;
  onHand: number;
  reserved: number;
  /** Units sold through commit_stock (onHand already lowered by them). */
  sold: number;
  /** Holds by orderId: applying, committing and releasing one is idempotent because it is keyed. */
  holds: Record<string, Hold>;
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
}

/** Reads the stock settings; a malformed value is a startup error that names the variable. */
export function stockSettings(env: NodeJS.ProcessEnv = process.env): StockSettings {
  return {
    lowStockThreshold: intFromEnv(env, "NFN_LOW_STOCK_THRESHOLD", 5, 0),
    sweepIntervalMs: intFromEnv(env, "NFN_SWEEP_INTERVAL_MS", 5_000, 50),
    staleMs: intFromEnv(env, "NFN_RESERVATION_STALE_MS", 30_000, 1),
  };
}

function intFromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name}=${raw} must be an integer >= ${min}`);
  return n;
}
