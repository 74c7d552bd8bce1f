/** process_payment: charges an order through the simulated provider, at most once per orderId. */
import { FunctionError, defineFunction, type Context } from "../../runtime/index.ts";
import common from "../../schemas/common.json" with { type: "json" };
import request from "../../schemas/process_payment.request.json" with { type: "json" };
import response from "../../schemas/process_payment.response.json" with { type: "json" };
import type { ProcessPaymentRequest, ProcessPaymentResponse } from "../../schemas/types.ts";
import { chargeOutcome } from "../_shared/payment-provider.ts";
import { type PaymentRecord, parsePaymentRecord, paymentsStore, PAYMENTS_BUCKET } from "../_shared/payment-store.ts";
import { stableUuid } from "../_shared/saga-ids.ts";

// Events are emitted with a stable id; a replay this young is still inside the EVENTS duplicate
// window (2 min), so re-emitting repairs an event lost to a crash without ever storing it twice.
const REEMIT_WITHIN_MS = 90_000;

export default defineFunction<ProcessPaymentRequest, ProcessPaymentResponse>({
  name: "process_payment",
  version: "1.0.0",
  visibility: "internal",
  description: "Charges an order once (simulated provider: pm_card_visa succeeds, pm_card_chargeDeclined is declined with 402)",
  request,
  response,
  kv: [PAYMENTS_BUCKET],
  emits: ["payment.succeeded", "payment.failed"],
  sharedSchemas: [common],
  limits: { timeoutMs: 5000 },
  async handler(input, ctx) {
    // One keyed update: the first call for an order stores its charge; any later (or concurrent) one gets that record.
    const { record, created } = await paymentsStore(ctx).update<{ record: PaymentRecord; created: boolean }>(
      input.orderId,
      (cur) => {
        const existing = parsePaymentRecord(cur);
        if (existing) return { result: { record: existing, created: false } };
        const fresh = newRecord(input);
        return { write: fresh, result: { record: fresh, created: true } };
      },
      { expectNew: true },
    );
    return created ? settle(ctx, record, true) : replay(ctx, input, record);
  },
});

function newRecord(input: ProcessPaymentRequest): PaymentRecord {
  const outcome = chargeOutcome(input.method);
  return {
    paymentId: `pay_${stableUuid("payment", input.orderId).replace(/-/g, "")}`,
    orderId: input.orderId,
    amountCents: input.amountCents,
    currency: input.currency,
    method: input.method,
    ...(input.idempotencyKey === undefined ? {} : { idempotencyKey: input.idempotencyKey }),
    status: outcome.status,
    ...(outcome.status === "declined" ? { declineReason: outcome.reason } : {}),
    createdAt: new Date().toISOString(),
  };
}

// Errors name no amount, currency or payment method of the stored record: they reach logs and
// dashboards, and whoever sent the request may not be the one who paid.
async function replay(ctx: Context, input: ProcessPaymentRequest, record: PaymentRecord): Promise<ProcessPaymentResponse> {
  if (record.orderId !== input.orderId) throw new Error("payment record stored under another order's key");
  if (record.amountCents !== input.amountCents || record.currency !== input.currency || record.method !== input.method) {
    throw new FunctionError(422, "this order already has a payment with other terms; a payment is made once per order");
  }
  // Keyed by its caller (create_order's pay step): another key for the same order is another charge, refused.
  if (record.idempotencyKey !== undefined && input.idempotencyKey !== undefined && record.idempotencyKey !== input.idempotencyKey) {
    throw new FunctionError(422, "this order already has a payment made with another idempotency key; a payment is made once per order");
  }
  if (record.status === "refunded") {
    throw new FunctionError(409, "the payment of this order was refunded; place a new order to pay again");
  }
  return settle(ctx, record, Date.now() - Date.parse(record.createdAt) < REEMIT_WITHIN_MS);
}

async function settle(ctx: Context, record: PaymentRecord, emit: boolean): Promise<ProcessPaymentResponse> {
  const { paymentId, orderId, amountCents, currency } = record;
  if (record.status === "succeeded") {
    if (emit)
      await ctx.emit(
        "payment.succeeded",
        orderId,
        { paymentId, orderId, amountCents, currency },
        { eventId: stableUuid("payment.succeeded", orderId) },
      );
    return { paymentId, orderId, status: "succeeded", amountCents, currency };
  }
  const reason = record.declineReason ?? "card_declined";
  if (emit)
    await ctx.emit(
      "payment.failed",
      orderId,
      { paymentId, orderId, amountCents, currency, reason },
      { eventId: stableUuid("payment.failed", orderId) },
    );
  throw new FunctionError(402, `the payment method was declined (${reason}); use another payment method`, [{ paymentId, reason }]);
}
