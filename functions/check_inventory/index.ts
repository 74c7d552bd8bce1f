/** check_inventory: what could be reserved right now, with prices; reads only. */
import { defineFunction } from "../../runtime/index.ts";
import common from "../../schemas/common.json" with { type: "json" };
import request from "../../schemas/check_inventory.request.json" with { type: "json" };
import response from "../../schemas/check_inventory.response.json" with { type: "json" };
import type { CheckInventoryRequest, CheckInventoryResponse } from "../../schemas/types.ts";
import { availableOf, inventoryView } from "../_shared/inventory-store.ts";
import { mergeLines } from "../_shared/stock-reserve.ts";
import { INVENTORY_BUCKET } from "../_shared/stock-types.ts";

/** One line of the reply. */
type CheckLine = CheckInventoryResponse["items"][number];

/** The function. */
export default defineFunction<CheckInventoryRequest, CheckInventoryResponse>({
  name: "check_inventory",
  version: "1.0.0",
  description: "Tells whether each line could be reserved now (unknown sku: ok false, available 0), with its price",
  request,
  response,
  // Read only, through the local view: its identity may watch and get the bucket, never write it.
  views: [INVENTORY_BUCKET],
  sharedSchemas: [common],
  async handler(input, ctx) {
    // From the local view: what is shown may be a few ms old; reserve_stock decides on the latest record.
    const skus = inventoryView(ctx);
    // Lines naming the same sku are checked together, as reserve_stock would hold them.
    const lines = mergeLines(input.items);
    const items = await Promise.all(
      lines.map(async ({ sku, quantity }): Promise<CheckLine> => {
        const rec = await skus.get(sku);
        if (!rec) return { sku, requested: quantity, available: 0, ok: false };
        const available = Math.max(0, availableOf(rec));
        return {
          sku,
          requested: quantity,
          available,
          ok: available >= quantity,
          priceCents: rec.priceCents,
          currency: rec.currency,
          name: rec.name,
        };
      }),
    );
    return { available: items.every((i) => i.ok), items };
  },
});
