/** notify_customer: tells the customer about a confirmed or cancelled order, exactly once per order and event type. */
import { FunctionError, defineFunction, type Context, type DomainEvent } from "../../runtime/index.ts";
import request from "../../schemas/notify_customer.request.json" with { type: "json" };
import response from "../../schemas/notify_customer.response.json" with { type: "json" };
import { type NotificationRecord, notificationKey, notificationText, notificationsBucket } from "../_shared/notification-store.ts";
import { isRevisionConflict, stableUuid } from "../_shared/saga-ids.ts";
import { NOTIFICATIONS_BUCKET } from "../_shared/notification-store.ts";

/** The order events this function reacts to. */
export const NOTIFY_ON = ["order.confirmed", "order.cancelled"];

export default defineFunction<Record<string, never>, Record<string, never>>({
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

/** Records the notification (kv.create: a second delivery finds it) and emits notification.sent with a stable id. */
export async function notify(event: DomainEvent, ctx: Context): Promise<NotificationRecord> {
  const data = event.eventData;
  const orderId = typeof data.orderId === "string" ? data.orderId : event.aggregateId;
  const customerId = typeof data.customerId === "string" ? data.customerId : "unknown";
  const kv = await notificationsBucket(ctx);
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
  let record = fresh;
  let revision: number;
  try {
    revision = await kv.create(key, JSON.stringify(fresh));
  } catch (err) {
    if (!isRevisionConflict(err)) throw err;
    const entry = await kv.get(key);
    if (!entry || entry.operation !== "PUT") throw new Error(`notification ${key} disappeared while being recorded`, { cause: err });
    record = entry.json<NotificationRecord>();
    if (record.status === "sent") return record; // delivered twice: the first delivery did everything
    revision = entry.revision;
  }
  // A stable event id: if a crash came between emit and the update below, the retry's emit is stored once.
  await ctx.emit(
    "notification.sent",
    orderId,
    { orderId, customerId: record.customerId, channel: record.channel, about: record.eventType, message: record.message },
    { eventId: stableUuid("notification.sent", key) },
  );
  const sent: NotificationRecord = { ...record, status: "sent" };
  try {
    await kv.update(key, JSON.stringify(sent), revision);
  } catch (err) {
    if (!isRevisionConflict(err)) throw err; // a concurrent delivery marked it sent first
  }
  return sent;
}
