/** notify_customer: tells the customer about a confirmed or cancelled order, exactly once per order and event type. */
import { FunctionError, defineFunction, type Context, type DomainEvent } from "../../runtime/index.ts";
import request from "../../schemas/notify_customer.request.json" with { type: "json" };
import response from "../../schemas/notify_customer.response.json" with { type: "json" };
import type { NotifyCustomerRequest, NotifyCustomerResponse } from "../../schemas/types.ts";
import {
  type NotificationRecord,
  notificationKey,
  notificationText,
  notificationsStore,
  NOTIFICATIONS_BUCKET,
} from "../_shared/notification-store.ts";
import { stableUuid } from "../_shared/saga-ids.ts";

/** The order events this function reacts to. */
export const NOTIFY_ON = ["order.confirmed", "order.cancelled"];

export default defineFunction<NotifyCustomerRequest, NotifyCustomerResponse>({
  name: "notify_customer",
  version: "1.0.0",
  description:
    "Records a customer notification and emits notification.sent once per order event (triggered by order.confirmed/order.cancelled)",
  request,
  response,
  kv: [NOTIFICATIONS_BUCKET],
  emits: ["notification.sent"],
  endpoint: false,
  trigger: { events: NOTIFY_ON, maxDeliveries: 5, backoffMs: [200, 1000, 5000] },
  handler() {
    throw new FunctionError(404, "notify_customer has no request endpoint; it runs on order events");
  },
  async onEvent(event, ctx) {
    await notify(event, ctx);
  },
});

/** Records the notification (a keyed update: a second delivery finds it) and emits notification.sent with a stable id. */
export async function notify(event: DomainEvent, ctx: Context): Promise<NotificationRecord> {
  const data = event.eventData;
  const orderId = typeof data.orderId === "string" ? data.orderId : event.aggregateId;
  const customerId = typeof data.customerId === "string" ? data.customerId : "unknown";
  const notifications = notificationsStore(ctx);
  const key = notificationKey(orderId, event.eventType);
  const fresh: NotificationRecord = {
    orderId,
    customerId,
    eventType: event.eventType,
    sourceEventId: event.eventId,
    channel: "email",
    message: notificationText(event.eventType, { ...data, orderId }),
    status: "recorded",
    recordedAt: new Date().toISOString(),
  };
  // Recorded once: a second delivery finds the first one's record.
  const record = await notifications.update<NotificationRecord>(key, (cur) => (cur ? { result: cur } : { write: fresh, result: fresh }), {
    expectNew: true,
  });
  if (record.status === "sent") return record; // delivered twice: the first delivery did everything
  // A stable event id: if a crash came between emit and the update below, the retry's emit is stored once.
  await ctx.emit(
    "notification.sent",
    orderId,
    { orderId, customerId: record.customerId, channel: record.channel, about: record.eventType, message: record.message },
    { eventId: stableUuid("notification.sent", key) },
  );
  const sent: NotificationRecord = { ...record, status: "sent" };
  // A concurrent delivery may have marked it sent first: then there is nothing to write.
  await notifications.update<undefined>(key, (cur) =>
    cur && cur.status !== "sent" ? { write: { ...cur, status: "sent" }, result: undefined } : { result: undefined },
  );
  return sent;
}
