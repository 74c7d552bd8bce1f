/** reserve_stock: holds stock for an order, all lines or none; idempotent by orderId; expires. */
import { defineFunction } from "../../runtime/index.ts";
import common from "../../schemas/common.json" with { type: "json" };
import request from "../../schemas/reserve_stock.request.json" with { type: "json" };
import response from "../../schemas/reserve_stock.response.json" with { type: "json" };
import type { ReserveStockRequest, ReserveStockResponse } from "../../schemas/types.ts";
import { reserveStock } from "../_shared/stock-reserve.ts";
import { openStockStore } from "../_shared/stock-store.ts";
import { sweepReservations } from "../_shared/stock-sweeper.ts";
import { DEFAULT_TTL_SECONDS, stockSettings } from "../_shared/stock-types.ts";
import { INVENTORY_BUCKET, RESERVATIONS_BUCKET } from "../_shared/stock-types.ts";

/** The function; every instance also runs the expiry sweeper (every NFN_SWEEP_INTERVAL_MS). */
export default defineFunction<ReserveStockRequest, ReserveStockResponse>({
  name: "reserve_stock",
  version: "1.0.0",
  visibility: "internal",
  description: "Reserves stock for an order: all lines or none, never oversold, idempotent by orderId, released when it expires",
  request,
  response,
  kv: [INVENTORY_BUCKET, RESERVATIONS_BUCKET],
  emits: ["stock.reserved", "inventory.low_stock", "stock.committed", "stock.released"],
  sharedSchemas: [common],
  limits: { timeoutMs: 10_000 },
  timers: [
    {
      name: "expire-reservations",
      // A getter, so NFN_SWEEP_INTERVAL_MS set before the host starts is honoured.
      get everyMs() {
        return stockSettings().sweepIntervalMs;
      },
      async run(ctx) {
        const swept = await sweepReservations(await openStockStore(ctx));
        if (swept.expired + swept.abandoned + swept.finished + swept.orphanMarks > 0) ctx.log.info("reservations swept", { ...swept });
      },
    },
  ],
  async handler(input, ctx) {
    const store = await openStockStore(ctx);
    const r = await reserveStock(store, {
      orderId: input.orderId,
      items: input.items,
      ttlSeconds: input.ttlSeconds ?? DEFAULT_TTL_SECONDS,
    });
    return {
      orderId: r.orderId,
      status: r.status === "reserved" ? "reserved" : "committed",
      items: r.items.map(({ sku, quantity, priceCents, currency }) => ({ sku, quantity, priceCents, currency })),
      expiresAt: r.expiresAt,
    };
  },
});
