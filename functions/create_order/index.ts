/**
 * create_order: the order saga as a durable function (price → reserve → pay → commit → confirmed,
 * or release [and refund] → cancelled). Each step is journaled; a crash resumes after the last
 * finished one on any instance once the lease expires, so no order is left pending.
 */
import { defineFunction, type Context } from "../../runtime/index.ts";
import common from "../../schemas/common.json" with { type: "json" };
import orderSchema from "../../schemas/order.json" with { type: "json" };
import request from "../../schemas/create_order.request.json" with { type: "json" };
import response from "../../schemas/create_order.response.json" with { type: "json" };
import type { CreateOrderRequest, CreateOrderResponse } from "../../schemas/types.ts";
import { type CancelReason, type OrderRecord, ORDERS_BUCKET, isFinal, orderView } from "../_shared/order-record.ts";
import { PAYMENTS_BUCKET } from "../_shared/payment-store.ts";
import { refundPayment } from "../_shared/payment-refund.ts";
import { crashPoint } from "../_shared/saga-crash.ts";
import { stableUuid } from "../_shared/saga-ids.ts";
import { commitStock, needsCaller, payOrder, placeOrder, releaseStock, reserveStock, settleOrder } from "../_shared/saga-steps.ts";

export default defineFunction<CreateOrderRequest, CreateOrderResponse>({
  name: "create_order",
  version: "1.0.0",
  description: "Places an order: reserves stock, charges the payment method, commits; replies confirmed or cancelled",
  request,
  response,
  kv: [ORDERS_BUCKET, PAYMENTS_BUCKET],
  emits: ["order.created", "order.confirmed", "order.cancelled", "payment.refunded"],
  sharedSchemas: [common, orderSchema],
  auth: { scopes: ["orders:write"] },
  calls: ["check_inventory", "reserve_stock", "process_payment", "commit_stock", "release_stock"],
  limits: { timeoutMs: 10_000, maxInFlight: 512 },
  durable: {
    // Keys are per customer: the order (and invocation) id is derived from (customer, key).
    invocationId: (key, caller) => stableUuid("order", caller?.sub ?? "", key),
    // No responders, a timeout or the store away leaves the order pending and resumed, never cancelled.
    transientErrors: "resume",
  },
  async handler(input, ctx) {
    const customerId = ctx.caller?.sub;
    const orderId = ctx.invocationId;
    if (!customerId || !orderId) throw needsCaller();
    const key = ctx.header("Idempotency-Key");
    crashPoint("before_place");
    const order = await ctx.step("place", () =>
      placeOrder(ctx, { orderId, customerId, items: input.items, paymentMethod: input.paymentMethod, idempotencyKey: key }),
    );
    crashPoint("after_place");
    // An order already final (its key repeated after the journal forgot the invocation): the same reply, nothing run again.
    if (isFinal(order)) return orderView(order);
    // A reservation made by an earlier run may have expired meanwhile: the payment step checks it first.
    let reservedNow = false;
    const reserved = await ctx.step("reserve", () => ((reservedNow = true), reserveStock(ctx, order)));
    if (!reserved.ok) return cancel(ctx, order, reserved.reason);
    crashPoint("after_reserve");
    const paid = await ctx.step("pay", ({ key: paymentKey }) => payOrder(ctx, order, paymentKey, !reservedNow));
    if (!paid.ok) return cancel(ctx, order, paid.reason);
    crashPoint("after_pay");
    crashPoint("before_commit");
    const committed = await ctx.step("commit", () => commitStock(ctx, order));
    if (!committed.ok) return cancel(ctx, order, committed.reason, paid.paymentId);
    crashPoint("after_commit");
    return orderView(await settleOrder(ctx, order, { status: "confirmed", paymentId: paid.paymentId }));
  },
});

// Compensation as steps: refund what may have been charged (a no-op when nothing was), release the stock.
async function cancel(ctx: Context, order: OrderRecord, reason: CancelReason, paymentId?: string): Promise<CreateOrderResponse> {
  if (reason === "reservation_expired") await ctx.step("refund", () => refundPayment(ctx, order.orderId));
  await ctx.step("release", () => releaseStock(ctx, order));
  const end = { status: "cancelled" as const, cancelReason: reason, ...(paymentId ? { paymentId } : {}) };
  return orderView(await settleOrder(ctx, order, end));
}
