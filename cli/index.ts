/** The `nfn` command line: global options and one register call per verb (each verb lives in cli/commands/). */
import { addGlobalOptions } from "./lib/connection.ts";
import { createProgram, runProgram } from "./lib/program.ts";
import { register as serve } from "./commands/serve.ts";
import { register as gateway } from "./commands/gateway.ts";
import { register as dashboard } from "./commands/dashboard.ts";

const program = addGlobalOptions(createProgram());
serve(program);
gateway(program);
dashboard(program);

await runProgram(program);
