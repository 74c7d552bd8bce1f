/** `nfn bench <fn> [payload]`: concurrent requests for a while; throughput, latency percentiles and errors by code. */
import type { Command } from "commander";
import type { NatsConnection } from "@nats-io/nats-core";
import { isFunctionError, replyErrorCode, requestFunction } from "../../runtime/client/index.ts";
import { BenchRecorder, type BenchSummary } from "../lib/bench-stats.ts";
import { type GlobalOptions, withConnection } from "../lib/connection.ts";
import { parseDuration, parsePositiveInt } from "../lib/duration.ts";
import { EXIT } from "../lib/exit-codes.ts";
import { json } from "../lib/format.ts";
import type { CliIo } from "../lib/io.ts";
import { collect, readAuth, requestHeaders, readPayload } from "../lib/payload.ts";
import { verbAction } from "../lib/program.ts";
import { resolveFunction } from "../lib/resolve-function.ts";
import { validateLocally } from "./invoke.ts";

/** Options of `nfn bench`. */
export interface BenchOptions extends GlobalOptions {
  concurrency?: string;
  duration?: string;
  header?: string[];
  auth?: string;
  validate?: boolean;
}

/** Runs the benchmark; exit 1 when any request failed. `signal` ends it early (Ctrl-C) with a summary. */
export async function runBench(
  fn: string,
  payloadArg: string | undefined,
  opts: BenchOptions,
  io: CliIo,
  signal?: AbortSignal,
): Promise<number> {
  const concurrency = parsePositiveInt(opts.concurrency ?? "16", "--concurrency");
  const durationMs = parseDuration(opts.duration ?? "10s", "--duration");
  const headers = requestHeaders(opts.header, await readAuth(opts.auth ?? io.env.NFN_AUTH_TOKEN, io, payloadArg));
  const payload = await readPayload(payloadArg, io);
  return withConnection(opts, io, async (nc, resolved) => {
    const target = await resolveFunction(nc, fn, resolved.timeoutMs, resolved.config.servers);
    if (opts.validate !== false) validateLocally(target, payload.value);
    const recorder = new BenchRecorder();
    const started = performance.now();
    const end = started + durationMs;
    const progress = io.stderr.isTTY
      ? setInterval(() => io.stderr.write(`\r${progressLine(recorder, performance.now() - started)}`), 250)
      : undefined;
    const worker = () =>
      loop(nc, { subject: target.subject, fn, body: payload.text, headers, timeoutMs: resolved.timeoutMs }, recorder, end, signal);
    try {
      await Promise.all(Array.from({ length: concurrency }, worker));
    } finally {
      clearInterval(progress);
      if (progress) io.stderr.write(`\r${progressLine(recorder, performance.now() - started)}\n`);
    }
    const summary = recorder.summary(fn, concurrency, performance.now() - started);
    io.stdout.write(opts.json ? json(summary) : formatSummary(summary));
    return recorder.failed > 0 ? EXIT.SERVICE_ERROR : EXIT.OK;
  });
}

interface BenchRequest {
  subject: string;
  fn: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
}

async function loop(nc: NatsConnection, req: BenchRequest, recorder: BenchRecorder, end: number, signal?: AbortSignal): Promise<void> {
  while (performance.now() < end && !signal?.aborted && !nc.isClosed()) {
    const t0 = process.hrtime.bigint();
    let error: string | undefined;
    try {
      const msg = await requestFunction(nc, req);
      error = replyErrorCode(msg);
    } catch (err) {
      error = isFunctionError(err)
        ? err.code === 504
          ? "timeout"
          : err.code === 503
            ? "no_responders"
            : String(err.code)
        : "client_error";
    }
    recorder.record(Number(process.hrtime.bigint() - t0), error);
  }
}

function progressLine(r: BenchRecorder, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? Math.round((r.requests / elapsedMs) * 1000) : 0;
  return `${(elapsedMs / 1000).toFixed(1)}s  ${r.requests} requests  ${rate} req/s  ${r.failed} errors`;
}

/** The human summary. */
export function formatSummary(s: BenchSummary): string {
  const errors = Object.entries(s.errors)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([code, n]) => `${code}: ${n}`)
    .join(", ");
  return [
    `${s.fn}: ${s.requests} requests in ${(s.durationMs / 1000).toFixed(2)}s with ${s.concurrency} concurrent, ${s.requestsPerSecond} req/s`,
    `latency  p50 ${s.latencyMs.p50} ms  p90 ${s.latencyMs.p90} ms  p99 ${s.latencyMs.p99} ms  max ${s.latencyMs.max} ms`,
    `errors   ${errors || "none"}`,
    "",
  ].join("\n");
}

/** Defines `nfn bench`. */
export function register(program: Command): void {
  program
    .command("bench")
    .description("send requests from N concurrent callers for a while; print req/s, p50/p90/p99 and errors by code")
    .argument("<fn>", "function name")
    .argument("[payload]", "JSON text, @file, or - for stdin (default {})")
    .option("--concurrency <n>", "concurrent callers", "16")
    .option("--duration <duration>", "how long: 10s, 1m, or seconds", "10s")
    .option("-H, --header <key:value>", "request header, repeatable", collect)
    .option("--auth <@file|->", "JWT sent as Authorization: Bearer, read from a file or - (stdin), or given inline (env NFN_AUTH_TOKEN)")
    .option("--no-validate", "do not check the payload against the advertised request_schema first")
    .option("--json", "print the summary as JSON")
    .addHelpText(
      "after",
      `
A live progress line goes to stderr when it is a terminal; the summary always goes to stdout.
Exit 1 when any request failed.
Example:
  npx nfn bench check_inventory '{"items":[{"sku":"AOVE-PICUAL-500ML","quantity":1}]}' --concurrency 32 --duration 15s`,
    )
    .action(
      verbAction<BenchOptions>((opts, io, args) => {
        const stop = new AbortController();
        const onSignal = () => stop.abort();
        process.once("SIGINT", onSignal);
        return runBench(args[0] ?? "", args[1], opts, io, stop.signal).finally(() => process.off("SIGINT", onSignal));
      }),
    );
}
