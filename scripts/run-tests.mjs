#!/usr/bin/env node
// Runs node:test (through tsx) on every *.test.ts below the given folders, one file at a time.
// Node 20's test runner does not expand globs itself, so the files are found here.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

const [suffix = ".test.ts", ...roots] = process.argv.slice(2);

function find(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "node_modules" ? [] : find(path);
    return entry.name.endsWith(suffix) ? [path] : [];
  });
}

const files = roots.flatMap(find).sort();
if (files.length === 0) {
  console.error(`no *${suffix} files under ${roots.join(", ")}`);
  process.exit(1);
}
// A test that hangs fails after 3 minutes instead of holding up the whole run (and CI's time limit).
const TEST_TIMEOUT_MS = Number(process.env.NFN_TEST_TIMEOUT_MS ?? 180_000);
const args = ["--import", "tsx", "--test", "--test-concurrency=1", `--test-timeout=${TEST_TIMEOUT_MS}`, ...files];
const result = spawnSync(process.execPath, args, { stdio: "inherit" });
process.exit(result.status ?? 1);
