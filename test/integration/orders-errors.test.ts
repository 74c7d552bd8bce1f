import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Cleanup } from "../helpers/nats.ts";
import { type Marketplace, startMarketplace } from "../fixtures/marketplace.ts";
import verifyToken from "../../functions/verify_token/index.ts";
import putProduct from "../../functions/put_product/index.ts";
import checkInventory from "../../functions/check_inventory/index.ts";
import createOrder from "../../functions/create_order/index.ts";
import getOrder from "../../functions/get_order/index.ts";
import type { FunctionDefinition } from "../../runtime/define-function.ts";

void describe("create_order when the marketplace is incomplete or the body too large", () => {
  const hooks = new Cleanup();
  let m: Marketplace;
  after(() => hooks.run());
  before(async () => {
    // No reserve_stock, process_payment, commit_stock or release_stock in this deployment.
    m = await startMarketplace(hooks, {
      functions: [verifyToken, putProduct, checkInventory, createOrder, getOrder] as FunctionDefinition[],
    });
    await m.seed([{ sku: "vino-jaen-750ml", priceCents: 990, onHand: 10 }]);
  });

  void it("answers 503 UNAVAILABLE when reserve_stock has no responders, and leaves the order pending for recovery", async () => {
    const reply = await m.call(
      "create_order",
      { items: [{ sku: "vino-jaen-750ml", quantity: 1 }], paymentMethod: "pm_card_visa" },
      { Authorization: `Bearer ${m.tokens.customer}`, "Idempotency-Key": "no-stock-service" },
    );
    assert.equal(reply.code, 503);
    assert.equal((reply.body as { error: { type: string } }).error.type, "UNAVAILABLE");
    assert.match(reply.errorHeader ?? "", /reserve_stock/);
    const again = await m.call(
      "create_order",
      { items: [{ sku: "vino-jaen-750ml", quantity: 1 }], paymentMethod: "pm_card_visa" },
      { Authorization: `Bearer ${m.tokens.customer}`, "Idempotency-Key": "no-stock-service" },
    );
    assert.equal(again.code, 409, "the same key is still in progress until recovery settles it");
  });

  void it("answers 413 for a body over 64 KiB before looking at the token", async () => {
    const reply = await m.call("create_order", { items: [{ sku: "x".repeat(70_000), quantity: 1 }], paymentMethod: "pm_card_visa" });
    assert.equal(reply.code, 413);
  });
});
