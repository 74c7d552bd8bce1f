/** `nfn auth init` and `nfn auth show` as a user runs them. */
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ROOT } from "../fixtures/deploy-build.ts";
import { runNfn } from "../helpers/cli.ts";

const dir = mkdtempSync(join(tmpdir(), "nfn-auth-cli-"));
after(() => rmSync(dir, { recursive: true, force: true }));

describe("nfn auth", () => {
  it("init writes the server config and one .env per role, and says how to start each part", async () => {
    const run = await runNfn(["auth", "init", "--dir", join(dir, "auth")], { cwd: ROOT });
    assert.equal(run.code, 0, run.stderr);
    for (const f of ["nats-server.conf", "accounts.conf", "worker.env", "gateway.env", "deployer.env", "client.env", "keys.json"]) {
      assert.ok(existsSync(join(dir, "auth", f)), f);
    }
    assert.match(run.stdout, /generated new identities; permissions computed for \d+ functions/);
    assert.match(run.stdout, /nats-server -c .*nats-server\.conf -a HOST -p PORT -sd STORE/);
  });

  it("show prints one function's permissions, and says which functions exist for an unknown one", async () => {
    const run = await runNfn(["auth", "show", "reserve_stock"], { cwd: ROOT });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /reserve_stock@\S+ \(internal: never exported\)/);
    assert.match(run.stdout, /^ {2}fn\.reserve_stock q$/m);
    assert.match(run.stdout, /^ {2}\$KV\.inventory\.>$/m);
    const unknown = await runNfn(["auth", "show", "nope"], { cwd: ROOT });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no function nope in functions: available are .*create_order/);
  });
});
