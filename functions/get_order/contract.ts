/** Contract test options (`nfn test`): the example's order id stands for one of the caller's own orders. */
import type { ContractOptions } from "nats-functions/testing";

const caller = { sub: "contract-test", scopes: ["orders:write"] };
let order: Promise<string> | undefined;

export default {
  caller,
  async prepare(input, sys) {
    order ??= (async () => {
      const token = await sys.token(caller.sub, caller.scopes);
      const made = await sys.invoke(
        "create_order",
        { items: [{ sku: "MIEL-ENCINA-500G", quantity: 1 }], paymentMethod: "pm_card_visa" },
        { token },
      );
      if (made.error) throw new Error(`create_order: ${made.error.message}`);
      return (made.value as { orderId: string }).orderId;
    })();
    return { ...(input as object), orderId: await order };
  },
} satisfies ContractOptions;
