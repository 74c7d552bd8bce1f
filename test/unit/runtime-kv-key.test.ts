import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { idFromKvKey, kvKey } from "../../runtime/index.ts";

const KV_KEY = /^[-/_=.a-zA-Z0-9]+$/;

describe("kvKey", () => {
  it("keeps ordinary ids readable", () => {
    assert.equal(kvKey("ord-123_A"), "ord-123_A");
  });

  it("gives a valid KV key with no dot for ids a request may carry", () => {
    for (const id of ["a:b", ".x", "x.", "a..b", "__proto__", "a b", "a*b>", "é", "a=2E", "a/b"]) {
      const key = kvKey(id);
      assert.match(key, KV_KEY, id);
      assert.ok(!key.includes("."), id);
      assert.equal(idFromKvKey(key), id);
    }
  });

  it("never maps two ids to one key", () => {
    assert.notEqual(kvKey("a.b"), kvKey("a=2Eb"));
    assert.notEqual(kvKey("a:b"), kvKey("a=3Ab"));
  });

  it("refuses an empty id", () => {
    assert.throws(() => kvKey(""), RangeError);
  });
});
