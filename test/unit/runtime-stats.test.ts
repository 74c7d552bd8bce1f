import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { EndpointStats, LATENCY_WINDOW, percentile } from "../../runtime/stats.ts";

describe("EndpointStats", () => {
  it("counts requests, errors, rejections and integer nanoseconds", () => {
    const stats = new EndpointStats("f", "fn.f", "q");
    stats.record(1_000n);
    stats.record(2_000n, { code: 409, message: "not enough stock" });
    stats.record(4_001n, { code: 429, message: "full", rejected: true });
    const json = stats.toJSON();
    assert.equal(json.num_requests, 3);
    assert.equal(json.num_errors, 2);
    assert.equal(json.processing_time, 7_001);
    assert.equal(json.average_processing_time, 2_333); // 7001 / 3 truncated, as nats.go divides
    assert.equal(json.last_error, "429:full");
    assert.equal(json.data.rejected, 1);
    assert.equal(json.data.p50_ns, 2_000);
    assert.equal(json.data.p99_ns, 4_001);
  });

  it("counts a 202 ACCEPTED reply apart from errors, and keeps real errors counted", () => {
    const stats = new EndpointStats("f", "fn.f", "q");
    stats.record(1_000n, { code: 500, message: "boom" });
    stats.record(1_000n, { code: 202, message: "f accepted the invocation; it is still running" });
    stats.record(1_000n);
    const json = stats.toJSON();
    assert.equal(json.num_requests, 3);
    assert.equal(json.num_errors, 1);
    assert.equal(json.last_error, "500:boom");
    assert.equal(json.data.accepted, 1);
    stats.reset();
    assert.equal(stats.toJSON().data.accepted, 0);
  });

  it("reports zeros and an empty last_error before any request", () => {
    const json = new EndpointStats("f", "fn.f", "q").toJSON();
    assert.equal(json.average_processing_time, 0);
    assert.equal(json.last_error, "");
    assert.equal(json.data.p99_ns, 0);
  });

  it("computes percentiles over the most recent window only", () => {
    const stats = new EndpointStats("f", "fn.f", "q");
    for (let i = 0; i < LATENCY_WINDOW; i++) stats.record(1_000_000n);
    for (let i = 0; i < LATENCY_WINDOW; i++) stats.record(10n);
    assert.equal(stats.toJSON().data.p99_ns, 10);
    assert.equal(stats.toJSON().num_requests, 2 * LATENCY_WINDOW);
  });

  it("uses nearest-rank percentiles", () => {
    const sorted = Float64Array.from({ length: 100 }, (_, i) => i + 1);
    assert.equal(percentile(sorted, 0.5), 50);
    assert.equal(percentile(sorted, 0.99), 99);
    assert.equal(percentile(new Float64Array(), 0.5), 0);
  });
});
