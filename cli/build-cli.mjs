// The CLI build: cli/index.ts → cli/dist/ (ESM, one chunk per verb), run by `npm run setup` and
// `npm run build:cli`. cli/bin.mjs runs it when it is newer than every source it was built from.
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";
import { tsImport } from "tsx/esm/api";
import { esbuildOptions } from "../esbuild.config.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const outdir = fileURLToPath(new URL("./dist/", import.meta.url));
// Built beside, then swapped in, so a running nfn never sees half a build.
const workdir = fileURLToPath(new URL(`./dist.tmp-${process.pid}/`, import.meta.url));

// A program with every verb, built by the same code cli/index.ts runs.
async function fullProgram(capture) {
  const verbs = await tsImport("./lib/verbs.ts", import.meta.url);
  const connection = await tsImport("./lib/connection.ts", import.meta.url);
  const { createProgram } = await tsImport("./lib/program.ts", import.meta.url);
  const program = connection.addGlobalOptions(createProgram());
  if (capture) program.configureOutput({ writeOut: capture, writeErr: capture, getOutHelpWidth: () => 80, getErrHelpWidth: () => 80 });
  await verbs.registerAll(program);
  return { program, verbs };
}

// The root help's verb lines, recorded so that `nfn --help` imports no verb module.
async function verbSummaries() {
  const { program, verbs } = await fullProgram();
  return verbs.verbSummaries(program);
}

// The help text of the root, of every verb and of every sub-verb (`server start`), as 80-column
// help renders it: cli/bin.mjs prints these for a bare `nfn [verb [sub]] --help` without loading the CLI.
async function helpTexts() {
  const texts = {};
  const probe = await fullProgram();
  const paths = [[]];
  for (const cmd of probe.program.commands) {
    paths.push([cmd.name()]);
    for (const sub of cmd.commands) paths.push([cmd.name(), sub.name()]);
  }
  for (const path of paths) {
    let out = "";
    const { program } = await fullProgram((s) => (out += s));
    await program.parseAsync(["node", "nfn", ...path, "--help"]).catch(() => {});
    texts[path.join(" ")] = out;
  }
  return texts;
}

// Bundled modules keep the URL of their source file, so `new URL("../x", import.meta.url)` still
// finds package.json, the demo catalog and the gateway's assets where they are in the clone.
const keepSourceUrl = {
  name: "keep-source-url",
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (args.path.includes("/node_modules/")) return undefined;
      const { readFile } = await import("node:fs/promises");
      const source = await readFile(args.path, "utf8");
      const url = JSON.stringify(pathToFileURL(args.path).href);
      return { contents: `const __nfnSourceUrl = ${url};\n${source}`, loader: "ts" };
    });
  },
};

/** Builds the CLI; resolves with the paths of the repository files it was built from. */
export async function buildCli() {
  const summaries = await verbSummaries();
  const result = await build({
    // The bundles' options (Node 20 ESM, minified, a require() for CommonJS dependencies, the optional
    // OpenTelemetry SDK left out), plus what a CLI with one chunk per verb needs.
    ...esbuildOptions,
    entryPoints: { nfn: fileURLToPath(new URL("./index.ts", import.meta.url)) },
    outdir: workdir,
    splitting: true,
    metafile: true,
    chunkNames: "chunks/[name]-[hash]",
    // tsx and esbuild load TypeScript and native binaries at run time.
    external: [...esbuildOptions.external, "tsx", "esbuild"],
    define: { "import.meta.url": "__nfnSourceUrl", __NFN_VERB_SUMMARIES__: JSON.stringify(summaries) },
    plugins: [keepSourceUrl],
  });
  const inputs = Object.keys(result.metafile.inputs)
    .filter((p) => !p.includes("node_modules/") && !p.startsWith("<"))
    .map((p) => relative(root, fileURLToPath(pathToFileURL(p.startsWith("/") ? p : `${root}/${p}`))));
  mkdirSync(workdir, { recursive: true });
  writeFileSync(`${workdir}help.json`, `${JSON.stringify(await helpTexts())}\n`);
  // package.json and the lock change what is bundled too.
  writeFileSync(`${workdir}inputs.json`, `${JSON.stringify({ root, inputs: [...inputs, "package.json", "package-lock.json"] })}\n`);
  rmSync(outdir, { recursive: true, force: true }); // chunk names change with their content
  renameSync(workdir, outdir);
  return inputs;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const inputs = await buildCli();
  console.error(`nfn: built the CLI into ${relative(process.cwd(), outdir) || "."} from ${inputs.length} files`);
}
