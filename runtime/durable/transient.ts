/** Which errors are transient: the invocation can go on later, so it must not end on them. */
import { toFunctionError } from "../errors.ts";

/** True for 503 UNAVAILABLE (no responders, the state store away) and 504 TIMEOUT, as the contract maps them. */
export function isTransientError(err: unknown): boolean {
  const code = toFunctionError(err).code;
  return code === 503 || code === 504;
}
