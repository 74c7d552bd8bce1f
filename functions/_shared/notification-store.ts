/** Customer notifications in KV: one record per (order, event type), so a redelivered event notifies nobody twice. */

/** KV bucket of notifications. */
export const NOTIFICATIONS_BUCKET = "notifications";

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

/** The KV key of the notification for `orderId` about `eventType` (KV keys allow dots). */
export function notificationKey(orderId: string, eventType: string): string {
  return `${orderId}.${eventType}`;
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
