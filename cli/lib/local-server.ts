/** The record of a development nats-server started by `nfn server start` or `nfn serve`, in `.nfn/server.json`. */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

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

/** Writes the record. */
export function writeServerRecord(cwd: string, record: ServerRecord): void {
  mkdirSync(nfnDir(cwd), { recursive: true });
  writeFileSync(recordPath(cwd), `${JSON.stringify(record, null, 2)}\n`);
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
  return typeof r.pid === "number" && typeof r.url === "string" && typeof r.port === "number" && typeof r.monitorPort === "number";
}
