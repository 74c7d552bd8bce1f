/**
 * The real check_inventory for `npm run bench`, run in its own process: the catalog in KV, read
 * through the function's local view, validation on, under the bench subject prefix.
 */
import { configFromEnv, createLogger, runFunctions } from "../runtime/index.ts";
import checkInventory from "../functions/check_inventory/index.ts";

await runFunctions([checkInventory], { config: { ...configFromEnv(), subjectPrefix: "bench" }, log: createLogger({}, "warn") });
process.stdout.write("ready\n");
