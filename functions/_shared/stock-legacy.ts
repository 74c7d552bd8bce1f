/**
 * Sku records written by the previous stock model, which kept every open hold inside the record
 * (`holds: {orderId: {quantity, at}}`, `reserved` their sum). They are migrated on first touch: the
 * totals stay, and each hold becomes the order's `h` mark, which says exactly what the old hold said
 * (these units are held for that order; its reservation record may not say so yet). The marks carry
 * `at: 0`, so the sweeper settles them on its next pass as it does any mark a crash left: forgotten
 * for a reservation that is `reserved` (it records the hold), finished through the reservation when
 * that is in progress, given back when the order is over or unknown. A migrated record is smaller
 * than the old one, so a record over the size limit can still be migrated, and it shrinks from there.
 */
import type { StockMark, StockRecord } from "./stock-types.ts";

/** True when `rec` is in the previous model's shape (holds inside the record). */
export function isLegacySku(rec: StockRecord): boolean {
  return (rec as { holds?: unknown }).holds !== undefined;
}

/** `rec` in the current shape: itself when it is already, else its holds as marks and `reserved` as their sum. */
export function fromLegacySku(rec: StockRecord): StockRecord {
  if (!isLegacySku(rec)) return rec;
  const { holds, ...rest } = rec as StockRecord & { holds?: unknown };
  const marks: StockMark[] = [...(Array.isArray(rest.marks) ? rest.marks : [])];
  let reserved = 0;
  if (typeof holds === "object" && holds !== null) {
    for (const [orderId, hold] of Object.entries(holds)) {
      const q = typeof hold === "object" && hold !== null ? (hold as { quantity?: unknown }).quantity : undefined;
      // A hold that is not a positive count of units holds nothing.
      if (typeof q !== "number" || !Number.isInteger(q) || q <= 0) continue;
      if (!marks.some((m) => m.o === orderId)) marks.push({ o: orderId, p: "h", q, at: 0 });
      reserved += q;
    }
  }
  return { ...rest, reserved, marks };
}
