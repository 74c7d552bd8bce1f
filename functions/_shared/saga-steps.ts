/**
 * The steps of the create_order saga, each the body of one journaled `ctx.step`: the order's
 * progress is the durable journal, so these only do their one call and say how it went. Every call
 * is idempotent per orderId, so a step run again after a crash (before its record landed) is harmless.
 * Business refusals are results (journaled, never retried); a transient error is thrown, so the
 * step is not journaled and the invocation is resumed later.
 */
import { type Context, FunctionError, isFunctionError } from "../../runtime/index.ts";
import { callFn } from "./call-fn.ts";
import { type CancelReason, type OrderRecord, orderView } from "./order-record.ts";
import { priceOrder } from "./order-pricing.ts";
import { finishOrder, ordersStore, storeNewOrder } from "./order-store.ts";
import { fingerprint, stableUuid } from "./saga-ids.ts";

/** How a step that can be refused went. */
export type StepOutcome = { ok: true } | { ok: false; reason: CancelReason };
/** How the payment step went. */
export type PaymentOutcome = { ok: true; paymentId: string } | { ok: false; reason: CancelReason };

/** What the order is made of: the request, its caller and the order's id. */
export interface OrderRequest {
  orderId: string;
  customerId: string;
  items: { sku: string; quantity: number }[];
  paymentMethod: string;
  idempotencyKey?: string;
}

/** Prices the order from the catalog, stores it pending and emits `order.created` (stable id). */
export async function placeOrder(ctx: Context, req: OrderRequest): Promise<OrderRecord> {
  const { lines, totalCents } = await priceOrder(ctx, req.items);
  const now = new Date().toISOString();
  const draft: OrderRecord = {
    orderId: req.orderId,
    customerId: req.customerId,
    status: "pending",
    items: lines,
    totalCents,
    currency: "EUR",
    paymentMethod: req.paymentMethod,
    requestFingerprint: fingerprint({ items: req.items, paymentMethod: req.paymentMethod }),
    ...(req.idempotencyKey === undefined ? {} : { idempotencyKey: req.idempotencyKey }),
    createdAt: now,
    updatedAt: now,
  };
  // The record and the event do not depend on each other: one round trip for both. A rerun (a crash
  // before the step was journaled) keeps the stored order, and the event's stable id stores it once.
  const [order] = await Promise.all([
    storeNewOrder(ordersStore(ctx), draft),
    ctx.emit("order.created", draft.orderId, { ...orderView(draft) }, { eventId: stableUuid("order.created", draft.orderId) }),
  ]);
  // The order outlives the journal's retention: a key reused after that is still told apart.
  if (order.requestFingerprint !== draft.requestFingerprint) {
    throw new FunctionError(422, "this Idempotency-Key was already used with a different order; use a new key for a new order");
  }
  return order;
}

/** Reserves every line (all or nothing); short or unknown stock is a refusal with its true reason. */
export async function reserveStock(ctx: Context, order: OrderRecord): Promise<StepOutcome> {
  try {
    await callFn(ctx, "reserve_stock", { orderId: order.orderId, items: order.items.map(({ sku, quantity }) => ({ sku, quantity })) });
    return { ok: true };
  } catch (err) {
    if (isStockRefusal(err)) return { ok: false, reason: refusalReason(err) };
    throw err;
  }
}

/**
 * Charges the order once, with the step's key as the payment's idempotency key. `recheck`: the
 * reservation was made by an earlier run, so it may have expired or been released since; then
 * nothing is charged.
 */
export async function payOrder(ctx: Context, order: OrderRecord, key: string, recheck: boolean): Promise<PaymentOutcome> {
  if (recheck) {
    const holds = await reserveStock(ctx, order);
    if (!holds.ok) return { ok: false, reason: "reservation_expired" };
  }
  try {
    const payment = await callFn(ctx, "process_payment", {
      orderId: order.orderId,
      amountCents: order.totalCents,
      currency: order.currency,
      method: order.paymentMethod,
      idempotencyKey: key,
    });
    return { ok: true, paymentId: payment.paymentId };
  } catch (err) {
    if (isFunctionError(err) && err.code === 402) return { ok: false, reason: "payment_declined" };
    throw err;
  }
}

/** Turns the reservation into a sale; refused when it expired or was released before (the goods are gone). */
export async function commitStock(ctx: Context, order: OrderRecord): Promise<StepOutcome> {
  try {
    await callFn(ctx, "commit_stock", { orderId: order.orderId });
    return { ok: true };
  } catch (err) {
    if (isStockRefusal(err)) return { ok: false, reason: "reservation_expired" };
    throw err;
  }
}

/** Compensation: gives the order's stock back (idempotent; also bars a late reserve for this order). */
export async function releaseStock(ctx: Context, order: OrderRecord): Promise<void> {
  await callFn(ctx, "release_stock", { orderId: order.orderId });
}

/** Records the order final and emits `order.confirmed` or `order.cancelled` (stable ids); a rerun keeps the first final state. */
export async function settleOrder(
  ctx: Context,
  order: OrderRecord,
  end: { status: "confirmed"; paymentId: string } | { status: "cancelled"; cancelReason: CancelReason; paymentId?: string },
): Promise<OrderRecord> {
  // The final record and its event in one round trip; the event is built from the same state the record gets.
  const updatedAt = new Date().toISOString();
  const type = end.status === "confirmed" ? "order.confirmed" : "order.cancelled";
  const next: OrderRecord = { ...order, ...end, updatedAt };
  const [final] = await Promise.all([
    finishOrder(ordersStore(ctx), order.orderId, { ...end, updatedAt }),
    ctx.emit(type, order.orderId, { ...orderView(next) }, { eventId: stableUuid(type, order.orderId) }),
  ]);
  return final;
}

/** 404 (unknown sku, no reservation) and 409 (short, released) refuse for good; 503 (still being made elsewhere) is transient. */
function isStockRefusal(err: unknown): boolean {
  return isFunctionError(err) && (err.code === 404 || err.code === 409);
}

// A refusal that names a release reason (expired, abandoned, requested) was a reservation released
// meanwhile: its stock was not short. Only a shortage (or an unknown sku) is out_of_stock.
function refusalReason(err: unknown): CancelReason {
  const reason = isFunctionError(err) ? err.details?.[0]?.reason : undefined;
  return typeof reason === "string" ? "reservation_expired" : "out_of_stock";
}

/** 401 for a handler reached without a verified caller (the runtime checks the token first). */
export function needsCaller(): FunctionError {
  return new FunctionError(401, "create_order needs a verified caller: send Authorization: Bearer <jwt>");
}
