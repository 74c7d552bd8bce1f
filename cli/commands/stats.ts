/** `nfn stats [fn]`: `$SRV.STATS` per instance and per function. */
import type { Command } from "commander";
import { type GlobalOptions, withConnection } from "../lib/connection.ts";
import { type StatsReply, discoverStats } from "../../runtime/client/index.ts";
import { EXIT } from "../lib/exit-codes.ts";
import { formatNs, json, table } from "../lib/format.ts";
import type { CliIo } from "../lib/io.ts";
import { verbAction } from "../lib/program.ts";
import { notRunning, noServicesLine } from "../lib/resolve-function.ts";

/** One row: an instance's endpoint, or a function's total (`id` "total"). */
export interface StatsRow {
  name: string;
  id: string;
  endpoint: string;
  requests: number;
  errors: number;
  averageNs: number;
  /** Percentiles only exist per instance; a total over several instances leaves them null. */
  p50Ns: number | null;
  p99Ns: number | null;
  inFlight: number | null;
  rejected: number | null;
  lastError: string;
}

function dataNumber(data: Record<string, unknown>, key: string): number | null {
  const v = data[key];
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

/** Instance rows, then a total row per function (exact sums; the average weighted by requests). */
export function statsRows(replies: StatsReply[]): StatsRow[] {
  const rows: StatsRow[] = [];
  const byName = new Map<string, StatsRow[]>();
  for (const r of replies) {
    for (const e of r.endpoints) {
      const row: StatsRow = {
        name: r.name,
        id: r.id,
        endpoint: e.name,
        requests: e.num_requests,
        errors: e.num_errors,
        averageNs: e.average_processing_time,
        p50Ns: dataNumber(e.data, "p50_ns"),
        p99Ns: dataNumber(e.data, "p99_ns"),
        inFlight: dataNumber(e.data, "in_flight"),
        rejected: dataNumber(e.data, "rejected"),
        lastError: e.last_error,
      };
      rows.push(row);
      byName.set(r.name, [...(byName.get(r.name) ?? []), row]);
    }
  }
  for (const [name, list] of byName) {
    if (list.length < 2) continue;
    const requests = sum(list.map((r) => r.requests));
    const sumOrNull = (pick: (r: StatsRow) => number | null) =>
      list.every((r) => pick(r) !== null) ? sum(list.map((r) => pick(r) ?? 0)) : null;
    rows.push({
      name,
      id: "total",
      endpoint: "",
      requests,
      errors: sum(list.map((r) => r.errors)),
      averageNs: requests === 0 ? 0 : Math.round(sum(list.map((r) => r.averageNs * r.requests)) / requests),
      p50Ns: null,
      p99Ns: null,
      inFlight: sumOrNull((r) => r.inFlight),
      rejected: sumOrNull((r) => r.rejected),
      lastError: list.map((r) => r.lastError).find(Boolean) ?? "",
    });
  }
  return rows.sort(
    (a, b) => a.name.localeCompare(b.name) || Number(a.id === "total") - Number(b.id === "total") || a.id.localeCompare(b.id),
  );
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** Prints stats; exit 3 when a named function has no instance. */
export async function runStats(fn: string | undefined, opts: GlobalOptions, io: CliIo): Promise<number> {
  return withConnection(opts, io, async (nc, resolved) => {
    const replies = await discoverStats(nc, { name: fn, timeoutMs: resolved.timeoutMs });
    if (fn && replies.length === 0) throw notRunning(fn, resolved.config.servers);
    const rows = statsRows(replies);
    if (opts.json) {
      io.stdout.write(json({ rows, replies }));
      return EXIT.OK;
    }
    if (rows.length === 0) {
      io.stderr.write(noServicesLine(resolved.config.servers));
      return EXIT.OK;
    }
    const opt = (v: number | null, f: (n: number) => string = String) => (v === null ? "-" : f(v));
    io.stdout.write(
      table(
        ["NAME", "INSTANCE", "REQUESTS", "ERRORS", "AVERAGE", "P50", "P99", "IN FLIGHT", "REJECTED", "LAST ERROR"],
        rows.map((r) => [
          r.name,
          r.id,
          String(r.requests),
          String(r.errors),
          formatNs(r.averageNs),
          opt(r.p50Ns, formatNs),
          opt(r.p99Ns, formatNs),
          opt(r.inFlight),
          opt(r.rejected),
          r.lastError,
        ]),
      ),
    );
    return EXIT.OK;
  });
}

/** Defines `nfn stats`. */
export function register(program: Command): void {
  program
    .command("stats")
    .description("requests, errors, average, p50/p99, in flight, rejected and last error per instance and per function")
    .argument("[fn]", "only this function")
    .option("--json", "print JSON (the rows, and the raw $SRV.STATS replies)")
    .addHelpText("after", "\nExamples:\n  npx nfn stats\n  npx nfn stats check_inventory --json")
    .action(verbAction<GlobalOptions>((opts, io, args) => runStats(args[0], opts, io)));
}
