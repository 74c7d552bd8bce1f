/** Structured JSON logs on stderr, one object a line. */

/** Log levels, least to most severe. */
export const LOG_LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
/** A level name. */
export type LogLevel = keyof typeof LOG_LEVELS;

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

/** The level from `LOG_LEVEL`, default info. */
export function levelFromEnv(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const value = env.LOG_LEVEL?.toLowerCase();
  return value !== undefined && Object.hasOwn(LOG_LEVELS, value) ? (value as LogLevel) : "info";
}

/** Creates a logger writing JSON lines to `write` (stderr by default). */
export function createLogger(
  bound: Record<string, unknown> = {},
  level: LogLevel = levelFromEnv(),
  write: (line: string) => void = (line) => process.stderr.write(line),
): Logger {
  const threshold = LOG_LEVELS[level];
  const emit = (lvl: Exclude<LogLevel, "silent">, msg: string, fields?: Record<string, unknown>) => {
    if (LOG_LEVELS[lvl] < threshold) return;
    const line = { time: new Date().toISOString(), level: lvl, msg, ...bound, ...fields };
    write(`${JSON.stringify(line, errorReplacer)}\n`);
  };
  return {
    debug: (msg, fields) => emit("debug", msg, fields),
    info: (msg, fields) => emit("info", msg, fields),
    warn: (msg, fields) => emit("warn", msg, fields),
    error: (msg, fields) => emit("error", msg, fields),
    child: (fields) => createLogger({ ...bound, ...fields }, level, write),
    enabled: (lvl) => LOG_LEVELS[lvl] >= threshold,
  };
}

// Errors have no enumerable fields; log their message, stack and cause.
function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    return { name: value.name, message: value.message, stack: value.stack, cause: value.cause };
  }
  if (typeof value === "bigint") return value.toString();
  return value;
}
