/** Contract test options (`nfn test`): generated products (onHand 0) get skus of their own, so the catalog stays stocked. */
import type { ContractOptions } from "nats-functions/testing";

export default {
  prepare: (input) => ({ ...(input as object), sku: `CONTRACT-${(input as { sku: string }).sku}`.slice(0, 64) }),
} satisfies ContractOptions;
