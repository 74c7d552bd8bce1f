/** The release signing key of a test process: what `nfn auth init` would write for the deployer and the workers. */
import { fromSeed } from "@nats-io/nkeys";
import { newSigningKey } from "../../deploy/registry/signing.ts";

/** A fresh key pair per test process: `seed` is NFN_SIGNING_KEY, `publicKey` goes in NFN_TRUSTED_SIGNERS. */
export const TEST_SIGNER = newSigningKey();

/** The test signer as a key pair, for `deployBundle({ signingKey })`. */
export const testSigningKey = () => fromSeed(new TextEncoder().encode(TEST_SIGNER.seed));

/** Environment of a deployer and a worker that trust each other. */
export const signingEnv = (): Record<string, string> => ({
  NFN_SIGNING_KEY: TEST_SIGNER.seed,
  NFN_TRUSTED_SIGNERS: TEST_SIGNER.publicKey,
});
