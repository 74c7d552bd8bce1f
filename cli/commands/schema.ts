/** `nfn schema <fn>`: the request and response schemas a function advertises, or a valid example payload. */
import type { Command } from "commander";
import { type GlobalOptions, withConnection } from "../lib/connection.ts";
import { CliError } from "../lib/errors.ts";
import { EXIT } from "../lib/exit-codes.ts";
import { json } from "../lib/format.ts";
import type { CliIo } from "../lib/io.ts";
import { verbAction } from "../lib/program.ts";
import { resolveFunction } from "../lib/resolve-function.ts";
import { exampleFor } from "../lib/schema-example.ts";

/** Options of `nfn schema`. */
export interface SchemaOptions extends GlobalOptions {
  example?: boolean;
}

/** Prints the schemas (or an example); exit 3 when the function does not answer. */
export async function runSchema(fn: string, opts: SchemaOptions, io: CliIo): Promise<number> {
  return withConnection(opts, io, async (nc, resolved) => {
    const target = await resolveFunction(nc, fn, resolved.timeoutMs, resolved.config.servers);
    if (opts.example) {
      if (!target.requestSchema)
        throw new CliError(
          EXIT.SERVICE_ERROR,
          `${fn} advertises no request_schema in its INFO metadata, so there is nothing to build an example from`,
        );
      io.stdout.write(opts.json ? `${JSON.stringify(exampleFor(target.requestSchema))}\n` : json(exampleFor(target.requestSchema)));
      return EXIT.OK;
    }
    if (opts.json) io.stdout.write(json({ name: fn, request: target.requestSchema ?? null, response: target.responseSchema ?? null }));
    else {
      const show = (s: object | undefined) => (s ? JSON.stringify(s, null, 2) : "(not advertised)");
      io.stdout.write(
        `request_schema of ${fn}:\n${show(target.requestSchema)}\n\nresponse_schema of ${fn}:\n${show(target.responseSchema)}\n`,
      );
    }
    return EXIT.OK;
  });
}

/** Defines `nfn schema`. */
export function register(program: Command): void {
  program
    .command("schema")
    .description("print the request/response JSON Schemas a function advertises in $SRV.INFO")
    .argument("<fn>", "function name")
    .option("--example", "print a valid example request payload generated from the request schema")
    .option("--json", "print JSON (with --example: the payload on one line)")
    .addHelpText(
      "after",
      '\nExamples:\n  npx nfn schema check_inventory\n  npx nfn invoke check_inventory "$(npx nfn schema check_inventory --example --json)"',
    )
    .action(verbAction<SchemaOptions>((opts, io, args) => runSchema(args[0] ?? "", opts, io)));
}
