import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { inlineSharedRefs } from "../../runtime/schema.ts";
import { compileValidator } from "../../runtime/validation.ts";

const common = {
  $id: "common.json",
  $defs: {
    sku: { type: "string", pattern: "^[A-Za-z0-9._-]{1,64}$" },
    line: { type: "object", properties: { sku: { $ref: "#/$defs/sku" }, quantity: { type: "integer" } } },
    item: { type: "object", properties: { sku: { $ref: "common.json#/$defs/sku" } } },
  },
};

describe("inlineSharedRefs", () => {
  it("copies referenced shared definitions in, so the schema stands alone", () => {
    const schema = { type: "object", properties: { a: { $ref: "common.json#/$defs/sku" }, b: { $ref: "common.json#/$defs/item" } } };
    const inlined = inlineSharedRefs(schema, [common]) as Record<string, unknown>;
    assert.deepEqual(inlined, {
      type: "object",
      properties: { a: { $ref: "#/$defs/sku" }, b: { $ref: "#/$defs/item" } },
      $defs: { sku: common.$defs.sku, item: { type: "object", properties: { sku: { $ref: "#/$defs/sku" } } } },
    });
    const validate = compileValidator(inlined);
    assert.equal(validate({ a: "OK-1", b: { sku: "x" } }), undefined);
    assert.deepEqual(validate({ a: "not ok!" }), [{ path: "/a", message: 'must match pattern "^[A-Za-z0-9._-]{1,64}$"' }]);
  });

  it("fails loudly on a reference to a definition that does not exist", () => {
    assert.throws(() => inlineSharedRefs({ $ref: "common.json#/$defs/nope" }, [common]), /names no definition/);
  });

  it("leaves schemas without shared references as they are", () => {
    const schema = { type: "object", $defs: { x: { type: "string" } }, properties: { x: { $ref: "#/$defs/x" } } };
    assert.deepEqual(inlineSharedRefs(schema, [common]), schema);
  });
});
