import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { defineFunction } from "../../runtime/index.ts";
import { matches } from "../../runtime/durable/event-match.ts";
import type { DomainEvent } from "../../runtime/index.ts";

const base = { version: "1.0.0", description: "d", request: { type: "object" }, response: { type: "object" }, handler: () => ({}) };

describe("durable options and event matching", () => {
  it("refuses a bad lease, poll or retention, and an event type that is not a.b, at load time", () => {
    for (const durable of [{ leaseMs: 0 }, { leaseMs: 10 }, { pollMs: 1.5 }, { events: ["nodot"] }, { events: ["a.>"] }]) {
      assert.throws(() => defineFunction({ ...base, name: "d", durable }), /function d: durable\./, JSON.stringify(durable));
    }
    assert.doesNotThrow(() => defineFunction({ ...base, name: "d", durable: true }));
    assert.doesNotThrow(() => defineFunction({ ...base, name: "d", durable: { leaseMs: 500, events: ["payment.settled"] } }));
  });

  it("matches an event on type, aggregate, correlation and top-level data fields only", () => {
    const event: DomainEvent = {
      eventId: "e",
      eventType: "payment.settled",
      aggregateId: "o-1",
      eventVersion: 1,
      occurredOn: "",
      eventData: { amount: 5 },
      metadata: { correlationId: "c-1", causationId: "x", source: "s" },
    };
    assert.ok(matches(event, "payment.settled", {}));
    assert.ok(matches(event, "payment.settled", { aggregateId: "o-1", correlationId: "c-1", data: { amount: 5 } }));
    assert.ok(!matches(event, "payment.failed", {}));
    assert.ok(!matches(event, "payment.settled", { aggregateId: "o-2" }));
    assert.ok(!matches(event, "payment.settled", { data: { amount: 6 } }));
    // An inherited property is not a field of the event.
    assert.ok(!matches(event, "payment.settled", { data: { toString: null } }));
  });
});
