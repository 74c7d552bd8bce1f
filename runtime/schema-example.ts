/**
 * Example values from a JSON Schema, for `nfn schema --example`, the gateway's API reference and
 * contract tests: required properties only (or all of them), the smallest arrays that show an item,
 * numbers at their lower bound, strings from hints that match.
 */

type Schema = Record<string, unknown>;

/** How `exampleFor` builds a value. */
export interface ExampleOptions {
  /** Fill optional properties too (default: required ones only). */
  allProperties?: boolean;
  /** Build from the types even where the schema has `examples` or a `default`. */
  ignoreExamples?: boolean;
}

// Strings tried in order; the first one that satisfies pattern, length and format wins.
const STRING_HINTS: Record<string, string> = {
  sku: "AOVE-PICUAL-500ML",
  currency: "EUR",
  paymentMethod: "pm_card_visa",
  method: "pm_card_visa",
  orderId: "ord-0001",
  token: "<jwt>",
  name: "Aceite de oliva virgen extra Picual, 500 ml",
};
const FALLBACK_STRINGS = ["example", "AOVE-PICUAL-500ML", "EUR", "ord-0001", "a", "A", "0", "x-1"];
const FORMATS: Record<string, string> = {
  "date-time": "2026-11-23T10:00:00Z",
  date: "2026-11-23",
  time: "10:00:00Z",
  email: "alice@example.com",
  uri: "https://example.com/",
  uuid: "7c3f6a52-2d7e-4b59-9f0c-0f9c4d2c1a11",
  hostname: "example.com",
  ipv4: "127.0.0.1",
};

/** An example value that validates against `schema` for the usual keywords (refs within the schema included). */
export function exampleFor(schema: unknown, options: ExampleOptions = {}): unknown {
  return generate(schema, { root: isSchema(schema) ? schema : {}, ...options }, "", 0);
}

interface Walk extends ExampleOptions {
  root: Schema;
}

function isSchema(value: unknown): value is Schema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function generate(node: unknown, walk: Walk, key: string, depth: number): unknown {
  if (node === true || node === undefined) return key ? exampleString({}, key) : {};
  if (!isSchema(node) || depth > 12) return null;
  if (typeof node.$ref === "string") return generate(resolveRef(walk.root, node.$ref), walk, key, depth + 1);
  if ("const" in node) return node.const;
  if (!walk.ignoreExamples && Array.isArray(node.examples) && node.examples.length > 0) return node.examples[0];
  if (!walk.ignoreExamples && "default" in node) return node.default;
  if (Array.isArray(node.enum) && node.enum.length > 0) return node.enum[0];
  for (const combo of ["allOf", "oneOf", "anyOf"] as const) {
    const list = node[combo];
    if (Array.isArray(list) && list.length > 0)
      return generate(combo === "allOf" ? Object.assign({}, ...list.filter(isSchema)) : list[0], walk, key, depth + 1);
  }
  switch (pickType(node)) {
    case "object":
      return exampleObject(node, walk, depth);
    case "array":
      return exampleArray(node, walk, key, depth);
    case "string":
      return exampleString(node, key);
    case "integer":
      return exampleNumber(node, true);
    case "number":
      return exampleNumber(node, false);
    case "boolean":
      return true;
    case "null":
      return null;
    default:
      return {};
  }
}

function pickType(node: Schema): string | undefined {
  if (typeof node.type === "string") return node.type;
  if (Array.isArray(node.type)) return node.type.find((t) => t !== "null") ?? "null";
  if (isSchema(node.properties) || Array.isArray(node.required)) return "object";
  if (node.items !== undefined) return "array";
  return undefined;
}

function exampleObject(node: Schema, walk: Walk, depth: number): Record<string, unknown> {
  const props = isSchema(node.properties) ? node.properties : {};
  const required = Array.isArray(node.required) ? node.required.filter((r): r is string => typeof r === "string") : [];
  const names = walk.allProperties ? [...new Set([...required, ...Object.keys(props)])] : required;
  const out: Record<string, unknown> = {};
  for (const name of names) out[name] = generate(props[name] ?? true, walk, name, depth + 1);
  return out;
}

function exampleArray(node: Schema, walk: Walk, key: string, depth: number): unknown[] {
  const min = typeof node.minItems === "number" ? node.minItems : 0;
  const max = typeof node.maxItems === "number" ? node.maxItems : Infinity;
  const count = Math.min(max, Math.max(1, min));
  const items = Array.isArray(node.prefixItems) ? node.prefixItems : undefined;
  return Array.from({ length: count }, (_, i) => generate(items?.[i] ?? node.items ?? true, walk, key, depth + 1));
}

function exampleString(node: Schema, key: string): string {
  if (typeof node.format === "string" && FORMATS[node.format]) return FORMATS[node.format] ?? "";
  const minLength = typeof node.minLength === "number" ? node.minLength : 0;
  const maxLength = typeof node.maxLength === "number" ? node.maxLength : Infinity;
  let pattern: RegExp | undefined;
  try {
    pattern = typeof node.pattern === "string" ? new RegExp(node.pattern, "u") : undefined;
  } catch {
    pattern = undefined;
  }
  const hint = STRING_HINTS[key];
  const candidates = [...(hint ? [hint] : []), ...FALLBACK_STRINGS];
  const fits = (s: string) => [...s].length >= minLength && [...s].length <= maxLength && (!pattern || pattern.test(s));
  const found = candidates.find(fits);
  if (found !== undefined) return found;
  return "x".repeat(Math.max(minLength, 1)).slice(0, Number.isFinite(maxLength) ? maxLength : undefined);
}

function exampleNumber(node: Schema, integer: boolean): number {
  const num = (v: unknown) => (typeof v === "number" ? v : undefined);
  const step = num(node.multipleOf);
  let value =
    num(node.minimum) ?? (num(node.exclusiveMinimum) !== undefined ? (num(node.exclusiveMinimum) ?? 0) + (integer ? 1 : 0.5) : undefined);
  if (value === undefined) {
    const max = num(node.maximum) ?? (num(node.exclusiveMaximum) !== undefined ? (num(node.exclusiveMaximum) ?? 0) - 1 : undefined);
    value = max !== undefined && max < 1 ? max : 1;
  }
  if (integer) value = Math.ceil(value);
  if (step) value = Math.ceil(value / step) * step;
  return value;
}

/** The node a local `$ref` (`#/$defs/x`) points to inside `root`; `true` (any value) when it points outside. */
export function resolveRef(root: Schema, ref: string): unknown {
  if (!ref.startsWith("#")) return true;
  let node: unknown = root;
  for (const raw of ref.slice(1).split("/").filter(Boolean)) {
    const part = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
    node = isSchema(node) ? node[part] : undefined;
  }
  return node ?? true;
}
