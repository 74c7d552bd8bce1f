/** create_order: the order saga (verify → pending → reserve → pay → commit → confirmed, or release → cancelled). */
import { randomUUID } from "node:crypto";
import { FunctionError, defineFunction, type Context } from "../../runtime/index.ts";
import common from "../../schemas/common.json" with { type: "json" };
import orderSchema from "../../schemas/order.json" with { type: "json" };
import request from "../../schemas/create_order.request.json" with { type: "json" };
import response from "../../schemas/create_order.response.json" with { type: "json" };
import type { CreateOrderRequest, CreateOrderResponse } from "../../schemas/types.ts";
import { type OrderRecord, isFinal, orderView } from "../_shared/order-record.ts";
import { priceOrder } from "../_shared/order-pricing.ts";
import { type StoredOrder, createOrder, loadOrder, openOrdersBucket, ordersStore } from "../_shared/order-store.ts";
import { recoverOrders } from "../_shared/saga-recovery.ts";
import { driveOrder } from "../_shared/saga-steps.ts";
import { fingerprint, stableUuid } from "../_shared/saga-ids.ts";
import { recoverySettings } from "./recovery-settings.ts";
import { PAYMENTS_BUCKET } from "../_shared/payment-store.ts";
import { OPEN_ORDERS_BUCKET, ORDERS_BUCKET } from "../_shared/order-record.ts";

export default defineFunction<CreateOrderRequest, CreateOrderResponse>({
  name: "create_order",
  version: "1.0.0",
  description: "Places an order: reserves stock, charges the payment method, commits; replies confirmed or cancelled",
  request,
  response,
  kv: [ORDERS_BUCKET, OPEN_ORDERS_BUCKET, PAYMENTS_BUCKET],
  emits: ["order.created", "order.confirmed", "order.cancelled", "payment.refunded"],
  sharedSchemas: [common, orderSchema],
  auth: { scopes: ["orders:write"] },
  calls: ["check_inventory", "reserve_stock", "process_payment", "commit_stock", "release_stock"],
  limits: { timeoutMs: 10_000, maxInFlight: 512 },
  timers: [
    {
      name: "recover-orders",
      // Getters: NFN_ORDER_RECOVERY_* set before the host starts are honoured, also in tests.
      get everyMs() {
        return recoverySettings(process.env).everyMs;
      },
      async run(ctx) {
        await recoverOrders(ctx, { graceMs: recoverySettings(process.env).graceMs });
      },
    },
  ],
  async handler(input, ctx) {
    const customerId = ctx.caller?.sub;
    if (!customerId) throw new FunctionError(401, "create_order needs a verified caller: send Authorization: Bearer <jwt>");
    const key = ctx.header("Idempotency-Key");
    if (key !== undefined && key.length > 255)
      throw new FunctionError(400, "Idempotency-Key is longer than 255 characters", [{ path: "", message: "Idempotency-Key too long" }]);
    const requestFingerprint = fingerprint(input);
    // With a key, the order id is derived from (customer, key): storing the order is the idempotency lock.
    const orderId = key === undefined ? randomUUID() : stableUuid("order", customerId, key);
    const orders = ordersStore(ctx);
    if (key !== undefined) {
      const existing = await loadOrder(orders, orderId);
      if (existing) return replay(existing, requestFingerprint);
    }
    const open = await openOrdersBucket(ctx);
    // Indexed as open before it exists, so that no crash can leave an order recovery cannot find.
    const [{ lines, totalCents }] = await Promise.all([priceOrder(ctx, input.items), open.put(orderId, String(Date.now()))]);
    const now = new Date().toISOString();
    const record: OrderRecord = {
      orderId,
      customerId,
      status: "pending",
      step: "created",
      items: lines,
      totalCents,
      currency: "EUR",
      paymentMethod: input.paymentMethod,
      requestFingerprint,
      ...(key === undefined ? {} : { idempotencyKey: key }),
      createdAt: now,
      updatedAt: now,
    };
    const created = await createOrder(orders, record);
    if (!created) {
      const existing = await loadOrder(orders, orderId);
      if (!existing) throw new FunctionError(409, `order ${orderId} is being created by a concurrent request; retry`);
      return replay(existing, requestFingerprint);
    }
    await emitCreated(ctx, record);
    const final = await driveOrder(ctx, orders, created);
    return orderView(final.order);
  },
});

function replay(existing: StoredOrder, requestFingerprint: string): CreateOrderResponse {
  const { order } = existing;
  if (order.requestFingerprint !== requestFingerprint) {
    throw new FunctionError(422, "this Idempotency-Key was already used with a different order; use a new key for a new order");
  }
  if (!isFinal(order)) throw new FunctionError(409, "an order with this Idempotency-Key is still in progress; retry in a moment");
  return orderView(order);
}

async function emitCreated(ctx: Context, order: OrderRecord): Promise<void> {
  await ctx.emit("order.created", order.orderId, { ...orderView(order) }, { eventId: stableUuid("order.created", order.orderId) });
}
