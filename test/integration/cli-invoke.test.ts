/** nfn invoke and nfn token against a real nats-server. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { jwtVerify } from "jose";
import { runInvoke } from "../../cli/commands/invoke.ts";
import { runToken } from "../../cli/commands/token.ts";
import { ensureAuthSecret } from "../../cli/lib/auth-secret.ts";
import { EXIT } from "../../cli/lib/exit-codes.ts";
import { captureIo } from "../../cli/lib/io.ts";
import { runCore } from "../../cli/lib/program.ts";
import { configFromEnv } from "../../runtime/config.ts";
import { startHost } from "../../runtime/host.ts";
import { defineFunction } from "../../runtime/index.ts";
import { createLogger } from "../../runtime/logger.ts";
import { probe } from "../fixtures/probe-functions.ts";
import { Cleanup, natsClient, natsServer } from "../helpers/nats.ts";
import { runNfn } from "../helpers/cli.ts";

const hooks = new Cleanup();

/** Replies with the request headers it was asked about, so tests can see what invoke sent. */
const headerEcho = defineFunction<{ names: string[] }, Record<string, string | null>>({
  name: "header_echo",
  version: "1.0.0",
  description: "Replies with the named request headers",
  request: {
    type: "object",
    additionalProperties: false,
    required: ["names"],
    properties: { names: { type: "array", items: { type: "string" } } },
  },
  response: { type: "object" },
  handler: (input, ctx) => Object.fromEntries(input.names.map((n) => [n, ctx.header(n) ?? null])),
});

function nfn(args: string[], env: NodeJS.ProcessEnv = {}, cwd = process.cwd()) {
  return runNfn(args, { env: { HOME: process.env.HOME, ...env }, cwd });
}

describe("nfn invoke", () => {
  let url = "";
  const opts = () => ({ server: url, timeout: "3s" });
  const invoke = async (fn: string, payload: string | undefined, extra: Record<string, unknown> = {}, stdin?: string) => {
    const io = captureIo({ stdin });
    const code = await runCore(() => runInvoke(fn, payload, { ...opts(), ...extra }, io), io);
    return { code, out: io.out(), err: io.err() };
  };

  after(() => hooks.run());

  before(async () => {
    const server = await natsServer(hooks);
    url = server.url;
    const nc = await natsClient(hooks, server);
    const host = await startHost([probe, headerEcho], {
      nc,
      config: { ...configFromEnv({}), servers: [url] },
      log: createLogger({}, "silent"),
    });
    hooks.after(() => host.stop(200));
  });

  it("prints the reply as pretty JSON and exits 0", async () => {
    const r = await invoke("probe", '{"text":"hola"}');
    assert.equal(r.code, EXIT.OK, r.err);
    assert.equal(r.out, '{\n  "text": "hola"\n}\n');
  });

  it("--raw prints the body exactly as received", async () => {
    const r = await invoke("probe", '{"text":"hola"}', { raw: true });
    assert.equal(r.out, '{"text":"hola"}\n');
  });

  it("an error reply prints `409 CONFLICT: not enough stock` and its details on stderr and exits 1", async () => {
    const r = await invoke("probe", '{"fail":"conflict"}');
    assert.equal(r.code, EXIT.SERVICE_ERROR);
    assert.equal(r.out, "");
    assert.equal(r.err, '409 CONFLICT: not enough stock\n  {"sku":"x","requested":2,"available":1}\n');
  });

  it("rejects a payload that fails the advertised request schema locally, with paths, exit 2", async () => {
    const r = await invoke("probe", '{"sleepMs":"soon"}');
    assert.equal(r.code, EXIT.USAGE);
    assert.match(
      r.err,
      /^nfn: payload does not match the request schema of probe: \/sleepMs: must be integer \(see `npx nfn schema probe --example`, or send anyway with --no-validate\)\n$/,
    );
  });

  it("--no-validate sends it anyway and shows the function's 400 with paths", async () => {
    const r = await invoke("probe", '{"sleepMs":"soon"}', { validate: false });
    assert.equal(r.code, EXIT.SERVICE_ERROR);
    assert.match(r.err, /^400 VALIDATION: .*\n {2}\/sleepMs: must be integer\n$/);
  });

  it("payload that is not JSON is a usage error that shows how to quote it", async () => {
    const r = await invoke("probe", "{text:hola}");
    assert.equal(r.code, EXIT.USAGE);
    assert.match(r.err, /^nfn: the payload is not JSON \(.*\): quote it for the shell/);
  });

  it("reads the payload from stdin with - and from a file with @", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nfn-invoke-"));
    try {
      writeFileSync(join(dir, "p.json"), '{"text":"from file"}');
      const fromFile = await invoke("probe", `@${join(dir, "p.json")}`, { raw: true });
      assert.equal(fromFile.out, '{"text":"from file"}\n');
      const fromStdin = await invoke("probe", "-", { raw: true }, '{"text":"from stdin"}');
      assert.equal(fromStdin.out, '{"text":"from stdin"}\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("sends -H headers and --auth as Authorization: Bearer", async () => {
    const r = await invoke("header_echo", '{"names":["Idempotency-Key","Authorization"]}', {
      header: ["Idempotency-Key: order-42"],
      auth: "abc.def.ghi",
      raw: true,
    });
    assert.equal(r.code, EXIT.OK, r.err);
    assert.deepEqual(JSON.parse(r.out), { "Idempotency-Key": "order-42", Authorization: "Bearer abc.def.ghi" });
  });

  it("--count sends the request that many times", async () => {
    const r = await invoke("probe", '{"text":"x"}', { count: "3", raw: true });
    assert.equal(r.out, '{"text":"x"}\n'.repeat(3));
  });

  it("a reply later than --timeout exits 4", async () => {
    const r = await invoke("probe", '{"sleepMs":900}', { timeout: "200ms" });
    assert.equal(r.code, EXIT.TIMEOUT);
    assert.match(r.err, /^nfn: probe did not answer within 200 ms: raise --timeout/);
  });

  it("an unknown function exits 3 with what to check", async () => {
    const r = await invoke("reserve_stock", "{}");
    assert.equal(r.code, EXIT.NO_RESPONDERS);
    assert.match(r.err, /^nfn: no responders for reserve_stock: is `nfn serve` running against nats:\/\/127\.0\.0\.1:\d+\?/);
  });

  it("spawned: success on stdout with exit 0, an error reply on stderr with exit 1, a bad header exits 2", async () => {
    const [ok, conflict, usage] = await Promise.all([
      nfn(["invoke", "probe", '{"text":"hi"}', "-s", url]),
      nfn(["invoke", "probe", '{"fail":"conflict"}', "-s", url]),
      nfn(["invoke", "probe", "-H", "nocolon", "-s", url]),
    ]);
    assert.deepEqual([ok.code, ok.stdout, ok.stderr], [0, '{\n  "text": "hi"\n}\n', ""]);
    assert.equal(conflict.code, 1);
    assert.equal(conflict.stdout, "");
    assert.match(conflict.stderr, /^409 CONFLICT: not enough stock\n/);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /^nfn: header "nocolon" must look like key:value/);
  });
});

