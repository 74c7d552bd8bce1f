import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MAX_JSON_DEPTH, parseRequestBody } from "../../runtime/json.ts";
import { isFunctionError } from "../../runtime/errors.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

function codeOf(fn: () => unknown): number | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return isFunctionError(err) ? err.code : -1;
  }
}

describe("parseRequestBody", () => {
  it("parses ordinary JSON values", () => {
    assert.deepEqual(parseRequestBody(bytes('{"a":[1,"x",{"b":null}]}')), { a: [1, "x", { b: null }] });
    assert.equal(parseRequestBody(bytes("42")), 42);
  });

  it("accepts nesting of exactly the limit and refuses one level more", () => {
    const at = `${"[".repeat(MAX_JSON_DEPTH)}${"]".repeat(MAX_JSON_DEPTH)}`;
    assert.equal(
      codeOf(() => parseRequestBody(bytes(at))),
      undefined,
    );
    const over = `${"[".repeat(MAX_JSON_DEPTH + 1)}${"]".repeat(MAX_JSON_DEPTH + 1)}`;
    assert.equal(
      codeOf(() => parseRequestBody(bytes(over))),
      400,
    );
  });

  it("does not count brackets inside strings, escaped quotes included", () => {
    const text = JSON.stringify({ s: `${"[".repeat(200)}\\"${"{".repeat(200)}` });
    assert.equal(
      codeOf(() => parseRequestBody(bytes(text))),
      undefined,
    );
  });

  it("refuses __proto__, constructor and prototype keys at any depth, escaped or not", () => {
    for (const text of [
      '{"__proto__":1}',
      '{"a":{"constructor":1}}',
      '[{"prototype":1}]',
      '{"\\u005f_proto__":1}',
      '{"con\\u0073tructor":1}',
    ]) {
      assert.equal(
        codeOf(() => parseRequestBody(bytes(text))),
        400,
        text,
      );
    }
  });

  it("allows those words as values", () => {
    assert.deepEqual(parseRequestBody(bytes('{"k":"__proto__"}')), { k: "__proto__" });
  });

  it("refuses invalid UTF-8, empty bodies and broken JSON with 400", () => {
    assert.equal(
      codeOf(() => parseRequestBody(new Uint8Array([0x7b, 0xff, 0x7d]))),
      400,
    );
    assert.equal(
      codeOf(() => parseRequestBody(bytes("   "))),
      400,
    );
    assert.equal(
      codeOf(() => parseRequestBody(bytes('{"a":'))),
      400,
    );
  });
});
