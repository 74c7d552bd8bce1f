/**
 * Payloads for contract tests: valid ones built from the request schema, and invalid ones made by
 * breaking one thing at a time in a valid payload, each with the JSON Pointer the 400 must name.
 * Every candidate is checked with the same validator the runtime enforces, so none is mislabelled.
 */
import { exampleFor, resolveRef } from "../runtime/schema-example.ts";
import { compileValidator } from "../runtime/validation.ts";

type Schema = Record<string, unknown>;

/** An invalid payload and where its first problem is. */
export interface InvalidPayload {
  /** What was broken, for test messages. */
  what: string;
  payload: unknown;
  /** The JSON Pointer a 400's `details` must name. */
  path: string;
}

const MAX_INVALID = 48;
const POINTER = /^(\/([^~/]|~[01])*)*$/;

/** True when `path` is a JSON Pointer (RFC 6901). */
export function isJsonPointer(path: unknown): path is string {
  return typeof path === "string" && POINTER.test(path);
}

/** Valid payloads generated from `schema` (required properties only, all properties, nested examples), deduplicated. */
export function validPayloads(schema: object): unknown[] {
  const validate = compileValidator(schema);
  const seen = new Set<string>();
  const out: unknown[] = [];
  const candidates = [
    exampleFor(schema, { ignoreExamples: true }),
    exampleFor(schema, { ignoreExamples: true, allProperties: true }),
    exampleFor(stripRootExamples(schema), { allProperties: true }),
  ];
  for (const c of candidates) {
    const key = JSON.stringify(c);
    if (key === undefined || seen.has(key) || validate(c) !== undefined) continue;
    seen.add(key);
    out.push(c);
  }
  return out;
}

/** Payloads that each break one rule of `schema` in `base` (a valid payload), with the path the runtime must report. */
export function invalidPayloads(schema: object, base: unknown): InvalidPayload[] {
  const validate = compileValidator(schema);
  const root = schema as Schema;
  const candidates: { what: string; payload: unknown }[] = [];
  const visit = (node: unknown, value: unknown, path: string[], depth: number) => {
    const s = deref(root, node);
    if (!s || depth > 8) return;
    for (const wrong of wrongValues(s, value))
      candidates.push({ what: `${show(path)}: ${wrong.what}`, payload: replaceAt(base, path, wrong.value) });
    if (isObject(value) && (s.type === "object" || isObject(s.properties))) {
      const props = isObject(s.properties) ? s.properties : {};
      const required = Array.isArray(s.required) ? s.required.filter((r): r is string => typeof r === "string") : [];
      for (const name of required)
        if (Object.hasOwn(value, name))
          candidates.push({ what: `${show([...path, name])}: missing`, payload: removeAt(base, [...path, name]) });
      if (s.additionalProperties === false)
        candidates.push({ what: `${show(path)}: an unknown property`, payload: replaceAt(base, [...path, "unexpectedProperty"], 1) });
      for (const [name, child] of Object.entries(value))
        if (Object.hasOwn(props, name)) visit(props[name], child, [...path, name], depth + 1);
    }
    if (Array.isArray(value) && value.length > 0 && s.items !== undefined) visit(s.items, value[0], [...path, "0"], depth + 1);
  };
  visit(root, base, [], 0);
  const out: InvalidPayload[] = [];
  const seen = new Set<string>();
  for (const c of candidates) {
    const key = JSON.stringify(c.payload);
    if (key === undefined || seen.has(key)) continue;
    seen.add(key);
    const problems = validate(c.payload);
    const path = problems?.[0]?.path;
    if (typeof path !== "string") continue; // still valid: not a useful probe
    out.push({ what: c.what, payload: c.payload, path });
    if (out.length >= MAX_INVALID) break;
  }
  return out;
}

// Values of the wrong type or out of bounds for one node.
function wrongValues(s: Schema, value: unknown): { what: string; value: unknown }[] {
  const out: { what: string; value: unknown }[] = [];
  const type = typeof s.type === "string" ? s.type : undefined;
  if (type === "object")
    out.push({ what: "an array instead of an object", value: [] }, { what: "a string instead of an object", value: "text" });
  if (type === "array") {
    out.push({ what: "an object instead of an array", value: {} });
    if (typeof s.minItems === "number" && s.minItems > 0) out.push({ what: "too few items", value: [] });
    if (typeof s.maxItems === "number" && Array.isArray(value) && value.length > 0 && s.maxItems < 1000)
      out.push({ what: "too many items", value: Array.from({ length: s.maxItems + 1 }, () => value[0]) });
  }
  if (type === "string") {
    out.push({ what: "a number instead of a string", value: 12345 });
    if (typeof s.pattern === "string") out.push({ what: "a string that breaks the pattern", value: " not / matching ! " });
    if (typeof s.minLength === "number" && s.minLength > 0) out.push({ what: "too short", value: "" });
    if (typeof s.maxLength === "number" && s.maxLength < 100_000) out.push({ what: "too long", value: "x".repeat(s.maxLength + 1) });
    if (typeof s.format === "string") out.push({ what: `not a ${s.format}`, value: "not-a-valid-value" });
  }
  if (type === "integer" || type === "number") {
    out.push({ what: "a string instead of a number", value: "1" });
    if (type === "integer") out.push({ what: "a fraction", value: 1.5 });
    if (typeof s.minimum === "number") out.push({ what: "below the minimum", value: s.minimum - 1 });
    if (typeof s.maximum === "number") out.push({ what: "above the maximum", value: s.maximum + 1 });
  }
  if (type === "boolean") out.push({ what: "a string instead of a boolean", value: "true" });
  if (Array.isArray(s.enum)) out.push({ what: "a value outside the enum", value: "__not_in_enum__" });
  if ("const" in s) out.push({ what: "a value other than the const", value: "__not_the_const__" });
  return out;
}

function deref(root: Schema, node: unknown): Schema | undefined {
  let s = node;
  for (let i = 0; i < 8 && isObject(s) && typeof s.$ref === "string"; i++) s = resolveRef(root, s.$ref);
  return isObject(s) ? s : undefined;
}

function stripRootExamples(schema: object): object {
  const { examples: _examples, ...rest } = schema as Schema;
  return rest;
}

function isObject(value: unknown): value is Schema {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function show(path: string[]): string {
  return path.length === 0 ? "the body" : `/${path.join("/")}`;
}

// Copies `base` with the value at `path` replaced (an empty path replaces the whole body).
function replaceAt(base: unknown, path: string[], value: unknown): unknown {
  if (path.length === 0) return value;
  const copy: unknown = structuredClone(base);
  const parent = walkTo(copy, path.slice(0, -1));
  const last = path[path.length - 1] ?? "";
  if (Array.isArray(parent)) parent[Number(last)] = value;
  else if (isObject(parent)) Object.defineProperty(parent, last, { value, enumerable: true, writable: true, configurable: true });
  return copy;
}

function removeAt(base: unknown, path: string[]): unknown {
  const copy: unknown = structuredClone(base);
  const parent = walkTo(copy, path.slice(0, -1));
  if (isObject(parent)) delete parent[path[path.length - 1] ?? ""];
  return copy;
}

function walkTo(value: unknown, path: string[]): unknown {
  let node = value;
  for (const key of path) node = Array.isArray(node) ? node[Number(key)] : isObject(node) ? node[key] : undefined;
  return node;
}
