/** The JSON Schema → TypeScript writer: the keywords the project uses, and schemas from the bus that try to inject code. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { TypeWriter, camel, comment, pascal } from "../../runtime/client/schema-types.ts";

const typeOf = (schema: Record<string, unknown>) => {
  const w = new TypeWriter(schema, "X");
  return { type: w.type(schema), aliases: w.aliases };
};

describe("schema types", () => {
  it("writes closed objects with optional fields, arrays, enums, consts, nullable types and $defs aliases", () => {
    const { type, aliases } = typeOf({
      type: "object",
      additionalProperties: false,
      required: ["a"],
      properties: {
        a: { type: "integer" },
        b: { type: ["string", "null"] },
        c: { enum: ["x", "y"] },
        d: { const: true },
        e: { type: "array", items: { $ref: "#/$defs/line" } },
      },
      $defs: { line: { type: "object", properties: { sku: { type: "string" } } } },
    });
    assert.equal(type, '{\n  a: number;\n  b?: string | null;\n  c?: "x" | "y";\n  d?: true;\n  e?: XLine[];\n}');
    assert.deepEqual(aliases, ["export type XLine = {\n  sku?: string;\n  [key: string]: unknown;\n};"]);
  });

  it("gives unknown for what it does not understand and for refs it cannot resolve", () => {
    assert.equal(typeOf({ $ref: "https://evil.example/x.json" }).type, "unknown");
    assert.equal(typeOf({ type: "object", additionalProperties: false }).type, "Record<string, never>");
    assert.equal(typeOf({ enum: [{ a: 1 }, 2] }).type, "unknown | 2");
  });

  it("keeps hostile text out of the code: comments cannot be closed, property names are quoted", () => {
    assert.equal(comment("*/ process.exit(1) /*", ""), "/** *\\/ process.exit(1) /* */\n");
    const { type } = typeOf({ type: "object", additionalProperties: false, properties: { 'a"]: 1; x': { type: "string" } } });
    assert.equal(type, '{\n  "a\\"]: 1; x"?: string;\n}');
    assert.equal(pascal("9 lives; drop()"), "T9LivesDrop");
    assert.equal(camel("check_inventory"), "checkInventory");
  });
});
