/** `nfn undeploy <fn...>`: remove the desired release, so every worker stops serving the function. */
import type { Command } from "commander";
import type { GlobalOptions } from "../lib/connection.ts";
import { EXIT } from "../lib/exit-codes.ts";
import type { CliIo } from "../lib/io.ts";
import { verbAction } from "../lib/program.ts";
import { withRegistry } from "./deploy.ts";

/** Undeploys each named function; exit 1 when one of them was not deployed. */
export async function runUndeploy(opts: GlobalOptions, io: CliIo, names: string[]): Promise<number> {
  return withRegistry(opts, io, async (registry) => {
    let code: number = EXIT.OK;
    for (const name of names) {
      if (await registry.remove(name)) {
        io.stdout.write(`undeployed ${name}: workers stop serving it (in-flight requests finish); nfn rollback ${name} brings it back\n`);
      } else {
        io.stderr.write(`nfn: ${name} is not deployed (see nfn status)\n`);
        code = EXIT.SERVICE_ERROR;
      }
    }
    return code;
  });
}

/** Defines `nfn undeploy`. */
export function register(program: Command): void {
  program
    .command("undeploy")
    .description("stop serving functions on every worker (the bundles and release history stay, for rollback)")
    .argument("<fn...>", "functions to undeploy")
    .action(verbAction<GlobalOptions>((opts, io, args) => runUndeploy(opts, io, args)));
}
