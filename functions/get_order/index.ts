/** get_order: an order by id, for its customer (or anyone with scope orders:admin). */
import { FunctionError, clipInput, defineFunction, type Caller } from "../../runtime/index.ts";
import common from "../../schemas/common.json" with { type: "json" };
import orderSchema from "../../schemas/order.json" with { type: "json" };
import request from "../../schemas/get_order.request.json" with { type: "json" };
import response from "../../schemas/get_order.response.json" with { type: "json" };
import type { GetOrderRequest, GetOrderResponse } from "../../schemas/types.ts";
import { type OrderRecord, orderView } from "../_shared/order-record.ts";
import { loadOrder, ordersStore } from "../_shared/order-store.ts";
import { ORDERS_BUCKET } from "../_shared/order-record.ts";

/** Scope that lets support staff read every customer's orders. */
export const ORDERS_ADMIN_SCOPE = "orders:admin";

export default defineFunction<GetOrderRequest, GetOrderResponse>({
  name: "get_order",
  version: "1.0.0",
  description: "Returns an order; 404 when it does not exist, 403 when it belongs to another customer (unless orders:admin)",
  request,
  response,
  kv: [ORDERS_BUCKET],
  sharedSchemas: [common, orderSchema],
  auth: {},
  async handler(input, ctx) {
    const stored = await loadOrder(ordersStore(ctx), input.orderId);
    const id = clipInput(input.orderId);
    if (!stored) throw new FunctionError(404, `order ${id} not found: check the orderId create_order returned`);
    if (!mayRead(ctx.caller, stored.order)) {
      // Same wording whoever owns it: a 403 must not reveal anything about someone else's order.
      throw new FunctionError(403, `order ${id} belongs to another customer; reading it needs scope ${ORDERS_ADMIN_SCOPE}`);
    }
    return orderView(stored.order);
  },
});

/**
 * The owner check: the caller's `sub` is exactly the order's customer (no case folding, no
 * trimming, never an empty or missing one), or the caller holds exactly the scope orders:admin.
 */
export function mayRead(caller: Caller | undefined, order: Pick<OrderRecord, "customerId">): boolean {
  if (!caller || typeof caller.sub !== "string" || caller.sub === "") return false;
  if (Array.isArray(caller.scopes) && caller.scopes.some((s) => s === ORDERS_ADMIN_SCOPE)) return true;
  return typeof order.customerId === "string" && order.customerId !== "" && order.customerId === caller.sub;
}
