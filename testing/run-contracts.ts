/** What `nfn test` runs under node:test: the contract tests of NFN_TEST_DIR (only NFN_TEST_FUNCTIONS, comma-separated, when set). */
import { contractTestsForDir } from "./directory-contracts.ts";

const only = (process.env.NFN_TEST_FUNCTIONS ?? "").split(",").filter(Boolean);
await contractTestsForDir(process.env.NFN_TEST_DIR ?? "functions", only);
