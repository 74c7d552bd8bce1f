/**
 * The one encoder from an id (sku, orderId, any value from a request) to a JetStream KV key.
 *
 * KV keys are subject tokens: only `A-Z a-z 0-9 - _ = . /` are allowed, and `.` separates tokens
 * (invalid at either end or doubled). Letters, digits, `-` and `_` are kept, so ordinary ids stay
 * readable in `nats kv ls`; every other UTF-8 byte becomes `=XX`. The mapping is injective, so two
 * different ids never share a record, and any string (even `__proto__` or `a..b`) gives a valid key.
 */
const KEPT = /^[A-Za-z0-9_-]+$/;
const HEX = "0123456789ABCDEF";

/** The KV key of `id`. An empty id is refused: it is never a valid business key. */
export function kvKey(id: string): string {
  if (id.length === 0) throw new RangeError("an empty id has no KV key");
  if (KEPT.test(id)) return id;
  let key = "";
  for (const ch of id) {
    if (/[A-Za-z0-9_-]/.test(ch)) {
      key += ch;
      continue;
    }
    for (const byte of Buffer.from(ch, "utf8")) key += `=${HEX[byte >> 4]}${HEX[byte & 15]}`;
  }
  return key;
}

/** The id back from a key made by `kvKey`. */
export function idFromKvKey(key: string): string {
  if (!key.includes("=")) return key;
  const bytes: number[] = [];
  for (let i = 0; i < key.length; i++) {
    if (key[i] === "=") {
      bytes.push(Number.parseInt(key.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(key.charCodeAt(i));
  }
  return Buffer.from(bytes).toString("utf8");
}
