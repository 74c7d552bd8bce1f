/** One readable line per log event, from the JSON line pino wrote: time, level, function, message, fields. */

/** Options of `formatPretty`. */
export interface PrettyOptions {
  /** ANSI colours. */
  colors: boolean;
}

const LEVEL_COLOR: Record<string, string> = { debug: "\x1b[90m", info: "\x1b[32m", warn: "\x1b[33m", error: "\x1b[31m" };
const DIM = "\x1b[2m";
const BOLD = "\x1b[1m";
const CYAN = "\x1b[36m";
const RESET = "\x1b[0m";
// Request-scoped ids go last: long, and the same on every line of one request.
const TRAILING = ["correlationId", "requestId", "traceId"];
const HEADER = new Set(["time", "level", "msg", "fn", "version", ...TRAILING]);
const MAX_VALUE = 200;

/** Formats one JSON log line; a line that is not JSON is passed through. */
export function formatPretty(line: string, options: PrettyOptions): string {
  let event: unknown;
  try {
    event = JSON.parse(line);
  } catch {
    return line;
  }
  if (typeof event !== "object" || event === null || Array.isArray(event)) return line;
  const e = event as Record<string, unknown>;
  const paint = (code: string | undefined, text: string) => (options.colors && code ? `${code}${text}${RESET}` : text);
  const level = typeof e.level === "string" ? e.level : "info";
  const parts = [paint(DIM, clock(e.time)), paint(LEVEL_COLOR[level], level.toUpperCase().padEnd(5))];
  if (typeof e.fn === "string") parts.push(paint(CYAN, typeof e.version === "string" ? `${e.fn}@${e.version}` : e.fn));
  parts.push(paint(BOLD, String(e.msg ?? "")));
  const stacks: string[] = [];
  for (const [key, value] of Object.entries(e)) {
    if (HEADER.has(key)) continue;
    parts.push(`${key}=${show(value)}`);
    if (level === "error" && isErrorLike(value) && typeof value.stack === "string") stacks.push(value.stack);
  }
  for (const key of TRAILING) if (e[key] !== undefined) parts.push(paint(DIM, `${key}=${show(e[key])}`));
  const tail = stacks.map((s) => `\n${paint(DIM, indent(s))}`).join("");
  return `${parts.join(" ")}${tail}\n`;
}

function clock(time: unknown): string {
  if (typeof time !== "string") return "--:--:--.---";
  const at = time.indexOf("T");
  return at >= 0 ? time.slice(at + 1, at + 13) : time;
}

function isErrorLike(value: unknown): value is { message?: unknown; stack?: unknown } {
  return typeof value === "object" && value !== null && "message" in value && "stack" in value;
}

function show(value: unknown): string {
  if (isErrorLike(value)) return JSON.stringify(String(value.message));
  const text = typeof value === "string" ? (/^[^\s"=]+$/.test(value) ? value : JSON.stringify(value)) : JSON.stringify(value);
  const s = text ?? String(value);
  return s.length > MAX_VALUE ? `${s.slice(0, MAX_VALUE)}…` : s;
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((l) => `    ${l}`)
    .join("\n");
}
