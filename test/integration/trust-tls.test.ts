/**
 * TLS with client certificates (verify: true) plus the generated accounts, from deploy/nats/nats-tls-auth.conf:
 * functions, worker, gateway and CLI connect with NATS_CA/NATS_CERT/NATS_KEY (or NATS_TLS_*); no
 * certificate, a certificate from another CA, or no nkey is refused.
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { connect } from "@nats-io/transport-node";
import { connectionOptions } from "../../runtime/connect.ts";
import { startHost } from "../../runtime/host.ts";
import { createLogger } from "../../runtime/logger.ts";
import type { LocalNatsServer } from "../../runtime/nats-server.ts";
import { startWorker } from "../../deploy/worker/worker.ts";
import { startGateway } from "../../gateway/server.ts";
import checkInventory from "../../functions/check_inventory/index.ts";
import type { FunctionDefinition } from "../../runtime/define-function.ts";
import { ROOT, tempDir } from "../fixtures/deploy-build.ts";
import { type GeneratedAuth, generateAuth, roleConfig } from "../helpers/auth.ts";
import { type TestPki, issue, makeCa, makePki } from "../helpers/certs.ts";
import { runNfn } from "../helpers/cli.ts";
import { Cleanup, natsServer } from "../helpers/nats.ts";

const hooks = new Cleanup();
// One attempt, and a short handshake wait: a refused TLS handshake otherwise waits out the 20 s default.
const ONCE = { maxReconnectAttempts: 0, timeout: 3000 };
const ITEMS = JSON.stringify({ items: [{ sku: "NOPE", quantity: 1 }] });

describe("TLS with client certificates and the generated accounts", () => {
  let dir: string;
  let pki: TestPki;
  let foreign: { cert: string; key: string };
  let auth: GeneratedAuth;
  let server: LocalNatsServer;
  let tlsEnv: Record<string, string>;

  before(async () => {
    dir = tempDir(hooks, "nfn-tls-");
    mkdirSync(join(dir, "tls"));
    pki = makePki(join(dir, "tls"));
    const otherCa = makeCa(join(dir, "tls"), "other-ca");
    foreign = issue(join(dir, "tls"), otherCa, "foreign-client", "client");
    // The shipped template, with its /etc/nats/ layout moved into the temp dir.
    const template = readFileSync(join(ROOT, "deploy/nats/nats-tls-auth.conf"), "utf8")
      .replaceAll("/etc/nats/tls/ca.pem", pki.ca)
      .replaceAll("/etc/nats/tls/server.pem", pki.server.cert)
      .replaceAll("/etc/nats/tls/server.key", pki.server.key)
      // the test server gets its store on the command line (-sd), which may not repeat store_dir
      .replace(/^\s*store_dir: .*$/m, "");
    writeFileSync(join(dir, "nfn.conf"), template);
    auth = await generateAuth(hooks, [checkInventory as FunctionDefinition], join(dir, "nfn-auth"));
    server = await natsServer(hooks, { args: ["-c", join(dir, "nfn.conf")] });
    tlsEnv = { NATS_CA: pki.ca, NATS_CERT: pki.client.cert, NATS_KEY: pki.client.key };
  });
  after(() => hooks.run());

  it("serves functions, a worker, the gateway and the CLI over TLS with client certificates", async () => {
    const host = await startHost([checkInventory as FunctionDefinition], {
      config: roleConfig({ ...auth.env.worker, ...tlsEnv }, server.url),
      log: createLogger({}, "silent"),
    });
    hooks.after(() => host.stop(1000));
    const worker = await startWorker({ config: roleConfig({ ...auth.env.worker, ...tlsEnv }, server.url), cacheDir: join(dir, "cache") });
    hooks.after(() => worker.stop());

    const gatewayNc = await connect(connectionOptions(roleConfig({ ...auth.env.gateway, ...tlsEnv }, server.url)));
    hooks.after(() => gatewayNc.close());
    assert.equal(gatewayNc.info?.tls_required, true);
    const gateway = await startGateway({ nc: gatewayNc, port: 0, refreshMs: 500 });
    hooks.after(() => gateway.close());
    const res = await fetch(`${gateway.url}/fn/check_inventory`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: ITEMS,
    });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { available: boolean }).available, false);

    // The CLI with the seed 001 names of the TLS variables.
    const run = await runNfn(["invoke", "check_inventory", ITEMS], {
      env: {
        ...auth.env.client,
        NATS_URL: server.url,
        NATS_TLS_CA: pki.ca,
        NATS_TLS_CERT: pki.client.cert,
        NATS_TLS_KEY: pki.client.key,
      },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /"available": false/);
  });

  // nats.js sees a handshake the server aborts as a timeout; the same options with a good certificate
  // connecting at once shows that the certificate is what the server refused.
  const connects = async (env: Record<string, string>) => {
    try {
      const nc = await connect({ ...connectionOptions(roleConfig(env, server.url)), ...ONCE });
      await nc.close();
      return true;
    } catch {
      return false;
    }
  };

  it("refuses a client without a certificate", async () => {
    assert.equal(await connects({ ...auth.env.client, NATS_CA: pki.ca }), false);
    assert.equal(await connects({ ...auth.env.client, ...tlsEnv }), true);
  });

  it("refuses a client whose certificate comes from another CA", async () => {
    assert.equal(await connects({ ...auth.env.client, NATS_CA: pki.ca, NATS_CERT: foreign.cert, NATS_KEY: foreign.key }), false);
    assert.equal(await connects({ ...auth.env.client, NATS_CA: pki.ca, NATS_CERT: pki.client.cert, NATS_KEY: pki.client.key }), true);
  });

  it("refuses a valid certificate without an nkey identity", async () => {
    await assert.rejects(connect({ ...connectionOptions(roleConfig(tlsEnv, server.url)), ...ONCE }), /Authorization/i);
  });

  it("refuses a plain-text client", async () => {
    await assert.rejects(connect({ ...connectionOptions(roleConfig(auth.env.client, server.url)), ...ONCE, tls: null }));
  });
});
