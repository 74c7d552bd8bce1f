/** The order as stored in KV: what get_order reads and create_order replies (the saga's progress lives in its durable journal). */

/** KV bucket of orders, keyed by orderId. */
export const ORDERS_BUCKET = "orders";

/** One line of an order, priced from the catalog when the order was made. */
export interface OrderLine {
  sku: string;
  quantity: number;
  priceCents: number;
}

/** Why an order was cancelled. */
export type CancelReason = "out_of_stock" | "payment_declined" | "reservation_expired";

/** The stored order. */
export interface OrderRecord {
  orderId: string;
  customerId: string;
  status: "pending" | "confirmed" | "cancelled";
  cancelReason?: CancelReason;
  items: OrderLine[];
  totalCents: number;
  currency: string;
  paymentMethod: string;
  paymentId?: string;
  /** sha256 of the canonical request, to tell an idempotent repeat from a different payload. */
  requestFingerprint: string;
  idempotencyKey?: string;
  createdAt: string;
  updatedAt: string;
}

/** What create_order and get_order reply (README: The marketplace). */
export interface OrderView {
  orderId: string;
  customerId: string;
  status: OrderRecord["status"];
  cancelReason?: CancelReason;
  items: OrderLine[];
  totalCents: number;
  currency: string;
  paymentId?: string;
  createdAt: string;
  updatedAt: string;
}

/** The client's view of a stored order. */
export function orderView(o: OrderRecord): OrderView {
  const view: OrderView = {
    orderId: o.orderId,
    customerId: o.customerId,
    status: o.status,
    items: o.items,
    totalCents: o.totalCents,
    currency: o.currency,
    createdAt: o.createdAt,
    updatedAt: o.updatedAt,
  };
  if (o.cancelReason) view.cancelReason = o.cancelReason;
  if (o.paymentId) view.paymentId = o.paymentId;
  return view;
}

/** True when the saga has nothing left to do for `o`. */
export function isFinal(o: Pick<OrderRecord, "status">): boolean {
  return o.status === "confirmed" || o.status === "cancelled";
}

/** Reads a stored order; undefined when the value is not one. */
export function parseOrderRecord(value: unknown): OrderRecord | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const o = value as Partial<OrderRecord>;
  if (typeof o.orderId !== "string" || typeof o.customerId !== "string" || !Array.isArray(o.items)) return undefined;
  if (o.status !== "pending" && o.status !== "confirmed" && o.status !== "cancelled") return undefined;
  return o as OrderRecord;
}
