/**
 * Bounded storage: every stream and KV bucket the system creates has a max_age and a max_bytes,
 * and a flood of anonymous calls with fresh ids leaves nothing behind once the retention passes.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import { Cleanup, eventually } from "../helpers/nats.ts";
import { type Marketplace, startMarketplace } from "../fixtures/marketplace.ts";

// A short retention, so that the test sees the flood expire; the stores read these when created.
const SHORT = "3s";
const RETENTION_ENV = {
  NFN_EVENTS_MAX_AGE: SHORT,
  NFN_EVENTS_DLQ_MAX_AGE: SHORT,
  NFN_PAYMENTS_MAX_AGE: SHORT,
  NFN_ORDERS_MAX_AGE: SHORT,
  NFN_NOTIFICATIONS_MAX_AGE: SHORT,
  NFN_PAYMENTS_MAX_BYTES: "8MiB",
};
const FLOOD = 200;
// The catalog: a product lives until it is changed, so its bucket is bounded in bytes and history, not in age.
const KEPT_UNTIL_CHANGED = new Set(["KV_inventory"]);

async function streamBytes(jsm: JetStreamManager): Promise<Map<string, { bytes: number; messages: number }>> {
  const out = new Map<string, { bytes: number; messages: number }>();
  for await (const s of jsm.streams.list()) out.set(s.config.name, { bytes: s.state.bytes, messages: s.state.messages });
  return out;
}

const total = (m: Map<string, { bytes: number }>) => [...m.values()].reduce((n, s) => n + s.bytes, 0);

void describe("bounded storage", () => {
  const hooks = new Cleanup();
  let m: Marketplace;
  let jsm: JetStreamManager;
  after(() => hooks.run());
  before(async () => {
    m = await startMarketplace(hooks, { env: RETENTION_ENV });
    jsm = await jetstreamManager(m.nc);
    await m.seed([{ sku: "miel-limits-500g", priceCents: 650, onHand: 10 }]);
    // Touch every store: an order through the whole saga (orders, durable_runs, stock, payments, EVENTS, notifications, EVENTS_DLQ).
    const reply = await m.call(
      "create_order",
      { items: [{ sku: "miel-limits-500g", quantity: 1 }], paymentMethod: "pm_card_visa" },
      { Authorization: `Bearer ${m.tokens.customer}` },
    );
    assert.equal(reply.code, undefined, reply.errorHeader);
    await eventually(() => streamExists(jsm, "KV_notifications"), 10_000, "notify_customer recorded the notification");
  });
  after(() => {
    for (const key of Object.keys(RETENTION_ENV)) delete process.env[key];
  });

  void it("gives every created stream and bucket a max_bytes, and a max_age unless its data is kept until changed", async () => {
    const unbounded: string[] = [];
    const names: string[] = [];
    for await (const s of jsm.streams.list()) {
      const { name, max_age, max_bytes } = s.config;
      names.push(name);
      const ageOk = max_age > 0 || KEPT_UNTIL_CHANGED.has(name);
      if (!ageOk || !(max_bytes > 0)) unbounded.push(`${name} (max_age ${max_age}, max_bytes ${max_bytes})`);
    }
    for (const expected of ["EVENTS", "EVENTS_DLQ", "KV_orders", "KV_durable_runs", "KV_payments", "KV_notifications"]) {
      assert.ok(names.includes(expected), `${expected} was created (streams: ${names.join(", ")})`);
    }
    assert.deepEqual(unbounded, [], "streams without limits");
  });

  void it("honours the configured limits and keeps one revision per key", async () => {
    const payments = (await jsm.streams.info("KV_payments")).config;
    assert.equal(payments.max_age, 3_000_000_000);
    assert.equal(payments.max_bytes, 8 * 1024 * 1024);
    assert.equal(payments.max_msgs_per_subject, 1);
    const events = (await jsm.streams.info("EVENTS")).config;
    assert.equal(events.max_age, 3_000_000_000);
    assert.ok(events.duplicate_window <= events.max_age, "the duplicate window fits in max_age");
  });

  void it(`leaves no payment or event of ${FLOOD} anonymous calls with fresh orderIds once the retention passes`, async () => {
    const before = await streamBytes(jsm);
    for (let i = 0; i < FLOOD; i += 20) {
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          // The pair of the attack: a release (which marks the id released) and a payment, for an order that never existed.
          const orderId = `flood-${randomUUID()}`;
          await m.call("release_stock", { orderId });
          await m.call("process_payment", { orderId, amountCents: 100, currency: "EUR", method: "pm_card_visa" });
        }),
      );
    }
    const flooded = await streamBytes(jsm);
    const added = total(flooded) - total(before);
    assert.ok((flooded.get("KV_payments")?.messages ?? 0) >= FLOOD, "every call stored a payment record");
    const settled = await eventually(
      async () => {
        const now = await streamBytes(jsm);
        return (now.get("KV_payments")?.messages ?? 1) === 0 && (now.get("EVENTS")?.messages ?? 1) === 0 && now;
      },
      30_000,
      "the flood to expire",
    );
    console.log(
      `storage: +${added} bytes after ${FLOOD} release_stock + process_payment pairs with fresh ids (${Math.round(added / FLOOD)} B/id); ` +
        `${total(settled)} bytes in all streams after the ${SHORT} retention: ` +
        [...settled].map(([n, s]) => `${n}=${s.bytes}`).join(" "),
    );
    assert.equal(settled.get("KV_payments")?.bytes, 0);
    assert.equal(settled.get("EVENTS")?.bytes, 0);
  });
});

async function streamExists(jsm: JetStreamManager, name: string): Promise<boolean> {
  try {
    await jsm.streams.info(name);
    return true;
  } catch {
    return false;
  }
}
