import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { it } from "node:test";
import { ERROR_CODES } from "../../runtime/errors.ts";

// The README's error-code table and runtime/errors.ts must list the same codes and types.
it("README error-code table matches the runtime's code table", () => {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const section = readme.split(/^## Error codes$/m)[1]?.split(/^## /m)[0];
  assert.ok(section, "README.md has a '## Error codes' section");
  const rows = [...section.matchAll(/^\|\s*(\d{3})\s*\|\s*`([A-Z_]+)`\s*\|/gm)].map((m) => [Number(m[1]), m[2]]);
  assert.deepEqual(
    rows,
    Object.entries(ERROR_CODES).map(([code, type]) => [Number(code), type]),
  );
});
