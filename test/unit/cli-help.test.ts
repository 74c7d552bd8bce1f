/** Every nfn verb of the CLI issue answers --help with an example, and usage errors exit 2. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CommanderError } from "commander";
import { register as bench } from "../../cli/commands/bench.ts";
import { register as dev } from "../../cli/commands/dev.ts";
import { register as info } from "../../cli/commands/info.ts";
import { register as invoke } from "../../cli/commands/invoke.ts";
import { register as ls } from "../../cli/commands/ls.ts";
import { register as ping } from "../../cli/commands/ping.ts";
import { register as schema } from "../../cli/commands/schema.ts";
import { register as serve } from "../../cli/commands/serve.ts";
import { register as server } from "../../cli/commands/server.ts";
import { register as stats } from "../../cli/commands/stats.ts";
import { register as token } from "../../cli/commands/token.ts";
import { register as runs } from "../../cli/commands/runs.ts";
import { addGlobalOptions } from "../../cli/lib/connection.ts";
import { createProgram } from "../../cli/lib/program.ts";
import { runNfn } from "../helpers/cli.ts";

const VERBS = [
  "serve",
  "dev",
  "server",
  "server start",
  "server stop",
  "server status",
  "invoke",
  "ls",
  "info",
  "stats",
  "ping",
  "schema",
  "token",
  "bench",
  "runs",
  "runs ls",
  "runs show",
  "runs retry",
  "runs cancel",
];

/** The help text of `args`, rendered in-process by the same register() calls cli/index.ts makes. */
async function help(args: string[]): Promise<string> {
  let out = "";
  const program = addGlobalOptions(createProgram().configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (out += s) }));
  for (const register of [serve, dev, invoke, ls, info, stats, ping, schema, token, server, bench, runs]) register(program);
  await assert.rejects(
    program.parseAsync(["node", "nfn", ...args, "--help"]),
    (err: unknown) => err instanceof CommanderError && err.exitCode === 0,
  );
  return out;
}

describe("nfn --help", () => {
  it("prints usage and an example for every verb", async () => {
    for (const verb of VERBS) {
      const text = await help(verb.split(" "));
      assert.match(text, new RegExp(`^Usage: nfn ${verb}`), verb);
      assert.match(text, /Examples?:\n {2}.*npx nfn /, `${verb} has an example`);
    }
  });

  it("spawned: --help exits 0, and a missing argument or an unknown option exits 2 with the reason on stderr", async () => {
    const nfn = (args: string[]) => runNfn(args);
    const [ok, missing, unknown] = await Promise.all([nfn(["invoke", "--help"]), nfn(["invoke"]), nfn(["ls", "--frobnicate"])]);
    assert.equal(ok.code, 0);
    assert.match(
      ok.stdout,
      /Exit codes: 0 ok, 1 the function replied with an error, 2 usage or invalid payload,\n\s+3 no responders, 4 timeout, 5 cannot connect to NATS/,
    );
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /error: missing required argument 'fn'/);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /error: unknown option '--frobnicate'/);
  });
});
