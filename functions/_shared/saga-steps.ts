/**
 * The create_order saga as a state machine over the stored order: each step calls one idempotent
 * function (reserve, pay, commit, release are all idempotent per orderId) and then records its
 * outcome with a CAS. The request and recovery run the same code, so either can finish an order.
 */
import { type Context, isFunctionError } from "../../runtime/index.ts";
import type { ProcessPaymentResponse } from "../../schemas/types.ts";
import { callFn } from "./call-fn.ts";
import { type OrderRecord, isFinal, orderView } from "./order-record.ts";
import { type KV, type StoredOrder, openOrdersBucket, transition } from "./order-store.ts";
import { refundPayment } from "./payment-refund.ts";
import { crashPoint } from "./saga-crash.ts";
import { stableUuid } from "./saga-ids.ts";

/** How the saga is being run. */
export interface DriveOptions {
  /** Recovery of an order someone else started: re-check a reservation that may have expired meanwhile. */
  recovering?: boolean;
}

/** Runs the saga from the order's recorded step until it is confirmed or cancelled. */
export async function driveOrder(ctx: Context, kv: KV, start: StoredOrder, options: DriveOptions = {}): Promise<StoredOrder> {
  let current = start;
  // Every step moves the order forward or adopts a state someone else wrote; 8 bounds a livelock.
  for (let i = 0; i < 8 && !isFinal(current.order); i++) current = await runStep(ctx, kv, current, options);
  if (!isFinal(current.order)) throw new Error(`order ${current.order.orderId} did not settle (at step ${current.order.step})`);
  await closeOrder(ctx, current.order);
  return current;
}

/** Emits the order's final event (stable id: a repeat is stored once) and drops it from the open index. */
export async function closeOrder(ctx: Context, order: OrderRecord): Promise<void> {
  const type = order.status === "confirmed" ? "order.confirmed" : "order.cancelled";
  const emitting = ctx.emit(type, order.orderId, { ...orderView(order) }, { eventId: stableUuid(type, order.orderId) });
  // The event and the index entry do not depend on each other: one round trip for both.
  const open = await openOrdersBucket(ctx);
  await Promise.all([emitting, open.delete(order.orderId)]);
}

async function runStep(ctx: Context, kv: KV, current: StoredOrder, options: DriveOptions): Promise<StoredOrder> {
  const o = current.order;
  switch (o.step) {
    case "created":
      return reserve(ctx, kv, current);
    case "reserved":
      if (options.recovering && !(await reservationHolds(ctx, o)))
        return transition(kv, current, { step: "releasing", cancelReason: "reservation_expired" });
      return pay(ctx, kv, current);
    case "paid":
      // Written by earlier versions, which recorded the payment before committing.
      return commit(ctx, kv, current, o.paymentId);
    case "releasing":
      await callFn(ctx, "release_stock", { orderId: o.orderId });
      return transition(kv, current, { status: "cancelled", step: "done" });
    case "done":
      throw new Error(`order ${o.orderId} is at step done but ${o.status}`);
  }
}

async function reserve(ctx: Context, kv: KV, current: StoredOrder): Promise<StoredOrder> {
  const o = current.order;
  try {
    await callFn(ctx, "reserve_stock", { orderId: o.orderId, items: o.items.map(({ sku, quantity }) => ({ sku, quantity })) });
  } catch (err) {
    // Short or unknown stock: nothing was reserved (all or nothing), but release anyway so that a
    // concurrent recovery's reserve for this order can no longer succeed.
    if (isStockRefusal(err)) return transition(kv, current, { step: "releasing", cancelReason: refusalReason(err) });
    throw err;
  }
  crashPoint("after_reserve");
  // Recording "reserved" and asking for the payment overlap: both are idempotent, and a crash
  // before the record lands only makes recovery reserve again, which returns the same reservation.
  const [recorded, payment] = await Promise.all([transition(kv, current, { step: "reserved" }), settle(requestPayment(ctx, o))]);
  if (!recorded.won) return recorded; // someone else moved the order: continue from their state
  return afterPayment(ctx, kv, recorded, payment);
}

async function pay(ctx: Context, kv: KV, current: StoredOrder): Promise<StoredOrder> {
  return afterPayment(ctx, kv, current, await settle(requestPayment(ctx, current.order)));
}

function requestPayment(ctx: Context, o: OrderRecord): Promise<ProcessPaymentResponse> {
  return callFn(ctx, "process_payment", {
    orderId: o.orderId,
    amountCents: o.totalCents,
    currency: o.currency,
    method: o.paymentMethod,
  });
}

async function afterPayment(ctx: Context, kv: KV, current: StoredOrder, payment: Settled<ProcessPaymentResponse>): Promise<StoredOrder> {
  if (payment.ok) {
    crashPoint("after_pay");
    // Straight on to the commit: a crash before the order records it is recovered from `reserved`,
    // where paying again returns this same payment (one charge per order) and committing again is a no-op.
    return commit(ctx, kv, current, payment.value.paymentId);
  }
  if (isFunctionError(payment.error) && payment.error.code === 402)
    return transition(kv, current, { step: "releasing", cancelReason: "payment_declined" });
  throw payment.error;
}

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

function settle<T>(work: Promise<T>): Promise<Settled<T>> {
  return work.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

async function commit(ctx: Context, kv: KV, current: StoredOrder, paymentId: string | undefined): Promise<StoredOrder> {
  const o = current.order;
  crashPoint("before_commit");
  try {
    await callFn(ctx, "commit_stock", { orderId: o.orderId });
  } catch (err) {
    // The reservation expired and was released before we could commit it: the goods are gone,
    // so the customer gets the money back and the order is cancelled.
    if (isFunctionError(err) && (err.code === 404 || err.code === 409)) {
      await refundPayment(ctx, o.orderId);
      return transition(kv, current, { step: "releasing", cancelReason: "reservation_expired", ...(paymentId ? { paymentId } : {}) });
    }
    throw err;
  }
  return transition(kv, current, { status: "confirmed", step: "done", ...(paymentId ? { paymentId } : {}) });
}

// reserve_stock is idempotent per orderId: asking again returns the live reservation, or fails when
// it was released (expiry or compensation) in the meantime.
async function reservationHolds(ctx: Context, o: OrderRecord): Promise<boolean> {
  try {
    await callFn(ctx, "reserve_stock", { orderId: o.orderId, items: o.items.map(({ sku, quantity }) => ({ sku, quantity })) });
    return true;
  } catch (err) {
    if (isStockRefusal(err)) return false;
    throw err;
  }
}

// 404 (unknown sku) and 409 (short, released, other lines) refuse the reservation for good; a
// reservation still being made or settled elsewhere answers 503, which is transient: the order
// stays pending for the next attempt or recovery.
// A reservation that expired, or whose maker died, was released: its stock was not short.
function refusalReason(err: unknown): "out_of_stock" | "reservation_expired" {
  const reason = isFunctionError(err) ? err.details?.[0]?.reason : undefined;
  return reason === "expired" || reason === "abandoned" ? "reservation_expired" : "out_of_stock";
}

function isStockRefusal(err: unknown): boolean {
  return isFunctionError(err) && (err.code === 404 || err.code === 409);
}
