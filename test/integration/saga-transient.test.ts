/**
 * A transient failure never ends an order: create_order answers 503 while reserve_stock has no
 * responders, the order stays pending and its invocation open, and once the stock and payment
 * functions are back another pass resumes it to confirmed, charged once.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import commitStock from "../../functions/commit_stock/index.ts";
import checkInventory from "../../functions/check_inventory/index.ts";
import createOrder from "../../functions/create_order/index.ts";
import getOrder from "../../functions/get_order/index.ts";
import processPayment from "../../functions/process_payment/index.ts";
import putProduct from "../../functions/put_product/index.ts";
import releaseStock from "../../functions/release_stock/index.ts";
import reserveStock from "../../functions/reserve_stock/index.ts";
import verifyToken from "../../functions/verify_token/index.ts";
import { stableUuid } from "../../functions/_shared/saga-ids.ts";
import { configFromEnv } from "../../runtime/config.ts";
import type { FunctionDefinition } from "../../runtime/define-function.ts";
import { startHost } from "../../runtime/host.ts";
import { RunsAdmin } from "../../runtime/index.ts";
import { Journal } from "../../runtime/durable/journal.ts";
import { createLogger } from "../../runtime/logger.ts";
import { Cleanup, eventually } from "../helpers/nats.ts";
import { type Marketplace, readEvents, startMarketplace } from "../fixtures/marketplace.ts";

const SKU = "aceituna-transient-1kg";

void describe("create_order after a transient failure", () => {
  const hooks = new Cleanup();
  let m: Marketplace;
  after(() => hooks.run());
  before(async () => {
    m = await startMarketplace(hooks, {
      functions: [verifyToken, putProduct, checkInventory, createOrder, getOrder] as FunctionDefinition[],
      env: { NFN_DURABLE_LEASE_MS: "300", NFN_DURABLE_POLL_MS: "100" },
    });
    await m.seed([{ sku: SKU, priceCents: 450, onHand: 10 }]);
  });

  void it("leaves the order pending on 503 and resumes it to confirmed once reserve_stock is back, never cancelling it", async () => {
    const headers = { Authorization: `Bearer ${m.tokens.customer}`, "Idempotency-Key": "transient-1" };
    const body = { items: [{ sku: SKU, quantity: 3 }], paymentMethod: "pm_card_visa" };
    const first = await m.call("create_order", body, headers);
    assert.equal(first.code, 503);
    const orderId = stableUuid("order", "customer-1", "transient-1");
    const orders = await m.host.state.kv("orders");
    assert.equal((await orders.get(orderId))?.json<{ status: string }>().status, "pending");
    const admin = await RunsAdmin.open(m.nc);
    const open = await admin.show(orderId, "create_order");
    assert.equal(open.status, "running", "the invocation stays open, not failed");
    const record = await (await Journal.open(m.nc, m.host.state)).getOpen("create_order", orderId);
    assert.equal(record?.value.lastError?.code, 503, "the open record keeps the transient error it stopped at");

    // The missing functions come up in a second host; the recovery loop resumes the order.
    const rest = await startHost([reserveStock, releaseStock, commitStock, processPayment] as FunctionDefinition[], {
      config: configFromEnv({ NATS_URL: m.server.url }),
      log: createLogger({}, "silent"),
    });
    hooks.after(() => rest.stop(1000));
    // 30 s: the resumed run may first meet the second host while it is still starting; the journal says where it stood.
    const order = await eventually(
      async () => {
        const o = (await orders.get(orderId))?.json<{ status: string; cancelReason?: string }>();
        return o && o.status !== "pending" && o;
      },
      30_000,
      "the order to settle",
    ).catch(async (err: unknown) => {
      const journal = await admin.show(orderId, "create_order").catch((e: unknown) => String(e));
      throw new Error(`${String(err)}; the invocation: ${JSON.stringify(journal).slice(0, 2000)}`);
    });
    assert.equal(order.status, "confirmed");
    assert.equal(order.cancelReason, undefined);
    assert.deepEqual(await m.stock(SKU), { onHand: 7, reserved: 0, sold: 3 });
    assert.equal((await readEvents(m.nc, "events.payment.succeeded", (e) => e.aggregateId === orderId)).length, 1);
    const replay = await eventually(
      async () => {
        const r = await m.call("create_order", body, headers);
        return r.code === undefined && r;
      },
      10_000,
      "the replay of the ended invocation",
    );
    assert.equal((replay.body as { status: string }).status, "confirmed");
  });
});
