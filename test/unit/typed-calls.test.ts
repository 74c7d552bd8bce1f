/** Typed nested calls: a wrong function name or field is a compile error, a right call compiles. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import ts from "typescript";

const root = fileURLToPath(new URL("../../", import.meta.url));
const fixture = fileURLToPath(new URL("../fixtures/typed-calls.ts", import.meta.url));
const text = readFileSync(fixture, "utf8");

/** The project's compiler options; the fixture's text replaced by `source`. */
function diagnostics(source: string): readonly ts.Diagnostic[] {
  const config = ts.getParsedCommandLineOfConfigFile(
    `${root}tsconfig.json`,
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} },
  );
  assert.ok(config, "tsconfig.json parses");
  const host = ts.createCompilerHost(config.options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version, ...rest) =>
    ts.sys.resolvePath(name) === ts.sys.resolvePath(fixture)
      ? ts.createSourceFile(name, source, version)
      : getSourceFile(name, version, ...rest);
  const program = ts.createProgram([fixture], config.options, host);
  return ts.getPreEmitDiagnostics(program, program.getSourceFile(fixture));
}

// A marker line is blanked, so the error lands on the line after it (0-based: the marker's index + 1).
const MARKER = /^\s*\/\/ @ts-expect-error/;
const lineOf = (d: ts.Diagnostic) => (d.file ? d.file.getLineAndCharacterOfPosition(d.start ?? 0).line : -1);

describe("typed nested calls", () => {
  it("compile as written: right calls pass and every expected error is there", () => {
    const found = diagnostics(text);
    assert.deepEqual(
      found.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")),
      [],
    );
  });

  it("fail to compile on exactly the marked lines once the markers are gone", () => {
    const lines = text.split("\n");
    const marked = lines.flatMap((l, i) => (MARKER.test(l) ? [i + 1] : []));
    assert.ok(marked.length >= 7, "the fixture marks its wrong calls");
    const stripped = lines.map((l) => (MARKER.test(l) ? "" : l)).join("\n");
    const errorLines = [...new Set(diagnostics(stripped).map(lineOf))].sort((a, b) => a - b);
    assert.deepEqual(errorLines, marked);
  });
});
