/** Safe JSON decoding for request bodies: depth limit and prototype-poisoning protection. */
import { FunctionError } from "./errors.ts";

/** Deepest nesting of arrays and objects a request body may have. */
export const MAX_JSON_DEPTH = 64;

const decoder = new TextDecoder("utf-8", { fatal: true });
const POISON_KEYS = new Set(["__proto__", "constructor", "prototype"]);
const POISON_PATTERN = /"(?:__proto__|constructor|prototype)"/;

/**
 * Parses a request body. Throws 400 for invalid UTF-8, invalid JSON, nesting deeper than
 * MAX_JSON_DEPTH, or keys that could poison prototypes (`__proto__`, `constructor`, `prototype`).
 */
export function parseRequestBody(data: Uint8Array): unknown {
  let text: string;
  try {
    text = decoder.decode(data);
  } catch {
    throw new FunctionError(400, "request body is not valid UTF-8");
  }
  if (text.trim() === "") throw new FunctionError(400, "request body is empty: send a JSON value");
  checkDepth(text);
  // The reviver costs a call per key; skip it when no forbidden key can be spelt in the text.
  const mayHidePoison = text.includes("\\u") || POISON_PATTERN.test(text);
  let value: unknown;
  try {
    value = mayHidePoison ? JSON.parse(text, rejectPoisonKeys) : JSON.parse(text);
  } catch (err) {
    if (err instanceof FunctionError) throw err;
    throw new FunctionError(400, "request body is not valid JSON");
  }
  return value;
}

function rejectPoisonKeys(this: unknown, key: string, value: unknown): unknown {
  if (POISON_KEYS.has(key)) {
    throw new FunctionError(400, `request body has a forbidden key "${key}"`, [{ path: "", message: `key "${key}" is not allowed` }]);
  }
  return value;
}

// Counted on the text before parsing, so a deeply nested body costs no recursion.
function checkDepth(text: string): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_JSON_DEPTH) {
        throw new FunctionError(400, `request body is nested deeper than ${MAX_JSON_DEPTH} levels`);
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
}
