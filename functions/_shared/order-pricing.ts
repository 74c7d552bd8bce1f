/** Prices an order from the catalog (the inventory view), so a client never sets its own prices. */
import { type Context, FunctionError } from "../../runtime/index.ts";
import { inventoryView } from "./inventory-store.ts";
import type { OrderLine } from "./order-record.ts";

/**
 * Lines with catalog prices and their total; 404 naming the skus the catalog does not know. The
 * prices come from the local view of the catalog (no round trip); a price changed in the last few
 * ms may not be seen yet, which is the same as the order arriving a moment earlier. Stock is not
 * checked here: reserve_stock decides that on the latest record.
 */
export async function priceOrder(
  ctx: Context,
  items: { sku: string; quantity: number }[],
): Promise<{ lines: OrderLine[]; totalCents: number }> {
  const catalog = inventoryView(ctx);
  const priceOf = new Map<string, number>();
  await Promise.all(
    [...new Set(items.map((i) => i.sku))].map(async (sku) => {
      const rec = await catalog.get(sku);
      if (rec && typeof rec.priceCents === "number") priceOf.set(sku, rec.priceCents);
    }),
  );
  const unknown = [...new Set(items.filter((i) => !priceOf.has(i.sku)).map((i) => i.sku))];
  if (unknown.length > 0) {
    throw new FunctionError(
      404,
      `unknown sku ${unknown.slice(0, 5).join(", ")}: check the catalog`,
      unknown.slice(0, 5).map((sku) => ({ sku })),
    );
  }
  const lines = items.map(({ sku, quantity }) => ({ sku, quantity, priceCents: priceOf.get(sku) ?? 0 }));
  return { lines, totalCents: lines.reduce((sum, l) => sum + l.priceCents * l.quantity, 0) };
}
