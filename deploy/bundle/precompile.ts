/**
 * Build time only: turns a function's two JSON Schemas into ajv standalone validator modules, so the
 * bundle needs neither ajv's compiler nor a compile step at start (smaller bundle, faster first reply).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { Ajv } from "ajv";
import addFormatsModule from "ajv-formats";
import standaloneModule from "ajv/dist/standalone/index.js";
import type { Plugin } from "esbuild";

// Both ship CommonJS; their default export arrives wrapped under NodeNext.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const standaloneCode = (standaloneModule as unknown as { default: (ajv: Ajv, fn: unknown) => string }).default;

/** The module every bundle imports in place of runtime/validation.ts. */
export const PRECOMPILED_VALIDATION = "precompiled-validation.ts";
const VIRTUAL = "nfn:validators";

/** Writes one standalone module per schema into `dir` and returns the index module's source. */
export async function writeValidatorModules(schemas: object[], dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const lines: string[] = [];
  for (const [i, schema] of schemas.entries()) {
    // The same options as runtime/validation.ts, so a bundle accepts and rejects exactly what source does.
    const ajv = new Ajv({ strict: true, allErrors: false, allowUnionTypes: true, code: { source: true, esm: true } });
    addFormats(ajv);
    const file = join(dir, `validator-${i}.mjs`);
    await writeFile(file, standaloneCode(ajv, ajv.compile(schema)));
    lines.push(`import v${i} from ${JSON.stringify(file)};`);
  }
  const entries = schemas.map((s, i) => `[${JSON.stringify(JSON.stringify(s))}, v${i}]`).join(",");
  lines.push(`export const validators = new Map([${entries}]);`);
  return lines.join("\n");
}

/**
 * An esbuild plugin that swaps the runtime's validation module for the precompiled one and serves
 * the generated validators as `nfn:validators`.
 */
export function precompiledValidationPlugin(runtimeDir: string, indexSource: string, validatorsDir: string): Plugin {
  return {
    name: "nfn-precompiled-validation",
    setup(build) {
      build.onResolve({ filter: /[\\/]validation\.ts$|^\.\/validation\.ts$/ }, (args) =>
        args.importer.startsWith(runtimeDir) ? { path: join(runtimeDir, PRECOMPILED_VALIDATION) } : undefined,
      );
      build.onResolve({ filter: new RegExp(`^${VIRTUAL}$`) }, () => ({ path: VIRTUAL, namespace: "nfn" }));
      build.onLoad({ filter: /.*/, namespace: "nfn" }, () => ({ contents: indexSource, loader: "js", resolveDir: validatorsDir }));
    },
  };
}
