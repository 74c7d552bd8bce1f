/** `schemas/types.ts` is what `npm run gen:types` writes from the schemas today. */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { schemaTypesModule } from "../../scripts/schema-types-module.ts";

const dir = fileURLToPath(new URL("../../schemas/", import.meta.url));

describe("schemas/types.ts", () => {
  it("is up to date with the schemas", async () => {
    const outFile = `${dir}types.ts`;
    const [committed, fresh] = await Promise.all([readFile(outFile, "utf8"), schemaTypesModule(dir, outFile)]);
    assert.ok(committed === fresh, "schemas/types.ts is stale: run npm run gen:types and commit it");
  });

  it("has a request and a reply type for every function with schemas", async () => {
    const fresh = await schemaTypesModule(dir);
    for (const fn of ["check_inventory", "create_order", "reserve_stock", "process_payment"]) {
      assert.match(fresh, new RegExp(`^  ${fn}: \\{ request: \\w+Request; response: \\w+Response \\};$`, "m"));
    }
  });
});
