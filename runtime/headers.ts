/** Header names of the wire contract and of the runtime's own propagation. */

/** Error reply headers (ADR-32). */
export const SERVICE_ERROR = "Nats-Service-Error";
export const SERVICE_ERROR_CODE = "Nats-Service-Error-Code";

/** Request headers a caller may send. */
export const AUTHORIZATION = "Authorization";
export const IDEMPOTENCY_KEY = "Idempotency-Key";
export const TRACEPARENT = "traceparent";
/** Milliseconds the caller will still wait for the reply; nested calls send what is left. */
export const TIMEOUT_MS = "Nfn-Timeout-Ms";
/** Shared by all requests and events of one operation; created at the first request when absent. */
export const CORRELATION_ID = "Nfn-Correlation-Id";
/** The id of the request or event that caused this request. */
export const CAUSATION_ID = "Nfn-Causation-Id";
