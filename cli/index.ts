/** The `nfn` command line: global options and one register call per verb (each verb lives in cli/commands/). */
import { addGlobalOptions } from "./lib/connection.ts";
import { createProgram, runProgram } from "./lib/program.ts";
import { register as serve } from "./commands/serve.ts";
import { register as invoke } from "./commands/invoke.ts";
import { register as ls } from "./commands/ls.ts";
import { register as info } from "./commands/info.ts";
import { register as stats } from "./commands/stats.ts";
import { register as ping } from "./commands/ping.ts";
import { register as schema } from "./commands/schema.ts";
import { register as token } from "./commands/token.ts";

const program = addGlobalOptions(createProgram());
serve(program);
invoke(program);
ls(program);
info(program);
stats(program);
ping(program);
schema(program);
token(program);

await runProgram(program);
