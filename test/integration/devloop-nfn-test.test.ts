/** `nfn test`: passes when every contract holds, fails (exit 1) when a reply breaks its own response schema. */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { runNfn } from "../helpers/cli.ts";

const RUNTIME = pathToFileURL(join(import.meta.dirname, "../../runtime/index.ts")).href;

// A function whose reply is `{ greeting }`; `reply` is the handler's expression, so a test can break it.
function functionSource(name: string, reply: string): string {
  return `import { defineFunction } from ${JSON.stringify(RUNTIME)};
export default defineFunction({
  name: ${JSON.stringify(name)},
  version: "1.0.0",
  description: "greets",
  request: {
    type: "object", additionalProperties: false, required: ["name"],
    properties: { name: { type: "string", minLength: 1, maxLength: 40 }, times: { type: "integer", minimum: 1, maximum: 3 } },
    examples: [{ name: "Ana" }, { name: "Luis", times: 2 }],
  },
  response: { type: "object", additionalProperties: false, required: ["greeting"], properties: { greeting: { type: "string" } } },
  async handler(input) {
    return ${reply};
  },
});
`;
}

describe("nfn test", () => {
  let dir = "";
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "nfn-test-verb-"));
    for (const [name, reply] of [
      ["greet", "{ greeting: `hola ${input.name}`.repeat(input.times ?? 1) }"],
      ["greet_broken", "{ greeting: `hola ${input.name}`, extra: input.times ?? 0 }"],
    ] as const) {
      mkdirSync(join(dir, "functions", name), { recursive: true });
      writeFileSync(join(dir, "functions", name, "index.ts"), functionSource(name, reply));
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("exits 0 when the function's examples, generated payloads and INFO all hold to its schemas", async () => {
    const run = await runNfn(["test", "greet", "--dir", join(dir, "functions")], { cwd: dir });
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /greet: contract/);
    assert.match(run.stdout, /pass 5/);
  });

  it("exits 1 and names the broken contract when a reply breaks the response schema", async () => {
    const run = await runNfn(["test", "--dir", join(dir, "functions")], { cwd: dir });
    assert.equal(run.code, 1, run.stdout + run.stderr);
    assert.match(run.stdout, /greet_broken: contract/);
    assert.match(run.stdout, /example 0 \{"name":"Ana"\} got error 500/);
    assert.match(run.stdout, /fail [1-9]/);
  });

  it("exits 2 for a function that is not in the directory", async () => {
    const run = await runNfn(["test", "nope", "--dir", join(dir, "functions")], { cwd: dir });
    assert.equal(run.code, 2);
    assert.match(run.stderr, /no function nope in .*: there are greet, greet_broken/);
  });
});
