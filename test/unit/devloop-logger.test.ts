/** The logger: JSON lines for machines, one readable line for a person, request fields kept in both. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatPretty } from "../../runtime/log-pretty.ts";
import { createLogger, formatFromEnv } from "../../runtime/logger.ts";

const REQUEST = { fn: "create_order", version: "1.2.0", traceId: "4bf92f35", correlationId: "corr-1", requestId: "req-1" };

describe("logger", () => {
  it("writes one JSON object a line with level, time, message, bound and call fields", () => {
    const lines: string[] = [];
    const log = createLogger({ component: "test" }, "info", (l) => void lines.push(l), { format: "json" }).child(REQUEST);
    log.info("order confirmed", { orderId: "o-1", big: 12n });
    log.debug("not written");
    assert.equal(lines.length, 1);
    assert.ok(lines[0]?.endsWith("\n"));
    const line = JSON.parse(lines[0] ?? "") as Record<string, unknown>;
    assert.equal(line.level, "info");
    assert.equal(line.msg, "order confirmed");
    assert.match(String(line.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual(
      [line.component, line.fn, line.version, line.traceId, line.correlationId, line.requestId, line.orderId, line.big],
      ["test", "create_order", "1.2.0", "4bf92f35", "corr-1", "req-1", "o-1", "12"],
    );
  });

  it("logs an error's name, message, stack and cause", () => {
    const lines: string[] = [];
    createLogger({}, "info", (l) => void lines.push(l), { format: "json" }).error("failed", {
      error: new TypeError("bad", { cause: new Error("inner") }),
    });
    const { error } = JSON.parse(lines[0] ?? "") as { error: { name: string; message: string; stack: string; cause: { message: string } } };
    assert.equal(error.name, "TypeError");
    assert.equal(error.message, "bad");
    assert.match(error.stack, /TypeError: bad/);
    assert.equal(error.cause.message, "inner");
  });

  it("enabled() follows the level, and silent writes nothing", () => {
    const lines: string[] = [];
    const warn = createLogger({}, "warn", (l) => void lines.push(l));
    assert.deepEqual(
      [warn.enabled("debug"), warn.enabled("info"), warn.enabled("warn"), warn.enabled("error")],
      [false, false, true, true],
    );
    const silent = createLogger({}, "silent", (l) => void lines.push(l));
    silent.error("nothing");
    assert.equal(silent.enabled("error"), false);
    assert.equal(lines.length, 0);
  });

  it("pretty: one line with time, level, function, message, fields, then the request ids", () => {
    const lines: string[] = [];
    const log = createLogger({}, "info", (l) => void lines.push(l), { format: "pretty", colors: false }).child(REQUEST);
    log.warn("stock low", { sku: "AOVE-PICUAL-500ML", available: 3, note: "two words" });
    assert.equal(lines.length, 1);
    assert.match(
      lines[0] ?? "",
      /^\d\d:\d\d:\d\d\.\d{3} WARN {2}create_order@1\.2\.0 stock low sku=AOVE-PICUAL-500ML available=3 note="two words" correlationId=corr-1 requestId=req-1 traceId=4bf92f35\n$/,
    );
  });

  it("pretty: colours only when asked, the stack of an error under its line, other text passed through", () => {
    const json = JSON.stringify({
      level: "error",
      time: "2026-11-23T10:00:00.000Z",
      msg: "request failed",
      error: { message: "boom", stack: "Error: boom\n    at x" },
    });
    const plain = formatPretty(json, { colors: false });
    assert.equal(plain, '10:00:00.000 ERROR request failed error="boom"\n    Error: boom\n        at x\n');
    assert.ok(formatPretty(json, { colors: true }).includes("\x1b[31mERROR"));
    assert.equal(formatPretty("not json\n", { colors: false }), "not json\n");
  });

  it("LOG_FORMAT picks the format; anything else leaves the terminal default", () => {
    assert.equal(formatFromEnv({ LOG_FORMAT: "json" }), "json");
    assert.equal(formatFromEnv({ LOG_FORMAT: "PRETTY" }), "pretty");
    assert.equal(formatFromEnv({ LOG_FORMAT: "xml" }), undefined);
    assert.equal(formatFromEnv({}), undefined);
  });
});
