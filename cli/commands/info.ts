/** `nfn info <fn>`: endpoints, subjects, queue groups, metadata and schemas of every instance of one function. */
import type { Command } from "commander";
import { type GlobalOptions, withConnection } from "../lib/connection.ts";
import { type InfoReply, discoverInfo, functionEndpoint, parseSchema } from "../../runtime/client/index.ts";
import { EXIT } from "../lib/exit-codes.ts";
import { json } from "../lib/format.ts";
import type { CliIo } from "../lib/io.ts";
import { verbAction } from "../lib/program.ts";
import { notRunning } from "../lib/resolve-function.ts";

const SCHEMA_KEYS = new Set(["request_schema", "response_schema"]);

/** Warnings when instances disagree on version or bundle hash (a rollout in progress, or a stale instance). */
export function driftWarnings(instances: InfoReply[]): string[] {
  const warnings: string[] = [];
  const versions = new Set(instances.map((i) => i.version));
  if (versions.size > 1) warnings.push(`instances run different versions: ${[...versions].sort().join(", ")}`);
  const hashes = new Set(instances.flatMap((i) => i.endpoints.map((e) => e.metadata.bundle_sha256 ?? "")).filter(Boolean));
  if (hashes.size > 1) warnings.push(`instances run different bundles: ${[...hashes].sort().join(", ")}`);
  return warnings;
}

/** Prints the instances of `fn`; exit 3 when none answers. */
export async function runInfo(fn: string, opts: GlobalOptions, io: CliIo): Promise<number> {
  return withConnection(opts, io, async (nc, resolved) => {
    const instances = await discoverInfo(nc, { name: fn, timeoutMs: resolved.timeoutMs });
    if (instances.length === 0) throw notRunning(fn, resolved.config.servers);
    const warnings = driftWarnings(instances);
    if (opts.json) {
      io.stdout.write(json({ name: fn, instances, warnings }));
      return EXIT.OK;
    }
    const first = instances[0];
    const out: string[] = [`${fn}: ${first?.description ?? ""}`, `instances: ${instances.length}`, ""];
    for (const inst of instances) {
      out.push(`instance ${inst.id}  version ${inst.version}`);
      for (const [k, v] of Object.entries(inst.metadata)) out.push(`  service metadata ${k}: ${v}`);
      for (const ep of inst.endpoints) {
        out.push(`  endpoint ${ep.name}  subject ${ep.subject}  queue group ${ep.queue_group || "(none)"}`);
        out.push(`    bundle sha256: ${ep.metadata.bundle_sha256 ?? "(not advertised)"}`);
        for (const [k, v] of Object.entries(ep.metadata)) if (!SCHEMA_KEYS.has(k) && k !== "bundle_sha256") out.push(`    ${k}: ${v}`);
      }
      out.push("");
    }
    const endpoint = first && functionEndpoint(first);
    for (const key of SCHEMA_KEYS) {
      const schema = parseSchema(endpoint?.metadata[key]);
      out.push(`${key}:`, schema ? JSON.stringify(schema, null, 2) : "(not advertised)", "");
    }
    io.stdout.write(`${out.join("\n")}`);
    for (const w of warnings) io.stderr.write(`warning: ${w}\n`);
    return EXIT.OK;
  });
}

/** Defines `nfn info`. */
export function register(program: Command): void {
  program
    .command("info")
    .description("show endpoints, subjects, queue groups, metadata, schemas and bundle hash of each instance of a function")
    .argument("<fn>", "function name")
    .option("--json", "print JSON")
    .addHelpText("after", "\nExamples:\n  npx nfn info reserve_stock\n  npx nfn info reserve_stock --json | jq '.instances[].version'")
    .action(verbAction<GlobalOptions>((opts, io, args) => runInfo(args[0] ?? "", opts, io)));
}
