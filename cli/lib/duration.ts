/** Durations on the command line, natscli style: `500ms`, `5s`, `1m`; a bare number means seconds. */
import { usageError } from "./errors.ts";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds for `text`; a usage error that shows the accepted forms when it cannot be read. */
export function parseDuration(text: string, what: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  const unit = UNITS[match?.[2] ?? "s"];
  if (!match?.[1] || unit === undefined) throw usageError(`${what} "${text}" is not a duration: use 500ms, 5s, 1m or a number of seconds`);
  const ms = Math.round(Number(match[1]) * unit);
  if (ms <= 0) throw usageError(`${what} must be more than 0`);
  return ms;
}

/** A positive integer option such as `--count`. */
export function parsePositiveInt(text: string, what: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw usageError(`${what} "${text}" must be a whole number of at least 1`);
  return n;
}
