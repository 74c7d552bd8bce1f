/** Contract test fixtures of this directory (`nfn test`): the demo catalog, which the examples order from. */
import type { TestSystem } from "nats-functions/testing";
import catalog from "../cli/demo-catalog.json" with { type: "json" };

/** Puts every demo product through put_product, as `nfn serve --demo` does. */
export default async function setup(sys: TestSystem): Promise<void> {
  const token = await sys.token("catalog-admin", ["inventory:admin"]);
  for (const product of catalog.products) {
    const put = await sys.invoke("put_product", product, { token });
    if (put.error) throw new Error(`put_product ${product.sku}: ${put.error.message}`);
  }
}
