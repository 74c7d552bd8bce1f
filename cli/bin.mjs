#!/usr/bin/env node
// The `nfn` command. It runs the CLI built into cli/dist/ (`npm run setup` builds it) when that
// build is newer than every file it was built from; otherwise it runs the TypeScript sources
// through tsx, so an edit takes effect at once and a clone without a build still works.
import { readFileSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const built = new URL("./dist/nfn.js", import.meta.url);

// Cheap: one read and about a hundred stat calls (the inputs the build recorded), no directory walk.
function buildIsCurrent() {
  if (process.env.NFN_CLI_FROM_SOURCE === "1") return false;
  try {
    const builtAt = statSync(built).mtimeMs;
    const record = JSON.parse(readFileSync(new URL("./dist/inputs.json", import.meta.url), "utf8"));
    if (record.root !== root || !Array.isArray(record.inputs)) return false;
    return record.inputs.every((file) => statSync(root + file).mtimeMs <= builtAt);
  } catch {
    return false; // no build, or a recorded source is gone
  }
}

// Verbs that import the user's TypeScript functions need tsx's loader either way.
const LOADS_TYPESCRIPT = new Set(["serve", "dev", "test"]);
const args = process.argv.slice(2);
const wantsHelp = args.includes("--help") || args.includes("-h") || args[0] === "help";
const needsTsx = !wantsHelp && args.some((a) => LOADS_TYPESCRIPT.has(a));

// `nfn --help`, `nfn <verb> [sub] --help` and `nfn help [verb [sub]]`: the text the build recorded
// from the same commander definitions, so help needs no module but this one.
function recordedHelp() {
  const words = args.filter((a) => a !== "--help" && a !== "-h");
  const asked = args[0] === "help" ? words.slice(1) : args.length === words.length + 1 && args.at(-1) !== words.at(-1) ? words : undefined;
  if (asked === undefined || asked.some((w) => w.startsWith("-"))) return undefined;
  const texts = JSON.parse(readFileSync(new URL("./dist/help.json", import.meta.url), "utf8"));
  const key = asked.join(" ");
  return Object.hasOwn(texts, key) && typeof texts[key] === "string" ? texts[key] : undefined;
}

const current = buildIsCurrent();
const help = current && wantsHelp ? recordedHelp() : undefined;
if (help !== undefined) {
  process.stdout.write(help);
} else if (current) {
  if (needsTsx) (await import("tsx/esm/api")).register();
  await import(built.href);
} else {
  (await import("tsx/esm/api")).register();
  await import("./index.ts");
}
