/**
 * Prices an order from the catalog (check_inventory, which reads its local view of the inventory),
 * so a client never sets its own prices. Through the function rather than the view itself: access to
 * a bucket is read and write alike, and create_order has no business writing the inventory.
 */
import { type Context, FunctionError } from "../../runtime/index.ts";
import type { OrderLine } from "./order-record.ts";
import { callFn } from "./call-fn.ts";

/** Lines with catalog prices and their total; 404 naming the skus the catalog does not know. */
export async function priceOrder(
  ctx: Context,
  items: { sku: string; quantity: number }[],
): Promise<{ lines: OrderLine[]; totalCents: number }> {
  const inventory = await callFn(ctx, "check_inventory", { items });
  const priceOf = new Map<string, number>();
  for (const line of inventory.items) if (typeof line.priceCents === "number") priceOf.set(line.sku, line.priceCents);
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
