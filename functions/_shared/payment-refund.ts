/** Refunds a charge whose goods could not be delivered (the reservation expired before commit). */
import { type Context, kvKey } from "../../runtime/index.ts";
import { parsePaymentRecord, paymentsBucket } from "./payment-store.ts";
import { isRevisionConflict, stableUuid } from "./saga-ids.ts";

/** Marks the order's payment refunded (CAS) and emits `payment.refunded` once; no-op when nothing was charged. */
export async function refundPayment(ctx: Context, orderId: string): Promise<void> {
  const kv = await paymentsBucket(ctx);
  const key = kvKey(orderId);
  for (let attempt = 0; attempt < 3; attempt++) {
    const entry = await kv.get(key);
    const record = entry && entry.operation === "PUT" ? parsePaymentRecord(entry.json<unknown>()) : undefined;
    if (!entry || !record || record.status !== "succeeded") return;
    try {
      await kv.update(key, JSON.stringify({ ...record, status: "refunded", refundedAt: new Date().toISOString() }), entry.revision);
    } catch (err) {
      if (isRevisionConflict(err)) continue;
      throw err;
    }
    const { paymentId, amountCents, currency } = record;
    await ctx.emit(
      "payment.refunded",
      orderId,
      { paymentId, orderId, amountCents, currency },
      { eventId: stableUuid("payment.refunded", orderId) },
    );
    return;
  }
}
