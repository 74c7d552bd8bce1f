/** Refunds a charge whose goods could not be delivered (the reservation expired before commit). */
import type { Context } from "../../runtime/index.ts";
import { type PaymentRecord, parsePaymentRecord, paymentsStore } from "./payment-store.ts";
import { stableUuid } from "./saga-ids.ts";

/** Marks the order's payment refunded (a keyed update) and emits `payment.refunded` once; no-op when nothing was charged. */
export async function refundPayment(ctx: Context, orderId: string): Promise<void> {
  const refunded = await paymentsStore(ctx).update<PaymentRecord | undefined>(orderId, (cur) => {
    const record = parsePaymentRecord(cur);
    if (!record || record.status !== "succeeded") return { result: undefined };
    return { write: { ...record, status: "refunded", refundedAt: new Date().toISOString() } as PaymentRecord, result: record };
  });
  if (!refunded) return;
  const { paymentId, amountCents, currency } = refunded;
  await ctx.emit(
    "payment.refunded",
    orderId,
    { paymentId, orderId, amountCents, currency },
    { eventId: stableUuid("payment.refunded", orderId) },
  );
}
