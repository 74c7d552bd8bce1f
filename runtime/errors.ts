/**
 * The one error type of the runtime, its closed table of codes (README: Error codes) and the
 * conversion of anything thrown into the wire form.
 */
import { isStoreUnavailable } from "./keyed-errors.ts";

/** Every error code a function or the runtime may reply with, by HTTP-like status. */
export const ERROR_CODES = {
  202: "ACCEPTED",
  400: "VALIDATION",
  401: "UNAUTHORIZED",
  402: "PAYMENT_DECLINED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  409: "CONFLICT",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
  422: "IDEMPOTENCY_MISMATCH",
  429: "OVERLOADED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
  504: "TIMEOUT",
} as const;

/** A code from the table above. */
export type ErrorCode = keyof typeof ERROR_CODES;
/** The type name that goes with a code. */
export type ErrorType = (typeof ERROR_CODES)[ErrorCode];

/** One entry of `details` on the wire; validation errors use `{path, message}`. */
export type ErrorDetail = Record<string, unknown>;

/** The JSON body of every error reply. */
export interface ErrorBody {
  error: { code: ErrorCode; type: ErrorType; message: string; details?: ErrorDetail[] };
}

// A brand instead of `instanceof`: every bundle carries its own copy of this class.
const BRAND = Symbol.for("nats-functions.FunctionError");
const MAX_HEADER_TEXT = 512;

/** Most characters of one input value or property name an error text may carry (CONTRACT: no echo). */
export const MAX_ECHO = 64;
/** Longest error message: the `Nats-Service-Error` header, STATS `last_error` and the body all carry it. */
export const MAX_MESSAGE = 512;
/** Most entries of `details` in one reply. */
export const MAX_DETAILS = 10;
/** Largest error body in UTF-8 bytes; details are dropped (and the rest shortened) to stay under it. */
export const MAX_ERROR_BODY_BYTES = 4000;
// Strings inside one detail (paths, messages, ids) are cut to this.
const MAX_DETAIL_TEXT = 256;
const MARK = "…";

/**
 * `value` cut to at most `max` characters, with `…` marking the cut: the form in which any value
 * from a request may appear in an error text. Never splits a surrogate pair.
 */
export function clipInput(value: string, max = MAX_ECHO): string {
  if (value.length <= max) return value;
  let end = Math.max(0, max - 1);
  const code = value.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--; // a high surrogate without its pair
  return `${value.slice(0, end)}${MARK}`;
}

function boundedDetails(details: ErrorDetail[] | undefined): ErrorDetail[] | undefined {
  if (!details) return undefined;
  return details.slice(0, MAX_DETAILS).map((d) => {
    const out: ErrorDetail = Object.create(null) as ErrorDetail;
    for (const [k, v] of Object.entries(d).slice(0, 8)) out[clipInput(k, MAX_ECHO)] = boundedValue(v);
    return { ...out };
  });
}

// Detail values are small records ({path, message}, {sku, requested, available}); anything deeper is cut.
function boundedValue(v: unknown): unknown {
  if (typeof v === "string") return clipInput(v, MAX_DETAIL_TEXT);
  if (typeof v === "number" || typeof v === "boolean" || v === null) return v;
  return clipInput(JSON.stringify(v) ?? "", MAX_DETAIL_TEXT);
}

/** Thrown by handlers (and the runtime) to reply with a contract error. */
export class FunctionError extends Error {
  readonly code: ErrorCode;
  readonly type: ErrorType;
  readonly details: ErrorDetail[] | undefined;
  readonly [BRAND] = true;

  /** `message` is cut to MAX_MESSAGE characters and `details` to MAX_DETAILS short entries, so no reply grows with its input. */
  constructor(code: ErrorCode, message: string, details?: ErrorDetail[], options?: ErrorOptions) {
    super(clipInput(message, MAX_MESSAGE), options);
    this.name = "FunctionError";
    this.code = code;
    this.type = ERROR_CODES[code];
    this.details = boundedDetails(details);
  }

  /** The JSON body for the wire, under MAX_ERROR_BODY_BYTES. */
  toBody(): ErrorBody {
    const error: ErrorBody["error"] = { code: this.code, type: this.type, message: this.message };
    if (this.details && this.details.length > 0) error.details = [...this.details];
    // Multi-byte text can still push the body over the cap: drop details from the end until it fits.
    while (error.details && Buffer.byteLength(JSON.stringify({ error })) > MAX_ERROR_BODY_BYTES) {
      error.details.pop();
      if (error.details.length === 0) delete error.details;
    }
    return { error };
  }
}

/** True when `value` is a FunctionError from any copy of the runtime. */
export function isFunctionError(value: unknown): value is FunctionError {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/** True when `code` is in the contract's table. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === "number" && Object.hasOwn(ERROR_CODES, code);
}

/**
 * Turns anything thrown into a FunctionError. Unknown errors become a generic 500: their
 * message may hold internals, so it stays in the log and never reaches the wire.
 */
export function toFunctionError(err: unknown): FunctionError {
  if (isFunctionError(err)) return err;
  // A store that is briefly away (leader election, restart, timeout) is a retry, not our bug.
  if (isStoreUnavailable(err)) {
    return new FunctionError(503, "the state store is unavailable for the moment; retry shortly", undefined, { cause: err });
  }
  return new FunctionError(500, "internal error", undefined, { cause: err });
}

/** Text for the `Nats-Service-Error` header: one line, at most 512 characters. */
export function headerText(message: string): string {
  const line = message.replace(/[\r\n]+/g, " ");
  return line.length <= MAX_HEADER_TEXT ? line : `${line.slice(0, MAX_HEADER_TEXT - 1)}…`;
}

/** Rebuilds a FunctionError from an error reply's body and code header (nested calls, CLI). */
export function errorFromReply(codeHeader: string, body: unknown, fallbackMessage: string): FunctionError {
  const parsed = Number.parseInt(codeHeader, 10);
  const code: ErrorCode = isErrorCode(parsed) ? parsed : 500;
  const wire = isRecord(body) && isRecord(body.error) ? body.error : undefined;
  const message = typeof wire?.message === "string" ? wire.message : fallbackMessage;
  const details = Array.isArray(wire?.details) ? (wire.details.filter(isRecord) as ErrorDetail[]) : undefined;
  return new FunctionError(code, message, details);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