describe("nfn token", () => {
  it("mints an HS256 token with sub, space-separated scope, iat, exp from --ttl, and iss/aud from the environment", async () => {
    const io = captureIo({
      env: { AUTH_JWT_SECRET: "s3cret-for-tests-of-32-bytes-or-more-0123", AUTH_ISSUER: "nfn-dev", AUTH_AUDIENCE: "marketplace" },
    });
    assert.equal(await runToken({ sub: "alice", scope: "orders:write  orders:read", ttl: "30m" }, io), EXIT.OK);
    const { payload, protectedHeader } = await jwtVerify(
      io.out().trim(),
      new TextEncoder().encode("s3cret-for-tests-of-32-bytes-or-more-0123"),
      {
        issuer: "nfn-dev",
        audience: "marketplace",
      },
    );
    assert.equal(protectedHeader.alg, "HS256");
    assert.equal(payload.sub, "alice");
    assert.equal(payload.scope, "orders:write orders:read");
    assert.equal((payload.exp ?? 0) - (payload.iat ?? 0), 1800);
  });

  it("uses .nfn/auth-secret (mode 0600) when AUTH_JWT_SECRET is not set", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nfn-token-"));
    try {
      const { secret } = ensureAuthSecret({}, dir);
      assert.equal(statSync(join(dir, ".nfn", "auth-secret")).mode & 0o777, 0o600);
      const io = captureIo({ cwd: dir });
      await runToken({ sub: "bob" }, io);
      const { payload } = await jwtVerify(io.out().trim(), new TextEncoder().encode(secret));
      assert.equal(payload.sub, "bob");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("spawned: without any secret it exits 2 and says what to do", async () => {
    const dir = mkdtempSync(join(tmpdir(), "nfn-token-"));
    try {
      const r = await nfn(["token", "--sub", "alice"], {}, dir);
      assert.equal(r.code, 2);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, /^nfn: no signing secret: set AUTH_JWT_SECRET .* or run `npx nfn serve` once here/);
      const ok = await nfn(
        ["token", "--sub", "alice", "--scope", "orders:write"],
        { AUTH_JWT_SECRET: "x-test-secret-of-32-bytes-or-more-0123456789" },
        dir,
      );
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /^eyJ[\w-]+\.[\w-]+\.[\w-]+\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
