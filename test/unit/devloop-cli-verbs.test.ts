/** The lazily loaded CLI: which verb argv names, and help from the build equal to help from the sources. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { addGlobalOptions } from "../../cli/lib/connection.ts";
import { createProgram } from "../../cli/lib/program.ts";
import { VERBS, findVerb, registerAll, registerSummaries, verbSummaries } from "../../cli/lib/verbs.ts";
import { runNfn } from "../helpers/cli.ts";

describe("nfn verbs", () => {
  const program = addGlobalOptions(createProgram());

  it("finds the verb after global options and their values, and through `help <verb>`", () => {
    assert.equal(findVerb(program, ["ls"]), "ls");
    assert.equal(findVerb(program, ["-s", "nats://10.0.0.5:4222", "--timeout", "2s", "invoke", "x"]), "invoke");
    assert.equal(findVerb(program, ["--server=nats://a:1", "stats"]), "stats");
    assert.equal(findVerb(program, ["help", "serve"]), "serve");
    assert.equal(findVerb(program, ["--help"]), undefined);
    assert.equal(findVerb(program, []), undefined);
    assert.equal(findVerb(program, ["--", "ls"]), undefined);
  });

  it("a name that is not a verb, such as an Object.prototype key, loads nothing", () => {
    for (const name of ["constructor", "__proto__", "toString", "hasOwnProperty"]) assert.equal(Object.hasOwn(VERBS, name), false, name);
  });

  it("the recorded root help lines print exactly as the real verbs do", async () => {
    const real = addGlobalOptions(createProgram());
    await registerAll(real);
    const stub = addGlobalOptions(createProgram());
    registerSummaries(stub, verbSummaries(real));
    assert.equal(stub.helpInformation(), real.helpInformation());
  });

  it("spawned: help from the build (when current) equals help from the sources", async () => {
    for (const args of [["--help"], ["serve", "--help"], ["server", "start", "--help"], ["help", "test"]]) {
      const [built, source] = await Promise.all([runNfn(args), runNfn(args, { env: { NFN_CLI_FROM_SOURCE: "1" } })]);
      assert.equal(built.code, 0, built.stderr);
      assert.equal(built.stdout, source.stdout, args.join(" "));
    }
  });
});
