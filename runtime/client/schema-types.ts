/**
 * A small JSON Schema → TypeScript type writer for the keywords this project's schemas use: `type`
 * (arrays of types included), `properties`/`required`/`additionalProperties`, `items`, `enum`,
 * `const`, local `$ref` into `$defs`, `anyOf`/`oneOf` (union) and `allOf` (intersection). Anything
 * else becomes `unknown`, never a guess. Schemas come from the bus, so nothing from them reaches the
 * output except JSON literals, quoted property names, sanitised identifiers and comment text.
 */
import { isRecord } from "./json.ts";

/** Writes types for one schema; `$defs` become named aliases `<prefix><Def>` collected in `aliases`. */
export class TypeWriter {
  /** `export type X = ...;` lines for the `$defs` met so far. */
  readonly aliases: string[] = [];
  private readonly done = new Set<string>();

  constructor(
    private readonly root: Record<string, unknown>,
    private readonly prefix: string,
  ) {}

  /** The TypeScript type of `schema` (a node of the root schema). */
  type(schema: unknown, indent = ""): string {
    if (schema === true || schema === undefined) return "unknown";
    if (schema === false) return "never";
    if (!isRecord(schema)) return "unknown";
    if (typeof schema.$ref === "string") return this.ref(schema.$ref);
    if ("const" in schema) return literal(schema.const);
    if (Array.isArray(schema.enum)) return schema.enum.map(literal).join(" | ") || "never";
    for (const key of ["anyOf", "oneOf"] as const) {
      const list = schema[key];
      if (Array.isArray(list) && list.length > 0)
        return list
          .map((s) => this.type(s, indent))
          .map(paren)
          .join(" | ");
    }
    if (Array.isArray(schema.allOf) && schema.allOf.length > 0) return schema.allOf.map((s) => paren(this.type(s, indent))).join(" & ");
    const types = Array.isArray(schema.type) ? schema.type : schema.type === undefined ? [] : [schema.type];
    if (types.length === 0) return isRecord(schema.properties) ? this.object(schema, indent) : "unknown";
    return types.map((t) => paren(this.ofType(t, schema, indent))).join(" | ");
  }

  private ofType(type: unknown, schema: Record<string, unknown>, indent: string): string {
    switch (type) {
      case "string":
        return "string";
      case "integer":
      case "number":
        return "number";
      case "boolean":
        return "boolean";
      case "null":
        return "null";
      case "array":
        return `${paren(this.type(schema.items, indent))}[]`;
      case "object":
        return this.object(schema, indent);
      default:
        return "unknown";
    }
  }

  private object(schema: Record<string, unknown>, indent: string): string {
    const props = isRecord(schema.properties) ? schema.properties : {};
    const required = new Set(Array.isArray(schema.required) ? schema.required.filter((r) => typeof r === "string") : []);
    const inner = `${indent}  `;
    const lines: string[] = [];
    for (const [name, prop] of Object.entries(props)) {
      const doc = isRecord(prop) ? comment(prop.description, inner) : "";
      lines.push(`${doc}${inner}${propertyName(name)}${required.has(name) ? "" : "?"}: ${this.type(prop, inner)};`);
    }
    const extra = schema.additionalProperties;
    // Closed objects stay closed, so a misspelt field is a compile error; open ones say what else may come.
    if (extra !== false)
      lines.push(`${inner}[key: string]: ${extra === undefined || extra === true ? "unknown" : `${this.type(extra, inner)} | undefined`};`);
    return lines.length === 0 ? "Record<string, never>" : `{\n${lines.join("\n")}\n${indent}}`;
  }

  private ref(ref: string): string {
    const match = /^#\/\$defs\/([^/]+)$/.exec(ref);
    const defs = isRecord(this.root.$defs) ? this.root.$defs : {};
    if (!match || !Object.hasOwn(defs, match[1] ?? "")) return "unknown";
    const def = match[1] ?? "";
    const name = `${this.prefix}${pascal(def)}`;
    if (!this.done.has(def)) {
      this.done.add(def); // before writing: definitions may refer to themselves
      const body = this.type(defs[def]);
      this.aliases.push(
        `${comment(isRecord(defs[def]) ? (defs[def] as Record<string, unknown>).description : undefined, "")}export type ${name} = ${body};`,
      );
    }
    return name;
  }
}

/** `check_inventory` → `CheckInventory`; anything but letters and digits separates words and is dropped. */
export function pascal(text: string): string {
  const words = text.split(/[^A-Za-z0-9]+/).filter(Boolean);
  const out = words.map((w) => w[0]?.toUpperCase() + w.slice(1)).join("");
  return /^[0-9]/.test(out) ? `T${out}` : out || "T";
}

/** `check_inventory` → `checkInventory`. */
export function camel(text: string): string {
  const p = pascal(text);
  return p[0]?.toLowerCase() + p.slice(1);
}

/** A JSDoc block for `text` (one line per line), or "" when there is none. */
export function comment(text: unknown, indent: string): string {
  if (typeof text !== "string" || text.trim() === "") return "";
  // "*/" would end the comment and let the rest of the text become code.
  const safe = text.slice(0, 500).replace(/\*\//g, "*\\/").split(/\r?\n/);
  return safe.length === 1
    ? `${indent}/** ${safe[0]} */\n`
    : `${indent}/**\n${safe.map((l) => `${indent} * ${l}`).join("\n")}\n${indent} */\n`;
}

function literal(value: unknown): string {
  if (value === null || typeof value === "boolean" || (typeof value === "number" && Number.isFinite(value))) return JSON.stringify(value);
  if (typeof value === "string") return JSON.stringify(value);
  return "unknown";
}

function propertyName(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : JSON.stringify(name);
}

function paren(type: string): string {
  return /^[A-Za-z0-9_$".[\]<>, ]+$/.test(type) || type.startsWith("{") ? type : `(${type})`;
}
