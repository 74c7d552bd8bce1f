/** How a KV write or read failed: a lost compare-and-set race, a store that is briefly away, or something else. */

// JetStream API codes for "wrong last sequence": someone else wrote the key since we read it.
const WRONG_LAST_SEQUENCE = new Set([10071, 10164]);
// JetStream API codes meaning "not now": the system temporarily unavailable (10008), the cluster cannot
// handle the request yet (10009), no suitable peers while a node is gone (10005), JetStream not enabled
// (10039, 10076: starting, stopping, or the meta leader not elected), insufficient resources (10023),
// a store failure (10077), a raft error (10041), a stream or consumer offline (10118, 10119).
const UNAVAILABLE_API_CODES = new Set([10005, 10008, 10009, 10023, 10039, 10041, 10076, 10077, 10118, 10119]);
// Status codes of a JetStream reply without a body: no responders (no leader answers yet), request timeout.
const UNAVAILABLE_STATUS = new Set([503, 408]);
// Client-side failures that say the server did not answer in time or the connection is being replaced.
const UNAVAILABLE_NAMES = new Set([
  "TimeoutError",
  "NoRespondersError",
  "JetStreamNotEnabled",
  "ConnectionError",
  "ClosedConnectionError",
  "DrainingConnectionError",
  "RequestError",
]);

function* causes(err: unknown): Generator<Error> {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) yield e;
}

/** True when a KV write failed because the key changed since it was read (or exists, for a create). */
export function isRevisionConflict(err: unknown): boolean {
  for (const e of causes(err)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "number" && WRONG_LAST_SEQUENCE.has(code)) return true;
    if (/wrong last sequence/i.test(e.message)) return true;
  }
  return false;
}

/** True when the store failed for a reason that passes (leader election, restart, timeout): retrying may succeed. */
export function isStoreUnavailable(err: unknown): boolean {
  for (const e of causes(err)) {
    if (UNAVAILABLE_NAMES.has(e.name)) return true;
    const code = (e as { code?: unknown }).code;
    if (typeof code === "number" && UNAVAILABLE_API_CODES.has(code)) return true;
    if (e.name === "JetStreamStatusError" && typeof code === "number" && UNAVAILABLE_STATUS.has(code)) return true;
    if (code === "503" || code === "TIMEOUT") return true;
  }
  return false;
}
