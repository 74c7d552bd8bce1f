/** put_product: creates or updates a product and its stock on hand (scope inventory:admin). */
import { defineFunction } from "../../runtime/index.ts";
import common from "../../schemas/common.json" with { type: "json" };
import request from "../../schemas/put_product.request.json" with { type: "json" };
import response from "../../schemas/put_product.response.json" with { type: "json" };
import type { PutProductRequest, PutProductResponse } from "../../schemas/types.ts";
import { availableOf, inventoryStore, upsertProduct } from "../_shared/inventory-store.ts";
import { INVENTORY_BUCKET } from "../_shared/stock-types.ts";

/** The function. */
export default defineFunction<PutProductRequest, PutProductResponse>({
  name: "put_product",
  version: "1.0.0",
  description: "Creates or updates a product (upsert); keeps what is reserved; 409 when onHand would go below it",
  request,
  response,
  kv: [INVENTORY_BUCKET],
  sharedSchemas: [common],
  auth: { scopes: ["inventory:admin"] },
  async handler(input, ctx) {
    const rec = await upsertProduct(inventoryStore(ctx), input);
    ctx.log.info("product stored", { sku: rec.sku, onHand: rec.onHand, by: ctx.caller?.sub });
    const { sku, name, priceCents, currency, onHand, reserved } = rec;
    return { sku, name, priceCents, currency, onHand, reserved, available: availableOf(rec) };
  },
});
