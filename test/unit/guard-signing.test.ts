import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createAccount, createUser } from "@nats-io/nkeys";
import {
  newSigningKey,
  parseTrustedSigners,
  signRelease,
  signatureProblem,
  signingKeyFromEnv,
  signingKeyFromSeed,
} from "../../deploy/registry/signing.ts";

const identity = {
  name: "check_inventory",
  version: "1.2.0",
  sha256: "a".repeat(64),
  sizeBytes: 1234,
  object: `check_inventory/${"a".repeat(64)}`,
};

describe("release signatures", () => {
  const key = newSigningKey();
  const kp = signingKeyFromSeed(key.seed);
  const trusted = new Set([key.publicKey]);

  it("verifies what was signed, and nothing with any one field changed", () => {
    const sig = signRelease(identity, kp);
    assert.equal(sig.signer, key.publicKey);
    assert.equal(signatureProblem({ ...identity, ...sig }, trusted), undefined);
    const changes = { name: "get_order", version: "1.2.1", sha256: "b".repeat(64), sizeBytes: 1235, object: "check_inventory/other" };
    for (const [field, value] of Object.entries(changes)) {
      assert.match(signatureProblem({ ...identity, ...sig, [field]: value }, trusted) ?? "", /does not verify/, field);
    }
  });

  it("refuses unsigned, untrusted and malformed signatures", () => {
    assert.match(signatureProblem(identity, trusted) ?? "", /not signed/);
    const other = createUser();
    assert.match(signatureProblem({ ...identity, ...signRelease(identity, other) }, trusted) ?? "", /not in NFN_TRUSTED_SIGNERS/);
    assert.match(signatureProblem({ ...identity, signature: "AAAA", signer: key.publicKey }, trusted) ?? "", /malformed/);
  });

  it("reads NFN_SIGNING_KEY without ever echoing it, and only a user seed", () => {
    assert.throws(() => signingKeyFromEnv({}), /NFN_SIGNING_KEY is not set/);
    const bad = "SUnot-a-seed-but-secret-looking";
    assert.throws(
      () => signingKeyFromEnv({ NFN_SIGNING_KEY: bad }),
      (err: Error) => /not an nkey seed/.test(err.message) && !err.message.includes(bad),
    );
    const account = new TextDecoder().decode(createAccount().getSeed());
    assert.throws(() => signingKeyFromSeed(account), /must be a user seed/);
    assert.equal(signingKeyFromEnv({ NFN_SIGNING_KEY: `${key.seed}\n` }).getPublicKey(), key.publicKey);
  });

  it("parses NFN_TRUSTED_SIGNERS, naming the position of a bad entry", () => {
    const second = newSigningKey().publicKey;
    assert.deepEqual(parseTrustedSigners(` ${key.publicKey}, ${second} ,`), [key.publicKey, second]);
    assert.deepEqual(parseTrustedSigners(undefined), []);
    assert.deepEqual(parseTrustedSigners(" "), []);
    assert.throws(() => parseTrustedSigners(`${key.publicKey},${key.seed}`), /entry 2 is not a public user nkey/);
    assert.throws(() => parseTrustedSigners(createAccount().getPublicKey()), /entry 1/);
  });
});
