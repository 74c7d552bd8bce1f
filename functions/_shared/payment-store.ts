/** Payments in JetStream KV: one record per order, written once with kv.create, so an order is charged at most once. */

/** KV bucket holding one payment record per orderId. */
export const PAYMENTS_BUCKET = "payments";

/** One charge attempt and its outcome, keyed by orderId. */
export interface PaymentRecord {
  paymentId: string;
  orderId: string;
  amountCents: number;
  currency: string;
  method: string;
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
