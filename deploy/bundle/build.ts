/** Builds one self-contained ESM bundle per function, plus its manifest (driven by esbuild.config.mjs). */
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { build, type BuildOptions } from "esbuild";
import { isFunctionDefinition, type FunctionDefinition } from "../../runtime/define-function.ts";
import { findFunctionSources } from "../../runtime/loader.ts";
import { sha256Hex } from "../../runtime/hash.ts";
import { type BundleManifest, manifestFor } from "./manifest.ts";
import { precompiledValidationPlugin, writeValidatorModules } from "./precompile.ts";

/** The file name of every bundle inside `dist/<fn>/`. */
export const BUNDLE_ENTRY = "index.mjs";

/** One function to build: its name (the output folder) and its source module. */
export interface BuildTarget {
  name: string;
  source: string;
}

/** Where to build from and to. */
export interface BuildSettings {
  /** Project root: the runtime is resolved from here. */
  root: string;
  outDir: string;
  /** esbuild options shared by all bundles (esbuild.config.mjs). */
  esbuild: BuildOptions;
  gitRevision?: string;
  /** Generate the schema validators at build time (default true); false ships ajv and compiles at start. */
  precompile?: boolean;
}

/** The functions under `functionsDir`, all of them or those in `names` (unknown names are an error). */
export function selectTargets(functionsDir: string, names: string[]): BuildTarget[] {
  const found = findFunctionSources(functionsDir);
  for (const name of names) {
    if (!found.has(name)) throw new Error(`no function "${name}" in ${functionsDir} (expected ${functionsDir}/${name}/index.ts)`);
  }
  return [...found].filter(([name]) => names.length === 0 || names.includes(name)).map(([name, source]) => ({ name, source }));
}

/** Builds `target` into `<outDir>/<name>/index.mjs` and writes its manifest next to it. */
export async function buildBundle(target: BuildTarget, settings: BuildSettings): Promise<BundleManifest> {
  const dir = join(settings.outDir, target.name);
  const outfile = join(dir, BUNDLE_ENTRY);
  await mkdir(dir, { recursive: true });
  const source = `./${relative(settings.root, resolve(target.source)).split("\\").join("/")}`;
  // Generated entry: the definition is the default export; serveIfMain starts it only as main module.
  const contents = [
    `import def from ${JSON.stringify(source)};`,
    `import { serveIfMain } from "./runtime/standalone.ts";`,
    `export default def;`,
    `await serveIfMain(def, import.meta.url);`,
  ].join("\n");
  const stdin = { contents, resolveDir: settings.root, sourcefile: `${target.name}.entry.mjs`, loader: "js" as const };
  const work = await mkdtemp(join(tmpdir(), `nfn-build-${target.name}-`));
  try {
    // Pass 1 gives the definition (its schemas as the runtime will see them); pass 2 bakes the validators in.
    const firstPass = settings.precompile === false ? outfile : join(work, "pass1.mjs");
    await build({ ...settings.esbuild, stdin, outfile: firstPass });
    const first = await importDefinition(firstPass, `${Date.now()}-${Math.random()}`);
    if (first.name !== target.name) {
      throw new Error(`${target.source} declares the function "${first.name}" but its folder is "${target.name}": make them the same`);
    }
    if (settings.precompile !== false) {
      const validatorsDir = join(work, "validators");
      const index = await writeValidatorModules([first.request, first.response], validatorsDir);
      const runtimeDir = join(settings.root, "runtime");
      const plugins = [...(settings.esbuild.plugins ?? []), precompiledValidationPlugin(runtimeDir, index, validatorsDir)];
      // The generated modules live in a temp dir: resolve their ajv runtime imports from the project.
      const nodePaths = [join(settings.root, "node_modules")];
      await build({ ...settings.esbuild, stdin, outfile, plugins, nodePaths });
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const bytes = await readFile(outfile);
  const sha256 = sha256Hex(bytes);
  const def = await importDefinition(outfile, sha256);
  const manifest = manifestFor(def, {
    entry: BUNDLE_ENTRY,
    sha256,
    sizeBytes: bytes.length,
    builtAt: new Date().toISOString(),
    gitRevision: settings.gitRevision ?? gitRevision(settings.root),
    target: String(settings.esbuild.target ?? "node20"),
  });
  await writeFile(join(dir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** Imports a built bundle (which does not start itself when imported) and returns its definition. */
export async function importDefinition(file: string, cacheKey: string): Promise<FunctionDefinition> {
  const mod = (await import(`${pathToFileURL(resolve(file)).href}?sha=${cacheKey}`)) as { default?: unknown };
  if (!isFunctionDefinition(mod.default)) throw new Error(`${file} does not export a function definition: was it built by nfn build?`);
  return mod.default;
}

/** `git rev-parse` of `root`, marked `-dirty` with uncommitted changes; "unknown" outside git. */
export function gitRevision(root: string): string {
  try {
    const rev = execFileSync("git", ["rev-parse", "--short=12", "HEAD"], {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    return dirty ? `${rev}-dirty` : rev;
  } catch {
    return "unknown";
  }
}

/**
 * The command line of `node esbuild.config.mjs` and `nfn build`:
 * `[fn...] [--functions dir] [--out dir] [--entry name=file]... [--json] [--no-precompile]`.
 */
export async function buildFromArgs(argv: string[], root: string, esbuildOptions: BuildOptions): Promise<BundleManifest[]> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      functions: { type: "string", default: join(root, "functions") },
      out: { type: "string", default: join(root, "dist") },
      entry: { type: "string", multiple: true, default: [] },
      json: { type: "boolean", default: false },
      "no-precompile": { type: "boolean", default: false },
    },
  });
  const extra = values.entry.map((spec): BuildTarget => {
    const eq = spec.indexOf("=");
    if (eq < 1) throw new Error(`--entry ${spec}: expected name=path/to/module.ts`);
    return { name: spec.slice(0, eq), source: spec.slice(eq + 1) };
  });
  const targets = [...(extra.length > 0 && positionals.length === 0 ? [] : selectTargets(values.functions, positionals)), ...extra];
  if (targets.length === 0) throw new Error(`nothing to build: no functions in ${values.functions} (each is <name>/index.ts)`);
  const settings: BuildSettings = {
    root,
    outDir: values.out,
    esbuild: esbuildOptions,
    gitRevision: gitRevision(root),
    precompile: !values["no-precompile"],
  };
  const manifests: BundleManifest[] = [];
  for (const target of targets) {
    const m = await buildBundle(target, settings);
    manifests.push(m);
    if (!values.json) {
      const where = relative(process.cwd(), join(values.out, m.name, m.entry));
      console.log(`built ${m.name}@${m.version}  ${where}  ${(m.sizeBytes / 1024).toFixed(1)} KiB  sha256 ${m.sha256.slice(0, 12)}`);
    }
  }
  if (values.json) console.log(JSON.stringify(manifests, null, 2));
  return manifests;
}
