/** `nfn worker`: a long-running host that serves whatever is deployed, hot-swapping on each release. */
import type { Command } from "commander";
import { resolve } from "node:path";
import { parseTrustedSigners } from "../../deploy/registry/signing.ts";
import { parseNameList } from "../../deploy/worker/filter.ts";
import { startWorker } from "../../deploy/worker/worker.ts";
import { type GlobalOptions, resolveConnection } from "../lib/connection.ts";
import { CliError } from "../lib/errors.ts";
import { EXIT } from "../lib/exit-codes.ts";
import type { CliIo } from "../lib/io.ts";
import { verbAction } from "../lib/program.ts";
import { waitForSignal } from "../lib/wait-for-signal.ts";

/** Options of `nfn worker`. */
export interface WorkerVerbOptions extends GlobalOptions {
  only?: string;
  except?: string;
  cacheDir?: string;
}

/** Runs a worker until SIGINT/SIGTERM, then drains every function. */
export async function runWorker(opts: WorkerVerbOptions, io: CliIo, until: Promise<unknown> = waitForSignal()): Promise<number> {
  const { config } = resolveConnection(opts, io);
  let trustedSigners: string[];
  try {
    trustedSigners = parseTrustedSigners(io.env.NFN_TRUSTED_SIGNERS);
  } catch (err) {
    throw new CliError(EXIT.USAGE, err instanceof Error ? err.message : String(err));
  }
  const abort = new AbortController();
  void until.then(() => abort.abort(new Error("stopped before NATS was reachable")));
  const worker = await startWorker({
    config: { ...config, clientName: io.env.NATS_CLIENT_ID ?? `nfn-worker-${process.pid}` },
    selection: { only: parseNameList(opts.only), except: parseNameList(opts.except) },
    cacheDir: opts.cacheDir ? resolve(io.cwd, opts.cacheDir) : io.env.NFN_CACHE_DIR ? resolve(io.cwd, io.env.NFN_CACHE_DIR) : undefined,
    trustedSigners,
    signal: abort.signal,
  });
  await until;
  io.stderr.write("nfn worker: stopping: no new requests, finishing those in flight\n");
  await worker.stop();
  return EXIT.OK;
}

/** Defines `nfn worker`. */
export function register(program: Command): void {
  program
    .command("worker")
    .description("serve every deployed function (or a chosen few), following releases as they change")
    .option("--only <fns>", "run only these functions (comma-separated; a trailing * matches a prefix)")
    .option("--except <fns>", "run every function but these")
    .option("--cache-dir <dir>", "where fetched bundles are written, made 0700 (env NFN_CACHE_DIR; default a new private temp dir)")
    .addHelpText(
      "after",
      `
Each worker joins queue group q for every function it runs, so workers on many machines share the
load. A new release is registered before the old one drains. A release runs only when it is signed
by a key in NFN_TRUSTED_SIGNERS (comma-separated public nkeys, U...) and its bundle's sha256 matches,
checked before anything is written or imported; otherwise it is refused and the running version keeps
serving. Without NFN_TRUSTED_SIGNERS every release is refused. Stops gracefully on SIGTERM/SIGINT.

Examples:
  NATS_URL=nats://10.0.0.5:4222 npx nfn worker
  npx nfn worker --only create_order,get_order
  npx nfn worker --except 'notify_*'`,
    )
    .action(verbAction<WorkerVerbOptions>((opts, io) => runWorker(opts, io)));
}
