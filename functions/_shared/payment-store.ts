/**
 * Payments in JetStream KV: one record per order under `kvKey(orderId)`, written once with
 * kv.create, so an order is charged at most once.
 */
import { type Context, type Keyed, type RetentionLimits, kvRetention } from "../../runtime/index.ts";

/** KV bucket holding one payment record per orderId. */
export const PAYMENTS_BUCKET = "payments";

/**
 * Default limits of the payments bucket (`NFN_PAYMENTS_*`): 90 days, 256 MiB. A record guards
 * "charged once" while its order's saga runs (seconds); after that the order keeps the paymentId,
 * so records, also those of orders that never existed, can expire.
 */
export const PAYMENTS_RETENTION: RetentionLimits = { maxAgeMs: 90 * 86_400_000, maxBytes: 256 * 1024 ** 2, history: 1 };

/** The payments bucket, created with its limits on first use. */
export function paymentsBucket(ctx: Pick<Context, "kv">): ReturnType<Context["kv"]> {
  return ctx.kv(PAYMENTS_BUCKET, kvRetention(PAYMENTS_BUCKET, PAYMENTS_RETENTION));
}

/** The payments bucket as keyed records (same bucket, same limits): how payments are written. */
export function paymentsStore(ctx: Pick<Context, "keyed">): Keyed<PaymentRecord> {
  return ctx.keyed<PaymentRecord>(PAYMENTS_BUCKET, { bucket: kvRetention(PAYMENTS_BUCKET, PAYMENTS_RETENTION) });
}

/** One charge attempt and its outcome, keyed by orderId. */
export interface PaymentRecord {
  paymentId: string;
  orderId: string;
  amountCents: number;
  currency: string;
  method: string;
  /** The key the charge was asked with (create_order: its pay step's key), when one was given. */
  idempotencyKey?: string;
  status: "succeeded" | "declined" | "refunded";
  declineReason?: string;
  createdAt: string;
}

/** Reads a stored payment record; undefined when the value is not one. */
export function parsePaymentRecord(value: unknown): PaymentRecord | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const r = value as Partial<PaymentRecord>;
  if (typeof r.paymentId !== "string" || typeof r.orderId !== "string" || typeof r.amountCents !== "number") return undefined;
  if (r.status !== "succeeded" && r.status !== "declined" && r.status !== "refunded") return undefined;
  return r as PaymentRecord;
}
