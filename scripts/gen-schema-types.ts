/** Writes `schemas/types.ts` from the function schemas: `npm run gen:types`. */
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { schemaTypesModule } from "./schema-types-module.ts";

const dir = fileURLToPath(new URL("../schemas/", import.meta.url));
const outFile = `${dir}types.ts`;
await writeFile(outFile, await schemaTypesModule(dir, outFile));
process.stdout.write(`wrote ${outFile}\n`);
