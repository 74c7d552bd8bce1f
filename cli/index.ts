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
import { register as server } from "./commands/server.ts";
import { register as build } from "./commands/build.ts";
import { register as deploy } from "./commands/deploy.ts";
import { register as releases } from "./commands/releases.ts";
import { register as rollback } from "./commands/rollback.ts";
import { register as undeploy } from "./commands/undeploy.ts";
import { register as worker } from "./commands/worker.ts";
import { register as status } from "./commands/status.ts";

const program = addGlobalOptions(createProgram());
serve(program);
invoke(program);
ls(program);
info(program);
stats(program);
ping(program);
schema(program);
token(program);
server(program);
build(program);
deploy(program);
releases(program);
rollback(program);
undeploy(program);
worker(program);
status(program);

await runProgram(program);
