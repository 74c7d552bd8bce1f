/**
 * The one error type of the runtime, its closed table of codes (README: Error codes) and the
 * conversion of anything thrown into the wire form.
 */

/** Every error code a function or the runtime may reply with, by HTTP-like status. */
export const ERROR_CODES = {
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

/** Thrown by handlers (and the runtime) to reply with a contract error. */
export class FunctionError extends Error {
  readonly code: ErrorCode;
  readonly type: ErrorType;
  readonly details: ErrorDetail[] | undefined;
  readonly [BRAND] = true;

  constructor(code: ErrorCode, message: string, details?: ErrorDetail[], options?: ErrorOptions) {
    super(message, options);
    this.name = "FunctionError";
    this.code = code;
    this.type = ERROR_CODES[code];
    this.details = details;
  }

  /** The JSON body for the wire. */
  toBody(): ErrorBody {
    const error: ErrorBody["error"] = { code: this.code, type: this.type, message: this.message };
    if (this.details && this.details.length > 0) error.details = this.details;
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
