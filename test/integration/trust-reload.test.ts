/** Adding a function: auth init again (same keys), `nats-server --signal reload`, and the new function is reachable. */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { freePort } from "../../runtime/nats-server.ts";
import { defineFunction, type FunctionDefinition } from "../../runtime/define-function.ts";
import { startHost } from "../../runtime/host.ts";
import { createLogger } from "../../runtime/logger.ts";
import { authInit } from "../../deploy/auth/init.ts";
import { DEFAULT_SUBJECTS } from "../../deploy/auth/permissions.ts";
import { tempDir } from "../fixtures/deploy-build.ts";
import { generateAuth, roleClient, roleConfig } from "../helpers/auth.ts";
import { Cleanup, eventually } from "../helpers/nats.ts";

const hooks = new Cleanup();
after(() => hooks.run());

const fn = (name: string) =>
  defineFunction({
    name,
    version: "1.0.0",
    description: "test",
    request: { type: "object" },
    response: { type: "object" },
    handler: () => ({ name }),
  }) as FunctionDefinition;

describe("permissions follow the functions", () => {
  it("lets a function added after the first auth init be served and called once the server reloads the new config", async () => {
    const dir = tempDir(hooks, "nfn-reload-");
    const first = [fn("first_fn")];
    const auth = await generateAuth(hooks, first, join(dir, "auth"));
    // The store in the config itself: nats-server 2.9 refuses a reload when it came from -sd.
    await authInit({
      dir: join(dir, "auth"),
      functionsDir: "functions",
      defs: first,
      storeDir: join(dir, "store"),
      settings: DEFAULT_SUBJECTS,
    });
    const port = await freePort();
    let log = "";
    const server: ChildProcess = spawn("nats-server", ["-c", auth.conf, "-a", "127.0.0.1", "-p", String(port)], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    server.stderr?.on("data", (d: Buffer) => (log += d.toString()));
    hooks.after(() => {
      server.kill("SIGTERM");
    });
    const url = `nats://127.0.0.1:${port}`;
    await eventually(() => log.includes("Server is ready"), 15_000, "nats-server ready");
    const client = await roleClient(hooks, auth.env.client, url);
    await assert.rejects(client.request("fn.second_fn", "{}", { timeout: 1000 }), /Permissions Violation for Publish to "fn.second_fn"/);

    const both = [...first, fn("second_fn")];
    const again = await authInit({
      dir: join(dir, "auth"),
      functionsDir: "functions",
      defs: both,
      storeDir: join(dir, "store"),
      settings: DEFAULT_SUBJECTS,
    });
    assert.equal(again.roles.client.publicKey, auth.roles.client.publicKey);
    server.kill("SIGHUP");
    await eventually(() => log.includes("Reloaded server configuration"), 10_000, "config reloaded");

    const host = await startHost(both, { config: roleConfig(auth.env.worker, url), log: createLogger({}, "silent") });
    hooks.after(() => host.stop(1000));
    const reply = await eventually(
      async () => {
        try {
          return (await client.request("fn.second_fn", "{}", { timeout: 500 })).json<{ name: string }>();
        } catch {
          return undefined;
        }
      },
      10_000,
      "second_fn reachable",
    );
    assert.deepEqual(reply, { name: "second_fn" });
  });
});
