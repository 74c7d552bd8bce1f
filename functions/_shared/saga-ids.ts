/** Stable ids and payload fingerprints for the saga: the same business key always gives the same id. */
import { createHash } from "node:crypto";
import { canonicalJson } from "../../runtime/canonical-json.ts";

/** A UUID (version 8, RFC 9562 "custom") derived from `parts`; equal parts give equal ids. */
export function stableUuid(...parts: string[]): string {
  const hex = createHash("sha256").update(parts.join("\u0000")).digest("hex").slice(0, 32).split("");
  hex[12] = "8"; // version 8
  hex[16] = ((Number.parseInt(hex[16] ?? "0", 16) & 0x3) | 0x8).toString(16); // RFC variant
  const h = hex.join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/** sha256 of `value` serialised with sorted object keys, so key order in a payload does not matter. */
export function fingerprint(value: unknown): string {
  return createHash("sha256").update(canonicalJson(value)).digest("hex");
}

/** True when a KV create or compare-and-set lost the race (the runtime's one definition). */
export { isRevisionConflict } from "../../runtime/index.ts";
