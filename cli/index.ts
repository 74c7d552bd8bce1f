/**
 * The `nfn` command line: global options, then the verb being run (each verb lives in cli/commands/,
 * listed in cli/lib/verbs.ts). Only that verb is imported, so `nfn <verb> --help` answers at once.
 */
import { addGlobalOptions } from "./lib/connection.ts";
import { createProgram, runProgram } from "./lib/program.ts";
import { VERBS, type VerbSummary, findVerb, registerAll, registerSummaries } from "./lib/verbs.ts";

// Set by the CLI build (cli/build-cli.mjs): the root help's verb lines, so `nfn --help` imports no verb.
declare const __NFN_VERB_SUMMARIES__: VerbSummary[] | undefined;
const summaries = typeof __NFN_VERB_SUMMARIES__ === "undefined" ? undefined : __NFN_VERB_SUMMARIES__;

const program = addGlobalOptions(createProgram());
const verb = findVerb(program, process.argv.slice(2));
const load = verb !== undefined && Object.hasOwn(VERBS, verb) ? VERBS[verb] : undefined;
if (load) (await load()).register(program);
else if (verb === undefined && summaries) registerSummaries(program, summaries);
else await registerAll(program);

await runProgram(program);

// The verb is done (long-running ones have shut down): exit now, even when a library left a handle
// open (the NATS client keeps the socket of a connect attempt that timed out), once output is flushed.
process.stdout.write("", () => process.stderr.write("", () => process.exit()));
