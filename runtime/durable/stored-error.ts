/** Errors into and out of the journal. */
import { ERROR_CODES, FunctionError, isErrorCode, isFunctionError } from "../errors.ts";
import type { StoredError } from "./records.ts";

/** What the journal keeps of an error: contract errors as they are, anything else as 500 with its text (for the operator). */
export function storeError(err: unknown): StoredError {
  if (isFunctionError(err)) {
    const stored: StoredError = { code: err.code, type: err.type, message: err.message };
    if (err.details && err.details.length > 0) stored.details = err.details;
    return stored;
  }
  const message = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return { code: 500, type: ERROR_CODES[500], message: message.slice(0, 1000) };
}

/** The FunctionError a stored error replays as; a 500 keeps its text off the wire. */
export function replayError(stored: StoredError): FunctionError {
  const code = isErrorCode(stored.code) ? stored.code : 500;
  if (code === 500) return new FunctionError(500, "internal error", undefined, { cause: new Error(stored.message) });
  return new FunctionError(code, stored.message, stored.details);
}
