/** A plausible example value for a JSON Schema, for the API reference and the docs page. */
import { isRecord } from "../runtime/client/json.ts";

/** Builds an example from `examples`, `default`, `const`, `enum`, or the types; follows local `$ref`s. */
export function exampleFor(schema: unknown, root: unknown = schema, depth = 0): unknown {
  if (!isRecord(schema) || depth > 8) return null;
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0];
  if (schema.default !== undefined) return schema.default;
  if (schema.const !== undefined) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  if (typeof schema.$ref === "string" && schema.$ref.startsWith("#/$defs/") && isRecord(root) && isRecord(root.$defs)) {
    return exampleFor(root.$defs[schema.$ref.slice(8)], root, depth + 1);
  }
  for (const key of ["allOf", "anyOf", "oneOf"]) {
    const list = schema[key];
    if (Array.isArray(list) && list.length > 0) return exampleFor(list[0], root, depth + 1);
  }
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  switch (type) {
    case "object": {
      const out: Record<string, unknown> = {};
      const props = isRecord(schema.properties) ? schema.properties : {};
      const required = Array.isArray(schema.required) ? schema.required : Object.keys(props);
      for (const [k, v] of Object.entries(props)) if (required.includes(k)) out[k] = exampleFor(v, root, depth + 1);
      return out;
    }
    case "array": {
      const min = typeof schema.minItems === "number" ? Math.max(1, schema.minItems) : 1;
      return Array.from({ length: Math.min(min, 3) }, () => exampleFor(schema.items, root, depth + 1));
    }
    case "integer":
    case "number":
      return typeof schema.minimum === "number" ? schema.minimum : 1;
    case "boolean":
      return true;
    case "string":
      return stringExample(schema);
    default:
      return isRecord(schema.properties) ? exampleFor({ ...schema, type: "object" }, root, depth + 1) : null;
  }
}

function stringExample(schema: Record<string, unknown>): string {
  if (schema.format === "uuid") return "3f2c8a4e-1b7d-4c1e-9a8b-2d6f0e5c7a91";
  if (schema.format === "date-time") return "2026-11-23T12:00:00Z";
  if (schema.format === "email") return "user@example.com";
  if (typeof schema.pattern === "string" && schema.pattern.includes("A-Z]{3}")) return "EUR";
  const min = typeof schema.minLength === "number" ? schema.minLength : 0;
  return "example".padEnd(min, "x");
}
