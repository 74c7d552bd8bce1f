/** `nfn ls`: the running functions (any ADR-32 service), like `nats micro ls`. */
import type { Command } from "commander";
import { type GlobalOptions, withConnection } from "../lib/connection.ts";
import { type InfoReply, discoverInfo } from "../../runtime/client/index.ts";
import { EXIT } from "../lib/exit-codes.ts";
import { json, table } from "../lib/format.ts";
import type { CliIo } from "../lib/io.ts";
import { verbAction } from "../lib/program.ts";
import { noServicesLine } from "../lib/resolve-function.ts";

/** One row of `nfn ls`. */
export interface ServiceSummary {
  name: string;
  /** Distinct versions among the instances, ascending. */
  versions: string[];
  instances: number;
  description: string;
}

/** Groups INFO replies by service name. */
export function summarize(replies: InfoReply[]): ServiceSummary[] {
  const byName = new Map<string, InfoReply[]>();
  for (const r of replies) byName.set(r.name, [...(byName.get(r.name) ?? []), r]);
  return [...byName]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, list]) => ({
      name,
      versions: [...new Set(list.map((r) => r.version))].sort(),
      instances: list.length,
      description: list[0]?.description ?? "",
    }));
}

/** Lists services; returns the exit code. */
export async function runLs(opts: GlobalOptions, io: CliIo): Promise<number> {
  return withConnection(opts, io, async (nc, resolved) => {
    const services = summarize(await discoverInfo(nc, { timeoutMs: resolved.timeoutMs }));
    if (opts.json) io.stdout.write(json(services));
    else if (services.length === 0) io.stderr.write(noServicesLine(resolved.config.servers));
    else
      io.stdout.write(
        table(
          ["NAME", "VERSION", "INSTANCES", "DESCRIPTION"],
          services.map((s) => [s.name, s.versions.join(","), String(s.instances), s.description]),
        ),
      );
    return EXIT.OK;
  });
}

/** Defines `nfn ls`. */
export function register(program: Command): void {
  program
    .command("ls")
    .description("list running functions (every ADR-32 service): name, version, instances, description")
    .option("--json", "print JSON")
    .addHelpText("after", "\nExamples:\n  npx nfn ls\n  npx nfn ls --json -s nats://10.0.0.5:4222")
    .action(verbAction<GlobalOptions>((opts, io) => runLs(opts, io)));
}
