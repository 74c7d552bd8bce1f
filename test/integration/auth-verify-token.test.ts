/** verify_token with every key source, and the tokens it must refuse, against a real nats-server. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import type { NatsConnection } from "@nats-io/nats-core";
import { configFromEnv } from "../../runtime/config.ts";
import { startHost } from "../../runtime/host.ts";
import { createLogger } from "../../runtime/logger.ts";
import { Cleanup, natsClient, natsServer } from "../helpers/nats.ts";
import { send, type Reply } from "../helpers/requests.ts";
import {
  TEST_AUDIENCE,
  TEST_ISSUER,
  TEST_JWT_SECRET,
  type TestKeyPair,
  confusionToken,
  jwksOf,
  mintToken,
  noneToken,
  testKeyPairs,
} from "../helpers/tokens.ts";
import verifyToken from "../../functions/verify_token/index.ts";
import putProduct from "../../functions/put_product/index.ts";

const AUTH_VARS = ["AUTH_JWT_SECRET", "AUTH_PUBLIC_KEY", "AUTH_JWKS_FILE", "AUTH_ISSUER", "AUTH_AUDIENCE"] as const;
const errorOf = (r: Reply) => (r.body as { error: { code: number; type: string; message: string } }).error;

void describe("verify_token", () => {
  const hooks = new Cleanup();
  after(() => hooks.run());
  let nc: NatsConnection;
  let keys: Awaited<ReturnType<typeof testKeyPairs>>;
  let dir: string;
  const verify = (token: string) => send(nc, "fn.verify_token", { token });
  const useEnv = (vars: Partial<Record<(typeof AUTH_VARS)[number], string>>) => Object.assign(process.env, vars);
  const refused = async (token: string, message: RegExp) => {
    const r = await verify(token);
    assert.equal(r.code, 401, JSON.stringify(r.body));
    assert.equal(errorOf(r).type, "UNAUTHORIZED");
    assert.match(errorOf(r).message, message);
  };

  before(async () => {
    const server = await natsServer(hooks);
    const config = configFromEnv({ NATS_URL: server.url, LOG_LEVEL: "silent" });
    const host = await startHost([verifyToken, putProduct], { config, log: createLogger({}, "silent") });
    hooks.after(() => host.stop(1000));
    nc = await natsClient(hooks, server);
    keys = await testKeyPairs();
    dir = mkdtempSync(join(tmpdir(), "nfn-auth-"));
    hooks.after(() => rmSync(dir, { recursive: true, force: true }));
  });
  beforeEach(() => {
    for (const name of AUTH_VARS) delete process.env[name];
  });

  void describe("with an HS256 secret", () => {
    beforeEach(() => useEnv({ AUTH_JWT_SECRET: TEST_JWT_SECRET }));

    void it("accepts a valid token and returns sub, scopes split on spaces, exp and the claims", async () => {
      const token = await mintToken({ sub: "customer-7", scope: "orders:write  orders:read", claims: { name: "Lucía" } });
      const r = await verify(token);
      assert.equal(r.code, undefined, JSON.stringify(r.body));
      const body = r.body as { valid: boolean; sub: string; scopes: string[]; exp: number; claims: Record<string, unknown> };
      assert.deepEqual([body.valid, body.sub, body.scopes], [true, "customer-7", ["orders:write", "orders:read"]]);
      assert.ok(body.exp > Date.now() / 1000);
      assert.equal(body.claims.name, "Lucía");
    });

    void it("refuses expired, not-yet-valid, wrongly signed and subject-less tokens with 401", async () => {
      await refused(await mintToken({ expiresInSec: -60 }), /expired/);
      await refused(await mintToken({ notBeforeSec: 120 }), /not valid yet/);
      await refused(await mintToken({ secret: "another-secret-of-enough-length-0123456789" }), /signature/);
      await refused(await mintToken({ sub: null }), /sub/);
    });

    void it("refuses alg none, a malformed token and an RS256 token when only the secret is configured", async () => {
      await refused(noneToken(), /alg: none/);
      await refused("not.a.jwt", /malformed/);
      await refused(await mintToken({ key: keys.RS256 }), /algorithm RS256 is not accepted/);
    });

    void it("refuses a validly signed token over 8 KiB with 401", async () => {
      await refused(await mintToken({ claims: { pad: "x".repeat(9000) } }), /at most 8192/);
      const justUnder = await mintToken({ claims: { pad: "x".repeat(5000) } });
      assert.equal((await verify(justUnder)).code, undefined);
    });

    void it("checks iss and aud when AUTH_ISSUER and AUTH_AUDIENCE are set", async () => {
      useEnv({ AUTH_ISSUER: TEST_ISSUER, AUTH_AUDIENCE: TEST_AUDIENCE });
      assert.equal((await verify(await mintToken({ issuer: TEST_ISSUER, audience: TEST_AUDIENCE }))).code, undefined);
      await refused(await mintToken({ issuer: "https://evil.example", audience: TEST_AUDIENCE }), /issuer/);
      await refused(await mintToken({ issuer: TEST_ISSUER, audience: "someone-else" }), /audience/);
      await refused(await mintToken({}), /iss/);
    });

    void it("answers a body without a token, or with unknown fields, with 400", async () => {
      assert.equal((await send(nc, "fn.verify_token", {})).code, 400);
      assert.equal((await send(nc, "fn.verify_token", { token: "a.b.c", extra: 1 })).code, 400);
    });
  });

  for (const alg of ["RS256", "ES256", "EdDSA"] as const) {
    void describe(`with an ${alg} public key in AUTH_PUBLIC_KEY`, () => {
      let pair: TestKeyPair;
      beforeEach(() => {
        pair = keys[alg];
        useEnv({ AUTH_PUBLIC_KEY: pair.publicPem });
      });

      void it(`accepts an ${alg} token signed with the matching private key`, async () => {
        const r = await verify(await mintToken({ key: pair, sub: `user-${alg}`, scope: "inventory:admin" }));
        assert.equal(r.code, undefined, JSON.stringify(r.body));
        assert.equal((r.body as { sub: string }).sub, `user-${alg}`);
      });

      void it("refuses the algorithm-confusion token (HS256 signed with the public key text) and an HS256 token", async () => {
        await refused(await confusionToken(pair), /algorithm HS256 is not accepted/);
        await refused(await mintToken({}), /algorithm HS256 is not accepted/);
      });
    });
  }

  void it("accepts a PEM with escaped newlines, as env files often hold it", async () => {
    useEnv({ AUTH_PUBLIC_KEY: keys.ES256.publicPem.replace(/\n/g, "\\n") });
    assert.equal((await verify(await mintToken({ key: keys.ES256 }))).code, undefined);
  });

  void it("refuses the confusion token even when a secret and a public key are both configured", async () => {
    useEnv({ AUTH_JWT_SECRET: TEST_JWT_SECRET, AUTH_PUBLIC_KEY: keys.RS256.publicPem });
    await refused(await confusionToken(keys.RS256), /signature/);
    assert.equal((await verify(await mintToken({ key: keys.RS256 }))).code, undefined);
    assert.equal((await verify(await mintToken({}))).code, undefined);
  });

  void it("verifies against the keys of AUTH_JWKS_FILE by kid, and refuses a key not in it", async () => {
    const file = join(dir, "jwks.json");
    writeFileSync(file, JSON.stringify(jwksOf(keys.RS256, keys.EdDSA)));
    useEnv({ AUTH_JWKS_FILE: file });
    assert.equal((await verify(await mintToken({ key: keys.RS256 }))).code, undefined);
    assert.equal((await verify(await mintToken({ key: keys.EdDSA }))).code, undefined);
    await refused(await mintToken({ key: keys.ES256 }), /AUTH_JWKS_FILE/);
    await refused(await confusionToken(keys.RS256), /algorithm HS256 is not accepted/);
  });

  void it("says which variable to set when no key is configured, with 401 and not 500", async () => {
    await refused(await mintToken({}), /set AUTH_JWT_SECRET or AUTH_PUBLIC_KEY or AUTH_JWKS_FILE/);
  });

  void it("gives functions that declare auth their caller: put_product accepts an EdDSA admin token from the JWKS", async () => {
    const file = join(dir, "jwks-ed.json");
    writeFileSync(file, JSON.stringify(jwksOf(keys.EdDSA)));
    useEnv({ AUTH_JWKS_FILE: file });
    const product = { sku: "aceite-1l", name: "Aceite 1 l", priceCents: 990, onHand: 3 };
    const admin = await mintToken({ key: keys.EdDSA, sub: "admin-2", scope: "inventory:admin" });
    assert.equal((await send(nc, "fn.put_product", product, { headers: { Authorization: `Bearer ${admin}` } })).code, undefined);
    const none = await send(nc, "fn.put_product", product, { headers: { Authorization: `Bearer ${noneToken("admin-2")}` } });
    assert.equal(none.code, 401);
    const hs = await send(nc, "fn.put_product", product, {
      headers: { Authorization: `Bearer ${await mintToken({ scope: "inventory:admin" })}` },
    });
    assert.equal(hs.code, 401);
  });
});
