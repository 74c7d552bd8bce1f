/**
 * Every marketplace function held to its own contract, as `nfn test` runs it: one fresh system for
 * functions/ with the demo catalog (functions/contract.setup.ts) and each function's contract.ts.
 */
import { join } from "node:path";
import { contractTestsForDir } from "nats-functions/testing";

await contractTestsForDir(join(import.meta.dirname, "../../functions"));
