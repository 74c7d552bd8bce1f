/** `nfn rollback <fn> [version]`: make an earlier release the desired one again. */
import type { Command } from "commander";
import { defaultDeployer, rollbackRelease } from "../../deploy/registry/operations.ts";
import type { GlobalOptions } from "../lib/connection.ts";
import { usageError } from "../lib/errors.ts";
import { EXIT } from "../lib/exit-codes.ts";
import type { CliIo } from "../lib/io.ts";
import { verbAction } from "../lib/program.ts";
import { withRegistry } from "./deploy.ts";

/** Rolls `name` back to `version`, or to the release before the current one. */
export async function runRollback(opts: GlobalOptions, io: CliIo, args: string[]): Promise<number> {
  const [name, version] = args;
  if (name === undefined) throw usageError("nfn rollback needs a function name: nfn rollback <fn> [version]");
  return withRegistry(opts, io, async (registry) => {
    const release = await rollbackRelease(registry, name, version, defaultDeployer(io.env));
    io.stdout.write(
      `rolled back ${name} from ${release.rollbackFrom ?? "?"} to ${release.version} (sha256 ${release.sha256.slice(0, 12)})\n`,
    );
    return EXIT.OK;
  });
}

/** Defines `nfn rollback`. */
export function register(program: Command): void {
  program
    .command("rollback")
    .description("make an earlier release current again: the named version, or the one before the current")
    .argument("<fn>", "the function")
    .argument("[version]", "the version to return to (see nfn releases <fn>)")
    .action(verbAction<GlobalOptions>((opts, io, args) => runRollback(opts, io, args)));
}
