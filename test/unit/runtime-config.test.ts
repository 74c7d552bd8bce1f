import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { configFromEnv } from "../../runtime/config.ts";
import { connectionOptions } from "../../runtime/connect.ts";
import { defineFunction } from "../../runtime/define-function.ts";
import { continueTrace } from "../../runtime/trace.ts";

describe("configuration from the environment", () => {
  it("defaults to a local server, prefix fn and queue q", () => {
    const config = configFromEnv({});
    assert.deepEqual(config.servers, ["nats://127.0.0.1:4222"]);
    assert.equal(config.subjectPrefix, "fn");
    assert.equal(config.queue, "q");
  });

  it("reads credentials, TLS and the seed's alias names", () => {
    const config = configFromEnv({
      NATS_URL: "nats://a:4222, nats://b:4222",
      NATS_CREDS_FILE: "/etc/nfn/user.creds",
      NATS_TLS_CA: "/ca.pem",
      NATS_CERT: "/cert.pem",
      NATS_KEY: "/key.pem",
      NATS_CLIENT_ID: "orders-1",
    });
    assert.deepEqual(config.servers, ["nats://a:4222", "nats://b:4222"]);
    assert.equal(config.credsFile, "/etc/nfn/user.creds");
    assert.deepEqual(config.tls, { caFile: "/ca.pem", certFile: "/cert.pem", keyFile: "/key.pem" });
    const options = connectionOptions(config);
    assert.equal(options.name, "orders-1");
    assert.equal(options.maxReconnectAttempts, -1);
    assert.ok(options.authenticator);
  });

  it("refuses a replica count that is not a positive integer", () => {
    assert.throws(() => configFromEnv({ NFN_REPLICAS: "three" }), /NFN_REPLICAS=three/);
  });
});

describe("defineFunction", () => {
  const base = { description: "d", request: { type: "object" }, response: { type: "object" }, handler: () => ({}) };
  it("applies default limits", () => {
    const def = defineFunction({ ...base, name: "ok_name", version: "1.0.0" });
    assert.deepEqual(def.limits, { maxPayload: 65536, maxInFlight: 256, timeoutMs: 5000 });
  });
  it("refuses names the service API does not allow and versions that are not semver", () => {
    assert.throws(() => defineFunction({ ...base, name: "has space", version: "1.0.0" }), /must be 1-64 letters/);
    assert.throws(() => defineFunction({ ...base, name: "ok", version: "1.0" }), /not semantic/);
  });
});

describe("trace context", () => {
  it("continues a valid traceparent with a new span and starts a trace otherwise", () => {
    const t = continueTrace("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    assert.equal(t.traceId, "4bf92f3577b34da6a3ce929d0e0e4736");
    assert.notEqual(t.spanId, "00f067aa0ba902b7");
    assert.match(continueTrace("garbage").traceId, /^[0-9a-f]{32}$/);
    assert.notEqual(continueTrace(`00-${"0".repeat(32)}-00f067aa0ba902b7-01`).traceId, "0".repeat(32));
  });
});
