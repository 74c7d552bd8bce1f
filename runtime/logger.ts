/**
 * Logs on stderr through pino: JSON lines (one object a line) for machines, or one readable line per
 * event on a terminal (runtime/log-pretty.ts). `LOG_FORMAT=json|pretty` overrides the choice.
 */
import { pino, type Logger as PinoLogger } from "pino";
import { formatPretty, type PrettyOptions } from "./log-pretty.ts";

/** Log levels, least to most severe. */
export const LOG_LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
/** A level name. */
export type LogLevel = keyof typeof LOG_LEVELS;
/** How lines are written: JSON objects, or readable text for a person. */
export type LogFormat = "json" | "pretty";

/** A logger with bound fields. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every line. */
  child(fields: Record<string, unknown>): Logger;
  /** True when lines of `level` are written (to skip building costly fields). */
  enabled(level: LogLevel): boolean;
}

/** Where and how `createLogger` writes, beyond the level. */
export interface LoggerOptions {
  /** `json` or `pretty`; default `LOG_FORMAT`, else pretty when writing to a terminal. */
  format?: LogFormat;
  /** True when the destination is a terminal (decides the default format). Default: stderr's. */
  tty?: boolean;
  /** Colour in pretty lines. Default: what stderr supports (NO_COLOR, FORCE_COLOR respected). */
  colors?: boolean;
}

/** The level from `LOG_LEVEL`, default info. */
export function levelFromEnv(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const value = env.LOG_LEVEL?.toLowerCase();
  return value !== undefined && Object.hasOwn(LOG_LEVELS, value) ? (value as LogLevel) : "info";
}

/** The format from `LOG_FORMAT` (`json` or `pretty`), undefined when unset or unknown. */
export function formatFromEnv(env: NodeJS.ProcessEnv = process.env): LogFormat | undefined {
  const value = env.LOG_FORMAT?.toLowerCase();
  return value === "json" || value === "pretty" ? value : undefined;
}

/**
 * Creates a logger writing to `write` (stderr by default): JSON lines, or pretty lines on a
 * terminal. Formatting is synchronous and in-process (no pino transport, no worker thread), so a
 * bundle stays one file and a line is written before the process exits.
 */
export function createLogger(
  bound: Record<string, unknown> = {},
  level: LogLevel = levelFromEnv(),
  write?: (line: string) => void,
  options: LoggerOptions = {},
): Logger {
  const tty = options.tty ?? (write === undefined && process.stderr.isTTY === true);
  const format = options.format ?? formatFromEnv() ?? (tty ? "pretty" : "json");
  const out = write ?? ((line: string) => void process.stderr.write(line));
  const pretty: PrettyOptions = { colors: options.colors ?? (tty && stderrHasColors()) };
  const destination = { write: format === "pretty" ? (line: string) => out(formatPretty(line, pretty)) : out };
  const root = pino(
    {
      level: level === "silent" ? "silent" : level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }), log: plainValues },
    },
    destination,
  );
  return wrap(Object.keys(bound).length > 0 ? root.child(plainValues(bound)) : root);
}

function wrap(p: PinoLogger): Logger {
  return {
    debug: (msg, fields) => (fields ? p.debug(fields, msg) : p.debug(msg)),
    info: (msg, fields) => (fields ? p.info(fields, msg) : p.info(msg)),
    warn: (msg, fields) => (fields ? p.warn(fields, msg) : p.warn(msg)),
    error: (msg, fields) => (fields ? p.error(fields, msg) : p.error(msg)),
    child: (fields) => wrap(p.child(plainValues(fields))),
    enabled: (lvl) => lvl !== "silent" && p.isLevelEnabled(lvl),
  };
}

function stderrHasColors(): boolean {
  return process.stderr.isTTY === true && typeof process.stderr.hasColors === "function" && process.stderr.hasColors();
}

// Errors have no enumerable fields and bigints do not serialise: make both plain, at any key.
function plainValues(fields: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(fields)) {
    const plain = plainValue(value, 0);
    if (plain !== value) (out ??= { ...fields })[key] = plain;
  }
  return out ?? fields;
}

function plainValue(value: unknown, depth: number): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) {
    const cause = depth < 4 && value.cause !== undefined ? plainValue(value.cause, depth + 1) : value.cause;
    return { name: value.name, message: value.message, stack: value.stack, cause };
  }
  return value;
}
