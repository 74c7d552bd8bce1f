/** Contract test options (`nfn test`): the example commits a reservation, so make it first. */
import type { ContractOptions } from "nats-functions/testing";

export default {
  async setup(sys) {
    const token = await sys.token("saga", []);
    const items = [{ sku: "AOVE-PICUAL-1L", quantity: 1 }];
    const reserved = await sys.invoke("reserve_stock", { orderId: "ord-example-commit", items }, { token });
    if (reserved.error) throw new Error(`reserve_stock: ${reserved.error.message}`);
  },
} satisfies ContractOptions;
