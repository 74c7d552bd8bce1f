/** get_order: an order by id, for its customer (or anyone with scope orders:admin). */
import { FunctionError, defineFunction } from "../../runtime/index.ts";
import common from "../../schemas/common.json" with { type: "json" };
import orderSchema from "../../schemas/order.json" with { type: "json" };
import request from "../../schemas/get_order.request.json" with { type: "json" };
import response from "../../schemas/get_order.response.json" with { type: "json" };
import { type OrderView, orderView } from "../_shared/order-record.ts";
import { loadOrder, ordersStore } from "../_shared/order-store.ts";

/** Scope that lets support staff read every customer's orders. */
export const ORDERS_ADMIN_SCOPE = "orders:admin";

export default defineFunction<{ orderId: string }, OrderView>({
  name: "get_order",
  version: "1.0.0",
  description: "Returns an order; 404 when it does not exist, 403 when it belongs to another customer (unless orders:admin)",
  request,
  response,
  sharedSchemas: [common, orderSchema],
  auth: {},
  async handler(input, ctx) {
    const stored = await loadOrder(ordersStore(ctx), input.orderId);
    if (!stored) throw new FunctionError(404, `order ${input.orderId} not found: check the orderId create_order returned`);
    const caller = ctx.caller;
    if (stored.order.customerId !== caller?.sub && !caller?.scopes.includes(ORDERS_ADMIN_SCOPE)) {
      // Same wording whoever owns it: a 403 must not reveal anything about someone else's order.
      throw new FunctionError(403, `order ${input.orderId} belongs to another customer; reading it needs scope ${ORDERS_ADMIN_SCOPE}`);
    }
    return orderView(stored.order);
  },
});
