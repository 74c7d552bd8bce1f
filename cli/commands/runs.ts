/** `nfn runs ls|show|retry|cancel`: durable invocations in the journal (README: Durable steps). */
import type { Command } from "commander";
import { RunLookupError, RunsAdmin, type RunDetail, type RunStatus, type RunSummary } from "../../runtime/index.ts";
import { type GlobalOptions, withConnection } from "../lib/connection.ts";
import { CliError, usageError } from "../lib/errors.ts";
import { EXIT } from "../lib/exit-codes.ts";
import { json, table } from "../lib/format.ts";
import type { CliIo } from "../lib/io.ts";
import { verbAction } from "../lib/program.ts";

const STATUSES: readonly RunStatus[] = ["running", "waiting", "failed", "done", "cancelled"];

interface RunsOptions extends GlobalOptions {
  status?: string;
  fn?: string;
  limit?: string;
}

const time = (ms: number | undefined) => (ms === undefined || ms === 0 ? "-" : new Date(ms).toISOString());
const short = (value: unknown) => {
  const text = value === undefined ? "" : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
};

async function withAdmin(opts: GlobalOptions, io: CliIo, fn: (admin: RunsAdmin) => Promise<number>): Promise<number> {
  return withConnection(opts, io, async (nc) => {
    try {
      return await fn(await RunsAdmin.open(nc));
    } catch (err) {
      if (err instanceof RunLookupError) {
        const code = err.kind === "not-found" ? EXIT.NO_RESPONDERS : err.kind === "invalid" ? EXIT.USAGE : EXIT.SERVICE_ERROR;
        throw new CliError(code, err.message);
      }
      throw err;
    }
  });
}

/** Lists invocations, newest first. */
export async function runsLs(fn: string | undefined, opts: RunsOptions, io: CliIo): Promise<number> {
  const status = opts.status as RunStatus | undefined;
  if (status !== undefined && !STATUSES.includes(status)) throw usageError(`--status must be one of ${STATUSES.join(", ")}`);
  const limit = opts.limit === undefined ? 100 : Number(opts.limit);
  if (!Number.isInteger(limit) || limit < 1) throw usageError("--limit must be a positive integer");
  return withAdmin(opts, io, async (admin) => {
    const rows: RunSummary[] = await admin.list({ fn, status, limit });
    if (opts.json) io.stdout.write(json(rows));
    else if (rows.length === 0) io.stderr.write("no invocations in the journal\n");
    else
      io.stdout.write(
        table(
          ["ID", "FUNCTION", "STATUS", "CREATED", "ENDED", "RUNS", "ERROR"],
          rows.map((r) => [
            r.id,
            r.fn,
            r.status,
            time(r.createdAt),
            time(r.endedAt),
            String(r.runs),
            r.error ? `${r.error.code} ${r.error.message}` : "",
          ]),
        ),
      );
    return EXIT.OK;
  });
}

/** Prints one invocation step by step. */
export function printRun(detail: RunDetail, io: CliIo): void {
  const lines = [
    `invocation ${detail.id} of ${detail.fn}: ${detail.status}${detail.cancelRequested ? " (cancel requested)" : ""}`,
    `  created ${time(detail.createdAt)}, ended ${time(detail.endedAt)}, runs ${detail.runs}${detail.owner ? `, owner ${detail.owner}` : ""}`,
    `  input ${short(detail.input)}`,
  ];
  if (detail.wake) {
    lines.push(
      detail.wake.kind === "sleep"
        ? `  sleeping until ${time(detail.wake.at)}`
        : `  waiting for ${detail.wake.eventType} ${short(detail.wake.match)} until ${time(detail.wake.at)}`,
    );
  }
  if (detail.result !== undefined) lines.push(`  result ${short(detail.result)}`);
  if (detail.error) lines.push(`  error ${detail.error.code} ${detail.error.type}: ${detail.error.message}`);
  io.stdout.write(`${lines.join("\n")}\n`);
  if (detail.steps.length > 0) {
    io.stdout.write(
      table(
        ["#", "STEP", "KIND", "STATUS", "MS", "ATTEMPTS", "RESULT / ERROR"],
        detail.steps.map((s) => [
          String(s.n),
          s.name,
          s.kind,
          s.status,
          String(s.ms),
          String(s.attempts),
          s.error ? `${s.error.code} ${s.error.message}` : s.status === "waiting" ? `until ${time(s.wakeAt)}` : short(s.result),
        ]),
      ),
    );
  }
}

async function runsOne(verb: "show" | "retry" | "cancel", id: string, opts: RunsOptions, io: CliIo): Promise<number> {
  return withAdmin(opts, io, async (admin) => {
    const detail =
      verb === "show" ? await admin.show(id, opts.fn) : verb === "retry" ? await admin.retry(id, opts.fn) : await admin.cancel(id, opts.fn);
    if (opts.json) io.stdout.write(json(detail));
    else printRun(detail, io);
    return EXIT.OK;
  });
}

/** Defines `nfn runs` and its verbs. */
export function register(program: Command): void {
  const runs = program
    .command("runs")
    .description("durable invocations: list, show step by step, retry, cancel")
    .addHelpText("after", "\nExamples:\n  npx nfn runs ls --status failed\n  npx nfn runs show order-123");
  runs
    .command("ls")
    .description("invocations in the journal, newest first (open ones, and ended ones within retention)")
    .argument("[fn]", "only this function")
    .option("--status <status>", `only this status: ${STATUSES.join(", ")}`)
    .option("--limit <n>", "at most this many (default 100)")
    .option("--json", "print JSON")
    .addHelpText("after", "\nExamples:\n  npx nfn runs ls\n  npx nfn runs ls durable_order --status waiting --json")
    .action(verbAction<RunsOptions>((opts, io, args) => runsLs(args[0], opts, io)));
  const one = (verb: "show" | "retry" | "cancel", description: string) =>
    runs
      .command(verb)
      .description(description)
      .argument("<id>", "the invocation id (the request's Idempotency-Key, or the id in a 202 reply)")
      .option("--fn <name>", "the function, when the id exists for several")
      .option("--json", "print JSON")
      .addHelpText("after", `\nExamples:\n  npx nfn runs ${verb} order-123\n  npx nfn runs ${verb} order-123 --fn create_order --json`)
      .action(verbAction<RunsOptions>((opts, io, args) => runsOne(verb, args[0] ?? "", opts, io)));
  one(
    "show",
    "one invocation: status, input, result or error, and each step with status, duration, attempts, result or error; timers and waits",
  );
  one("retry", "runs a failed invocation again: finished steps keep their results, failed steps run again");
  one("cancel", "cancels an open invocation: its next run (at once when it waits) runs the compensations and ends cancelled");
}
