/** Defensive decoding of untrusted replies: objects, strings, numbers, string maps. */

const decoder = new TextDecoder();

/** True for a plain JSON object (not an array, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The text of a message body (one decoder for the process, not one per call). */
export function bodyText(data: Uint8Array): string {
  return decoder.decode(data);
}

/** The JSON value of a body, or `undefined` when it is not JSON. */
export function tryJson(data: Uint8Array): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(decoder.decode(data)) };
  } catch {
    return { ok: false };
  }
}

/** `value` when it is a string, else "". */
export function str(value: unknown): string {
  return typeof value === "string" ? value : "";
}

/** `value` when it is a finite number, else 0. */
export function num(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

/** The string-valued entries of an object (metadata maps), `{}` for anything else. */
export function stringRecord(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isRecord(value)) for (const [k, v] of Object.entries(value)) if (typeof v === "string") out[k] = v;
  return out;
}

/** The object entries of an array, `[]` for anything else. */
export function records(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}
