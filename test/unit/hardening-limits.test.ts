import assert from "node:assert/strict";
import { test } from "node:test";
import { FunctionError, MAX_ERROR_BODY_BYTES, clipInput } from "../../runtime/errors.ts";
import {
  kvRetention,
  parseBytes,
  parseDurationMs,
  retentionEnvPrefix,
  retentionFromEnv,
  streamRetention,
} from "../../runtime/retention.ts";

const DEFAULTS = { maxAgeMs: 60_000, maxBytes: 1024, history: 1 };

void test("clipInput keeps short text, cuts long text to the limit with …, and never splits a surrogate pair", () => {
  assert.equal(clipInput("abc"), "abc");
  assert.equal(clipInput("x".repeat(64)), "x".repeat(64));
  assert.equal(clipInput("x".repeat(65)), `${"x".repeat(63)}…`);
  const emoji = clipInput("😀".repeat(40));
  assert.ok(emoji.length <= 64);
  assert.ok(emoji.endsWith("😀…"), "the last whole emoji is kept");
});

void test("a FunctionError bounds its message, the number and size of details, and the body bytes", () => {
  const details = Array.from({ length: 500 }, (_, i) => ({
    path: `/${"€".repeat(5000)}${i}`,
    message: "m".repeat(9000),
    [`k${"q".repeat(99)}`]: { deep: "v".repeat(9000) },
  }));
  const err = new FunctionError(400, "w".repeat(100_000), details);
  assert.equal(err.message.length, 512);
  const body = JSON.stringify(err.toBody());
  assert.ok(Buffer.byteLength(body) <= MAX_ERROR_BODY_BYTES, `${Buffer.byteLength(body)} bytes`);
  assert.ok((err.details?.length ?? 0) <= 10);
  assert.ok(!/q{65}/.test(body) && !/v{257}/.test(body));
});

void test("retention: defaults, environment overrides per store, and malformed values refused by name", () => {
  assert.equal(retentionEnvPrefix("orders_open"), "NFN_ORDERS_OPEN");
  assert.equal(retentionEnvPrefix("EVENTS_DLQ"), "NFN_EVENTS_DLQ");
  assert.deepEqual(retentionFromEnv("payments", DEFAULTS, {}), DEFAULTS);
  const env = { NFN_PAYMENTS_MAX_AGE: "7d", NFN_PAYMENTS_MAX_BYTES: "512MiB", NFN_PAYMENTS_HISTORY: "5" };
  assert.deepEqual(retentionFromEnv("payments", DEFAULTS, env), { maxAgeMs: 7 * 86_400_000, maxBytes: 512 * 1024 ** 2, history: 5 });
  assert.deepEqual(kvRetention("payments", DEFAULTS, env), { ttl: 7 * 86_400_000, max_bytes: 512 * 1024 ** 2, history: 5 });
  assert.deepEqual(streamRetention("EVENTS", { maxAgeMs: 1000, maxBytes: 10 }, {}), { max_age: 1_000_000_000, max_bytes: 10 });
  assert.equal(parseDurationMs("90", "X"), 90_000);
  assert.equal(parseDurationMs("1.5h", "X"), 5_400_000);
  assert.equal(parseBytes("64k", "X"), 65_536);
  assert.equal(parseBytes("1GB", "X"), 1024 ** 3);
  assert.throws(
    () => retentionFromEnv("payments", DEFAULTS, { NFN_PAYMENTS_MAX_AGE: "forever" }),
    /NFN_PAYMENTS_MAX_AGE=forever is not a duration/,
  );
  assert.throws(() => retentionFromEnv("payments", DEFAULTS, { NFN_PAYMENTS_MAX_AGE: "0s" }), /not a duration/);
  assert.throws(() => retentionFromEnv("payments", DEFAULTS, { NFN_PAYMENTS_MAX_BYTES: "-1" }), /not a size/);
  assert.throws(() => retentionFromEnv("payments", DEFAULTS, { NFN_PAYMENTS_HISTORY: "65" }), /from 1 to 64/);
});
