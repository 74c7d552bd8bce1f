/** release_stock: gives an order's reserved stock back (saga compensation); idempotent; leaves a tombstone when nothing was reserved yet. */
import { defineFunction } from "../../runtime/index.ts";
import common from "../../schemas/common.json" with { type: "json" };
import request from "../../schemas/release_stock.request.json" with { type: "json" };
import response from "../../schemas/release_stock.response.json" with { type: "json" };
import type { ReleaseStockRequest, ReleaseStockResponse } from "../../schemas/types.ts";
import { releaseReservation } from "../_shared/stock-settle.ts";
import { openStockStore } from "../_shared/stock-store.ts";
import { INVENTORY_BUCKET, RESERVATIONS_BUCKET } from "../_shared/stock-types.ts";

/** The function. */
export default defineFunction<ReleaseStockRequest, ReleaseStockResponse>({
  name: "release_stock",
  version: "1.0.0",
  visibility: "internal",
  description: "Releases the stock reserved for an order; idempotent; a release before the reserve makes that reserve fail",
  request,
  response,
  kv: [INVENTORY_BUCKET, RESERVATIONS_BUCKET],
  // Any of them may finish a reservation another left half made (a takeover): every stock event.
  emits: ["stock.reserved", "inventory.low_stock", "stock.committed", "stock.released"],
  sharedSchemas: [common],
  async handler(input, ctx) {
    const r = await releaseReservation(await openStockStore(ctx), input.orderId, "requested");
    return { orderId: r.orderId, status: "released", reason: r.status === "rejected" ? "out_of_stock" : (r.reason ?? "requested") };
  },
});
