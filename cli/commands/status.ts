/** `nfn status`: per function, the desired release against what every running instance serves; flags skew and drift. */
import type { Command } from "commander";
import type { Release } from "../../deploy/registry/release.ts";
import type { GlobalOptions } from "../lib/connection.ts";
import { discoverInfo, type InfoReply } from "../../runtime/client/index.ts";
import { EXIT } from "../lib/exit-codes.ts";
import type { CliIo } from "../lib/io.ts";
import { verbAction } from "../lib/program.ts";
import { withRegistry } from "./deploy.ts";
import { table } from "./releases.ts";

/** Options of `nfn status`. */
export interface StatusOptions extends GlobalOptions {
  json?: boolean;
  check?: boolean;
}

/**
 * The state of one function: `ok` every instance runs the desired bundle; `rolling` some do and
 * some run another (skew during an update); `drift` none runs it, or it runs without being
 * deployed; `down` deployed but no instance answers.
 */
export type FunctionState = "ok" | "rolling" | "drift" | "down";

/** One row of `nfn status`. */
export interface FunctionStatus {
  name: string;
  desired: { version: string; sha256: string } | null;
  /** `worker` is the worker's name (service metadata), "" for processes that are not workers. */
  instances: { id: string; worker: string; version: string; sha256: string }[];
  state: FunctionState;
  /** Instances disagree with each other. */
  skew: boolean;
}

/** Compares desired releases with INFO replies (only nats-functions services, those with bundle_sha256). */
export function compareStatus(desired: ReadonlyMap<string, Release>, infos: InfoReply[]): FunctionStatus[] {
  const running = new Map<string, FunctionStatus["instances"]>();
  for (const info of infos) {
    const sha = info.endpoints[0]?.metadata.bundle_sha256;
    if (sha === undefined) continue;
    running.set(info.name, [
      ...(running.get(info.name) ?? []),
      { id: info.id, worker: info.metadata.worker ?? "", version: info.version, sha256: sha },
    ]);
  }
  const names = [...new Set([...desired.keys(), ...running.keys()])].sort();
  return names.map((name) => {
    const release = desired.get(name);
    const instances = running.get(name) ?? [];
    const onDesired = instances.filter((i) => i.sha256 === release?.sha256).length;
    const skew = new Set(instances.map((i) => i.sha256)).size > 1;
    let state: FunctionState;
    if (!release) state = "drift";
    else if (instances.length === 0) state = "down";
    else if (onDesired === instances.length) state = "ok";
    else state = onDesired > 0 ? "rolling" : "drift";
    return { name, desired: release ? { version: release.version, sha256: release.sha256 } : null, instances, state, skew };
  });
}

/** Prints the status; with `--check` exits 1 unless every function is ok. */
export async function runStatus(opts: StatusOptions, io: CliIo): Promise<number> {
  return withRegistry(opts, io, async (registry, nc, resolved) => {
    const [desired, infos] = await Promise.all([registry.all(), discoverInfo(nc, { timeoutMs: resolved.timeoutMs })]);
    const rows = compareStatus(desired, infos);
    if (opts.json) io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    else if (rows.length === 0) io.stdout.write("nothing deployed and no function running: nfn build && nfn deploy <fn>\n");
    else {
      const lines: string[][] = [["FUNCTION", "DESIRED", "WORKER", "INSTANCE", "RUNS", "STATE"]];
      for (const r of rows) {
        const want = r.desired ? `${r.desired.version} ${r.desired.sha256.slice(0, 12)}` : "(not deployed)";
        const state = `${r.state}${r.skew ? ", skew" : ""}`;
        if (r.instances.length === 0) lines.push([r.name, want, "-", "-", "-", state]);
        r.instances.forEach((i, k) => {
          const mark = r.desired && i.sha256 !== r.desired.sha256 ? "  <- differs" : "";
          lines.push([
            k === 0 ? r.name : "",
            k === 0 ? want : "",
            i.id,
            `${i.version} ${i.sha256.slice(0, 12)}${mark}`,
            k === 0 ? state : "",
          ]);
        });
      }
      io.stdout.write(table(lines));
    }
    return opts.check && rows.some((r) => r.state !== "ok") ? EXIT.SERVICE_ERROR : EXIT.OK;
  });
}

/** Defines `nfn status`. */
export function register(program: Command): void {
  program
    .command("status")
    .description("desired release of every function against what each running instance serves (skew, drift)")
    .option("--json", "print JSON")
    .option("--check", "exit 1 unless every function runs its desired release everywhere")
    .addHelpText(
      "after",
      `
States: ok (every instance runs the release), rolling (an update is under way: some run another
bundle), drift (no instance runs the release, or a function runs that is not deployed), down
(deployed, nothing answers). "skew" marks instances that disagree with each other.`,
    )
    .action(verbAction<StatusOptions>((opts, io) => runStatus(opts, io)));
}
