/** Global connection options against a nats-server that requires a user and password. */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { runLs } from "../../cli/commands/ls.ts";
import { EXIT } from "../../cli/lib/exit-codes.ts";
import { captureIo } from "../../cli/lib/io.ts";
import { runCore } from "../../cli/lib/program.ts";
import { Cleanup, natsServer } from "../helpers/nats.ts";
import { runNfn } from "../helpers/cli.ts";

const hooks = new Cleanup();

function nfn(args: string[], env: NodeJS.ProcessEnv) {
  return runNfn(args, { env });
}

describe("connection options", () => {
  let url = "";
  let home = "";

  after(() => hooks.run());

  before(async () => {
    const server = await natsServer(hooks, { args: ["--user", "alice", "--pass", "s3cret"] });
    url = server.url;
    home = mkdtempSync(join(tmpdir(), "nfn-home-"));
    hooks.after(() => rmSync(home, { recursive: true, force: true }));
    mkdirSync(join(home, ".config", "nats", "context"), { recursive: true });
    writeFileSync(join(home, ".config", "nats", "context", "dev.json"), JSON.stringify({ url, user: "alice", password: "s3cret" }));
  });

  it("--user/--password connect; without them the server's refusal exits 5 and says what to check", async () => {
    const ok = captureIo();
    assert.equal(await runCore(() => runLs({ server: url, user: "alice", password: "s3cret" }, ok), ok), EXIT.OK, ok.err());
    const refused = captureIo();
    assert.equal(await runCore(() => runLs({ server: url }, refused), refused), EXIT.CONNECTION);
    assert.match(
      refused.err(),
      /^nfn: NATS at nats:\/\/127\.0\.0\.1:\d+ refused the credentials \(.*\): check --creds, --nkey \(NATS_NKEY_SEED\), --user\/--password, --token or --context\n$/,
    );
  });

  it("NATS_URL, NATS_USER and NATS_PASSWORD from the environment work the same", async () => {
    const io = captureIo({ env: { NATS_URL: url, NATS_USER: "alice", NATS_PASSWORD: "s3cret" } });
    assert.equal(await runCore(() => runLs({}, io), io), EXIT.OK, io.err());
  });

  it("spawned: --context reads server and credentials from a natscli context file", async () => {
    const r = await nfn(["ls", "--context", "dev", "--json"], { HOME: home });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), []);
  });
});
