/** Every marketplace function held to its own contract (nats-functions/testing), on one fresh system with the demo catalog. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after } from "node:test";
import { type TestSystem, contractTests, startTestSystem } from "nats-functions/testing";
import { readDemoCatalog } from "../../cli/lib/demo-catalog.ts";
import { findFunctionSources } from "../../runtime/loader.ts";

const dir = join(import.meta.dirname, "../../functions");
let started: Promise<TestSystem> | undefined;

// One system for every function: create_order calls the stock and payment functions.
function system(): Promise<TestSystem> {
  started ??= (async () => {
    const sys = await startTestSystem({ dir });
    const admin = await sys.token("catalog-admin", ["inventory:admin"]);
    for (const product of readDemoCatalog()) {
      const put = await sys.invoke("put_product", product, { token: admin });
      assert.equal(put.error, undefined, `loading ${product.sku}: ${JSON.stringify(put.error)}`);
    }
    return sys;
  })();
  return started;
}
after(async () => {
  await (await started)?.stop();
});

const CALLER = { sub: "contract-test", scopes: ["orders:write"] };
let orderOfCaller: Promise<string> | undefined;

const options: Record<string, Parameters<typeof contractTests>[1]> = {
  // Committing needs a reservation of that order.
  commit_stock: {
    async setup(sys) {
      const token = await sys.token("saga", []);
      const reserved = await sys.invoke("reserve_stock", { orderId: "ord-example-commit", items: [{ sku: "AOVE-PICUAL-1L", quantity: 1 }] }, { token });
      assert.equal(reserved.error, undefined, JSON.stringify(reserved.error));
    },
  },
  // The example's order id stands for one of the caller's own orders: read one made for it.
  get_order: {
    caller: CALLER,
    async prepare(input, sys) {
      orderOfCaller ??= (async () => {
        const token = await sys.token(CALLER.sub, CALLER.scopes);
        const made = await sys.invoke("create_order", { items: [{ sku: "MIEL-ENCINA-500G", quantity: 1 }], paymentMethod: "pm_card_visa" }, { token });
        assert.ok(made.value !== undefined, JSON.stringify(made.error));
        return (made.value as { orderId: string }).orderId;
      })();
      return { ...(input as object), orderId: await orderOfCaller };
    },
  },
  // Generated products (onHand 0) must not empty the catalog the other functions' examples order from.
  put_product: {
    prepare: (input) => ({ ...(input as object), sku: `CONTRACT-${(input as { sku: string }).sku}`.slice(0, 64) }),
  },
  // A token is the input: a fresh one each time, signed with the key the system's verify_token checks.
  verify_token: {
    prepare: async (input, sys) => ({ ...(input as object), token: await sys.token("alice", ["orders:write"]) }),
  },
};

for (const [name, file] of findFunctionSources(dir)) contractTests(file, { system, ...options[name] });
