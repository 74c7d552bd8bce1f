/** commit_stock: turns an order's reservation into a sale (onHand and reserved both go down); idempotent. */
import { defineFunction } from "../../runtime/index.ts";
import common from "../../schemas/common.json" with { type: "json" };
import request from "../../schemas/commit_stock.request.json" with { type: "json" };
import response from "../../schemas/commit_stock.response.json" with { type: "json" };
import type { CommitStockRequest, CommitStockResponse } from "../../schemas/types.ts";
import { commitReservation } from "../_shared/stock-settle.ts";
import { openStockStore } from "../_shared/stock-store.ts";
import { INVENTORY_BUCKET, RESERVATIONS_BUCKET } from "../_shared/stock-types.ts";

/** The function. */
export default defineFunction<CommitStockRequest, CommitStockResponse>({
  name: "commit_stock",
  version: "1.0.0",
  visibility: "internal",
  description: "Commits the stock reserved for an order as sold; idempotent; 404 when the order has no reservation",
  request,
  response,
  kv: [INVENTORY_BUCKET, RESERVATIONS_BUCKET],
  // Any of them may finish a reservation another left half made (a takeover): every stock event.
  emits: ["stock.reserved", "inventory.low_stock", "stock.committed", "stock.released"],
  sharedSchemas: [common],
  async handler(input, ctx) {
    const store = await openStockStore(ctx);
    const r = await commitReservation(store, input.orderId);
    return { orderId: r.orderId, status: "committed" };
  },
});
