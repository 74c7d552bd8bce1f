/**
 * The testing entry, `nats-functions/testing`: a real system for a test file (`startTestSystem`)
 * and the contract tests of a function (`contractTests`), for node:test.
 */
export { startTestSystem, type TestSystem, type TestSystemOptions, type InvokeOptions, type InvokeResult } from "./test-system.ts";
export { contractTests, schemaExamples, type ContractOptions } from "./contract-tests.ts";
export { validPayloads, invalidPayloads, isJsonPointer, type InvalidPayload } from "./payload-variants.ts";
export { exampleFor } from "../runtime/schema-example.ts";
export { contractTestsForDir, CONTRACT_OPTIONS_FILE, CONTRACT_SETUP_FILE } from "./directory-contracts.ts";
