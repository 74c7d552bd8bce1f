/** The record of a development nats-server started by `nfn server start` or `nfn serve`, in `.nfn/server.json`. */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";

/** What `.nfn/server.json` holds. */
export interface ServerRecord {
  pid: number;
  url: string;
  port: number;
  monitorPort: number;
  storeDir: string;
  /** "server" for `nfn server start`, "serve" when `nfn serve` started it for itself. */
  startedBy: "server" | "serve";
  startedAt: string;
  /** The process's start time as the OS counts it (Linux: clock ticks after boot), so a reused pid is told apart. */
  procStart?: string;
}

/** The `.nfn/` directory of a project. */
export function nfnDir(cwd: string): string {
  return join(cwd, ".nfn");
}

function recordPath(cwd: string): string {
  return join(nfnDir(cwd), "server.json");
}

/** True when a process with `pid` exists. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The recorded server when its process is still alive, else undefined (a stale record is removed). */
export function readServerRecord(cwd: string): ServerRecord | undefined {
  const path = recordPath(cwd);
  if (!existsSync(path)) return undefined;
  let record: unknown;
  try {
    record = JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
  if (!isServerRecord(record)) return undefined;
  if (!processAlive(record.pid)) {
    rmSync(path, { force: true });
    return undefined;
  }
  return record;
}

/** Writes the record, with the process's start time when the OS tells it. */
export function writeServerRecord(cwd: string, record: ServerRecord): void {
  mkdirSync(nfnDir(cwd), { recursive: true });
  const procStart = record.procStart ?? processIdentity(record.pid)?.start;
  writeFileSync(recordPath(cwd), `${JSON.stringify(procStart ? { ...record, procStart } : record, null, 2)}\n`);
}

/** A running process as the OS describes it: its argv and its start time (absent where the OS does not say). */
export interface ProcessIdentity {
  argv: string[];
  start?: string;
}

/** The argv and start time of `pid` from /proc (Linux), else from `ps`; undefined when no such process can be read. */
export function processIdentity(pid: number): ProcessIdentity | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    // Field 22 of stat is the start time; the command name (field 2) may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const start = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    return start ? { argv, start } : { argv };
  } catch {
    // no /proc (macOS, BSD) or no such process
  }
  try {
    const out = execFileSync("ps", ["-p", String(pid), "-o", "lstart=", "-o", "command="], { encoding: "utf8" }).trim();
    // lstart is 5 words ("Tue Dec  1 21:06:01 2026"), the command follows.
    const words = out.split(/\s+/);
    return words.length > 5 ? { argv: words.slice(5), start: words.slice(0, 5).join(" ") } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why the process `record.pid` is not the nats-server the record describes (a pid reused by another
 * program after the server died), or undefined when it is: its argv names nats-server and the
 * record's store directory, and its start time matches the recorded one.
 */
export function whyNotRecordedServer(record: ServerRecord): string | undefined {
  const id = processIdentity(record.pid);
  if (!id) return `process ${record.pid} cannot be inspected`;
  const program = basename(id.argv[0] ?? "");
  if (program !== "nats-server") return `process ${record.pid} is ${program.slice(0, 64) || "unknown"}, not nats-server`;
  if (!id.argv.includes(record.storeDir)) return `process ${record.pid} is a nats-server with another store directory`;
  if (record.procStart && id.start && record.procStart !== id.start) return `process ${record.pid} started after the recorded server`;
  return undefined;
}

/** Removes the record when it is the one of `pid`. */
export function clearServerRecord(cwd: string, pid: number): void {
  const path = recordPath(cwd);
  try {
    const record: unknown = JSON.parse(readFileSync(path, "utf8"));
    if (isServerRecord(record) && record.pid !== pid) return;
  } catch {
    return;
  }
  rmSync(path, { force: true });
}

function isServerRecord(value: unknown): value is ServerRecord {
  if (typeof value !== "object" || value === null) return false;
  const r = value as Record<string, unknown>;
  return (
    typeof r.pid === "number" &&
    typeof r.url === "string" &&
    typeof r.port === "number" &&
    typeof r.monitorPort === "number" &&
    typeof r.storeDir === "string"
  );
}
