import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ERROR_CODES, FunctionError, errorFromReply, headerText, isFunctionError, toFunctionError } from "../../runtime/errors.ts";

describe("FunctionError", () => {
  it("knows its type from the closed code table", () => {
    const err = new FunctionError(404, "unknown sku ABC");
    assert.equal(err.type, "NOT_FOUND");
    assert.deepEqual(err.toBody(), { error: { code: 404, type: "NOT_FOUND", message: "unknown sku ABC" } });
  });

  it("is recognised by its brand, also when made by another copy of the runtime", () => {
    const foreign = Object.assign(new Error("x"), { [Symbol.for("nats-functions.FunctionError")]: true });
    assert.equal(isFunctionError(foreign), true);
    assert.equal(isFunctionError(new Error("x")), false);
    assert.equal(isFunctionError(null), false);
  });

  it("turns unknown throws into a generic 500 that keeps the cause for the log", () => {
    const cause = new Error("ECONNREFUSED 10.0.0.1:5432");
    const err = toFunctionError(cause);
    assert.equal(err.code, 500);
    assert.equal(err.message, "internal error");
    assert.equal(err.cause, cause);
  });

  it("keeps header text to one line of at most 512 characters", () => {
    assert.equal(headerText("a\nb"), "a b");
    assert.equal(headerText("x".repeat(2000)).length, 512);
  });

  it("rebuilds an error from a reply, falling back to 500 for unknown codes", () => {
    const err = errorFromReply("409", { error: { code: 409, message: "short", details: [{ sku: "a" }] } }, "fallback");
    assert.equal(err.code, 409);
    assert.equal(err.message, "short");
    assert.deepEqual(err.details, [{ sku: "a" }]);
    assert.equal(errorFromReply("418", undefined, "teapot").code, 500);
  });

  it("has exactly the codes of the contract", () => {
    assert.deepEqual(Object.keys(ERROR_CODES).map(Number), [202, 400, 401, 402, 403, 404, 409, 413, 415, 422, 429, 500, 503, 504]);
  });
});
