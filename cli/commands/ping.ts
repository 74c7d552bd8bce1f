/** `nfn ping [fn]`: every instance that answers `$SRV.PING`, with its round-trip time. */
import type { Command } from "commander";
import { type GlobalOptions, withConnection } from "../lib/connection.ts";
import { discoverPing } from "../../runtime/client/index.ts";
import { EXIT } from "../lib/exit-codes.ts";
import { formatMs, json, table } from "../lib/format.ts";
import type { CliIo } from "../lib/io.ts";
import { verbAction } from "../lib/program.ts";
import { notRunning, noServicesLine } from "../lib/resolve-function.ts";

/** Pings; exit 3 when a named function has no instance. */
export async function runPing(fn: string | undefined, opts: GlobalOptions, io: CliIo): Promise<number> {
  return withConnection(opts, io, async (nc, resolved) => {
    const replies = await discoverPing(nc, { name: fn, timeoutMs: resolved.timeoutMs });
    if (fn && replies.length === 0) throw notRunning(fn, resolved.config.servers);
    const rows = replies.map((r) => ({ name: r.name, id: r.id, version: r.version, rttMs: Math.round(r.rttMs * 1000) / 1000 }));
    if (opts.json) io.stdout.write(json(rows));
    else if (rows.length === 0) io.stderr.write(noServicesLine(resolved.config.servers));
    else
      io.stdout.write(
        table(
          ["NAME", "ID", "VERSION", "RTT"],
          rows.map((r) => [r.name, r.id, r.version, formatMs(r.rttMs)]),
        ),
      );
    return EXIT.OK;
  });
}

/** Defines `nfn ping`. */
export function register(program: Command): void {
  program
    .command("ping")
    .description("ping every instance (or those of one function) and show the round-trip time")
    .argument("[fn]", "only this function")
    .option("--json", "print JSON")
    .addHelpText("after", "\nExamples:\n  npx nfn ping\n  npx nfn ping reserve_stock --timeout 2s")
    .action(verbAction<GlobalOptions>((opts, io, args) => runPing(args[0], opts, io)));
}
