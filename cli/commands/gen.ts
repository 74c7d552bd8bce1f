/** `nfn gen client [fn...] --out client.ts`: a typed TypeScript client from the live `$SRV.INFO` contracts. */
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { contractsOf, discoverInfo, isPublicFunction } from "../../runtime/client/index.ts";
import { clientModule } from "../lib/client-module.ts";
import { type GlobalOptions, withConnection } from "../lib/connection.ts";
import { CliError, usageError } from "../lib/errors.ts";
import { EXIT } from "../lib/exit-codes.ts";
import type { CliIo } from "../lib/io.ts";
import { verbAction } from "../lib/program.ts";
import { notRunning } from "../lib/resolve-function.ts";

/** Options of `nfn gen client`. */
export interface GenClientOptions extends GlobalOptions {
  out?: string;
  import?: string;
}

/** Writes the client module for `fns` (default: every public function running); exit 3 when a named one is not running. */
export async function runGenClient(fns: string[], opts: GenClientOptions, io: CliIo): Promise<number> {
  if (!opts.out) throw usageError("say where to write the client: --out client.ts (or --out - for stdout)");
  return withConnection(opts, io, async (nc, resolved) => {
    const infos = await discoverInfo(nc, { timeoutMs: resolved.timeoutMs });
    // Only public functions: internal ones and other services on the bus are not for callers.
    const contracts = contractsOf(infos.filter(isPublicFunction));
    const chosen = fns.length === 0 ? [...contracts.values()] : fns.map((fn) => contracts.get(fn));
    const missing = fns.filter((fn, i) => !chosen[i]);
    if (missing.length > 0) {
      const internal = missing.filter((fn) => infos.some((i) => i.name === fn));
      if (internal.length > 0) throw new CliError(EXIT.USAGE, `not public functions of this runtime: ${internal.join(", ")}`);
      throw notRunning(missing.join(", "), resolved.config.servers);
    }
    const list = chosen.filter((c) => c !== undefined);
    if (list.length === 0) throw notRunning("any public function", resolved.config.servers);
    const text = clientModule(list, { importFrom: opts.import, source: resolved.config.servers.join(",") });
    if (opts.out === "-") io.stdout.write(text);
    else {
      const file = resolve(io.cwd, opts.out ?? "client.ts");
      writeFileSync(file, text);
      io.stderr.write(`wrote ${file}: ${list.map((c) => c.name).join(", ")}\n`);
    }
    return EXIT.OK;
  });
}

/** Defines `nfn gen client`. */
export function register(program: Command): void {
  const gen = program.command("gen").description("generate code from the live contracts");
  gen
    .command("client")
    .description("write a typed TypeScript client (one async function per public function) from $SRV.INFO")
    .argument("[fn...]", "only these functions (default: every public function running)")
    .option("-o, --out <file>", "where to write the module (- for stdout)")
    .option("--import <specifier>", "module the client imports FunctionClient from", "nats-functions/client")
    .addHelpText(
      "after",
      `
Examples:
  npx nfn gen client --out src/shop-client.ts
  npx nfn gen client check_inventory create_order --out client.ts

In the generated module: import { createClient } from "./client.ts";
  const shop = createClient(nc, { headers: { Authorization: \`Bearer \${token}\` } });
  const stock = await shop.checkInventory({ items: [{ sku: "AOVE-PICUAL-500ML", quantity: 2 }] });
Errors are thrown as CallError (FunctionError with code in ErrorCode).`,
    )
    .action(verbAction<GenClientOptions>((opts, io, args) => runGenClient(args, opts, io)));
}
