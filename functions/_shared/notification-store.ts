/** Customer notifications in KV: one record per (order, event type), so a redelivered event notifies nobody twice. */
import { type Context, type Keyed, type RetentionLimits, kvKey, kvRetention } from "../../runtime/index.ts";

/** KV bucket of notifications. */
export const NOTIFICATIONS_BUCKET = "notifications";

/** Default limits of the notifications bucket (`NFN_NOTIFICATIONS_*`): 30 days (longer than any redelivery), 256 MiB. */
export const NOTIFICATIONS_RETENTION: RetentionLimits = { maxAgeMs: 30 * 86_400_000, maxBytes: 256 * 1024 ** 2, history: 1 };

/** The notifications as keyed records, under the keys `notificationKey` makes (already encoded). */
export function notificationsStore(ctx: Pick<Context, "keyed">): Keyed<NotificationRecord> {
  return ctx.keyed<NotificationRecord>(NOTIFICATIONS_BUCKET, {
    bucket: kvRetention(NOTIFICATIONS_BUCKET, NOTIFICATIONS_RETENTION),
    keyOf: (key) => key,
  });
}

/** One notification sent (or being sent) to a customer. */
export interface NotificationRecord {
  orderId: string;
  customerId: string;
  eventType: string;
  sourceEventId: string;
  channel: "email";
  message: string;
  status: "recorded" | "sent";
  recordedAt: string;
}

// An event type such as `order.confirmed` is kept readable; anything else is encoded like an id.
const DOTTED_TOKENS = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;

/**
 * The KV key of the notification for `orderId` about `eventType`: `kvKey(orderId)` (which never
 * holds a dot) then the event type, so two different pairs never share a key.
 */
export function notificationKey(orderId: string, eventType: string): string {
  return `${kvKey(orderId)}.${DOTTED_TOKENS.test(eventType) ? eventType : kvKey(eventType)}`;
}

/** The text a customer receives for an order event. */
export function notificationText(
  eventType: string,
  order: { orderId: string; totalCents?: unknown; currency?: unknown; cancelReason?: unknown },
): string {
  if (eventType === "order.confirmed") {
    const total =
      typeof order.totalCents === "number" ? ` (${(order.totalCents / 100).toFixed(2)} ${String(order.currency ?? "EUR")})` : "";
    return `Your order ${order.orderId} is confirmed${total}. Thank you for shopping local in Jaén!`;
  }
  const reason = typeof order.cancelReason === "string" ? order.cancelReason.replace(/_/g, " ") : "an unknown reason";
  const money = order.cancelReason === "reservation_expired" ? "Your payment has been refunded." : "You have not been charged.";
  return `Your order ${order.orderId} was cancelled: ${reason}. ${money}`;
}
