/** `nfn releases <fn>`: the release history of a function, newest first. */
import type { Command } from "commander";
import type { GlobalOptions } from "../lib/connection.ts";
import { EXIT } from "../lib/exit-codes.ts";
import type { CliIo } from "../lib/io.ts";
import { verbAction } from "../lib/program.ts";
import { withRegistry } from "./deploy.ts";

/** Options of `nfn releases`. */
export interface ReleasesOptions extends GlobalOptions {
  json?: boolean;
}

/** Prints the history of `name`; exit 1 when it was never deployed. */
export async function runReleases(opts: ReleasesOptions, io: CliIo, args: string[]): Promise<number> {
  const name = args[0] ?? "";
  return withRegistry(opts, io, async (registry) => {
    const history = (await registry.history(name)).reverse();
    if (opts.json) {
      io.stdout.write(`${JSON.stringify(history, null, 2)}\n`);
      return history.length > 0 ? EXIT.OK : EXIT.SERVICE_ERROR;
    }
    if (history.length === 0) {
      io.stderr.write(`nfn: ${name} has no releases: nfn build ${name} && nfn deploy ${name}\n`);
      return EXIT.SERVICE_ERROR;
    }
    const rows = history.map((h, i) => {
      const r = h.release;
      const note = h.operation !== "PUT" ? "undeployed" : r?.rollbackFrom ? `rollback from ${r.rollbackFrom}` : "";
      return [
        `${i === 0 && h.operation === "PUT" ? "*" : " "} ${h.revision}`,
        h.at.toISOString().replace(/\.\d+Z$/, "Z"),
        r?.version ?? "-",
        r?.sha256.slice(0, 12) ?? "-",
        r?.deployedBy ?? "-",
        r?.gitRevision ?? "-",
        note,
      ];
    });
    io.stdout.write(table([["  REV", "WHEN", "VERSION", "SHA256", "BY", "GIT", "NOTE"], ...rows]));
    return EXIT.OK;
  });
}

/** Left-aligned columns separated by two spaces. */
export function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length))) ?? [];
  return (
    rows
      .map((r) =>
        r
          .map((cell, c) => cell.padEnd(widths[c] ?? 0))
          .join("  ")
          .trimEnd(),
      )
      .join("\n") + "\n"
  );
}

/** Defines `nfn releases`. */
export function register(program: Command): void {
  program
    .command("releases")
    .description("release history of a function (newest first; * marks the current release)")
    .argument("<fn>", "the function")
    .option("--json", "print JSON")
    .action(verbAction<ReleasesOptions>((opts, io, args) => runReleases(opts, io, args)));
}
