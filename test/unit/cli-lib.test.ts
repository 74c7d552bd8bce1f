/** The CLI's pure parts: connection settings, durations, headers, stats totals, reload targets. */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { statsRows } from "../../cli/commands/stats.ts";
import { driftWarnings } from "../../cli/commands/info.ts";
import { resolveConnection } from "../../cli/lib/connection.ts";
import { affectedFunctions } from "../../cli/lib/dev-reloader.ts";
import { discoverySubject } from "../../runtime/client/index.ts";
import { parseDuration } from "../../cli/lib/duration.ts";
import { CliError, describeError } from "../../cli/lib/errors.ts";
import { EXIT } from "../../cli/lib/exit-codes.ts";
import { writeServerRecord } from "../../cli/lib/local-server.ts";
import { parseHeaders } from "../../cli/lib/payload.ts";

const home = mkdtempSync(join(tmpdir(), "nfn-home-"));
after(() => rmSync(home, { recursive: true, force: true }));
mkdirSync(join(home, ".config", "nats", "context"), { recursive: true });
writeFileSync(
  join(home, ".config", "nats", "context", "prod.json"),
  JSON.stringify({
    description: "prod",
    url: "nats://prod-1:4222,nats://prod-2:4222",
    creds: "/etc/prod.creds",
    ca: "/etc/ca.pem",
    token: "",
  }),
);

describe("connection settings", () => {
  const io = (env: NodeJS.ProcessEnv, cwd = home) => ({ env: { HOME: home, ...env }, cwd });

  it("takes flags over a natscli context over NATS_* variables", () => {
    const env = { NATS_URL: "nats://env:4222", NATS_USER: "envuser", NATS_CREDS: "/env.creds" };
    const fromEnv = resolveConnection({}, io(env));
    assert.deepEqual(
      [fromEnv.config.servers, fromEnv.config.user, fromEnv.config.credsFile, fromEnv.explicitServer],
      [["nats://env:4222"], "envuser", "/env.creds", true],
    );
    const fromContext = resolveConnection({ context: "prod" }, io(env));
    assert.deepEqual(fromContext.config.servers, ["nats://prod-1:4222", "nats://prod-2:4222"]);
    assert.equal(fromContext.config.credsFile, "/etc/prod.creds");
    assert.equal(fromContext.config.tls?.caFile, "/etc/ca.pem");
    assert.equal(fromContext.config.token, undefined, "an empty context field is not a value");
    const fromFlags = resolveConnection(
      { context: "prod", server: "nats://flag:4222", user: "u", password: "p", token: "t", timeout: "750ms" },
      io(env),
    );
    assert.deepEqual(
      [fromFlags.config.servers, fromFlags.config.user, fromFlags.config.password, fromFlags.config.token, fromFlags.timeoutMs],
      [["nats://flag:4222"], "u", "p", "t", 750],
    );
  });

  it("reads the context named by NATS_CONTEXT, and says how to create a missing one", () => {
    assert.deepEqual(resolveConnection({}, io({ NATS_CONTEXT: "prod" })).config.servers[0], "nats://prod-1:4222");
    assert.throws(
      () => resolveConnection({ context: "nope" }, io({})),
      (err: unknown) => err instanceof CliError && err.exitCode === EXIT.USAGE && /nats context save nope/.test(err.message),
    );
  });

  it("uses the dev server recorded in .nfn/server.json when nothing else names a server", () => {
    const cwd = mkdtempSync(join(tmpdir(), "nfn-cwd-"));
    after(() => rmSync(cwd, { recursive: true, force: true }));
    assert.deepEqual(resolveConnection({}, io({}, cwd)).config.servers, ["nats://127.0.0.1:4222"]);
    writeServerRecord(cwd, {
      pid: process.pid,
      url: "nats://127.0.0.1:4999",
      port: 4999,
      monitorPort: 8999,
      storeDir: cwd,
      startedBy: "server",
      startedAt: "",
    });
    const resolved = resolveConnection({}, io({}, cwd));
    assert.deepEqual([resolved.config.servers, resolved.explicitServer], [["nats://127.0.0.1:4999"], false]);
    assert.deepEqual(resolveConnection({}, io({ NATS_URL: "nats://env:1" }, cwd)).config.servers, ["nats://env:1"]);
  });
});

describe("small parsers", () => {
  it("reads durations natscli style, a bare number as seconds", () => {
    assert.deepEqual(
      ["500ms", "5s", "1m", "2", "0.5"].map((d) => parseDuration(d, "--timeout")),
      [500, 5000, 60000, 2000, 500],
    );
    assert.throws(() => parseDuration("soon", "--timeout"), /--timeout "soon" is not a duration: use 500ms, 5s, 1m or a number of seconds/);
  });

  it("parses -H key:value headers, keeping colons in the value", () => {
    assert.deepEqual(parseHeaders(["Idempotency-Key: k1", "traceparent:00-abc-def-01", "X-Url: http://x:1"]), {
      "Idempotency-Key": "k1",
      traceparent: "00-abc-def-01",
      "X-Url": "http://x:1",
    });
    assert.throws(() => parseHeaders([":v"]), /must look like key:value/);
  });

  it("prints one line for multi-line messages and marks unexpected errors", () => {
    assert.deepEqual(describeError(new CliError(EXIT.USAGE, "a\n  b")), { line: "a b", exitCode: EXIT.USAGE });
    assert.equal(describeError(new Error("boom")).exitCode, EXIT.INTERNAL);
  });

  it("builds discovery subjects; an id only counts with a name", () => {
    assert.deepEqual(
      [
        discoverySubject("PING"),
        discoverySubject("INFO", "a"),
        discoverySubject("STATS", "a", "x1"),
        discoverySubject("PING", undefined, "x1"),
      ],
      ["$SRV.PING", "$SRV.INFO.a", "$SRV.STATS.a.x1", "$SRV.PING"],
    );
  });
});

describe("stats and info summaries", () => {
  const endpoint = (requests: number, errors: number, avg: number, data: Record<string, unknown> = {}) => ({
    name: "fn",
    subject: "fn.fn",
    queue_group: "q",
    num_requests: requests,
    num_errors: errors,
    processing_time: requests * avg,
    average_processing_time: avg,
    last_error: errors ? "409:no" : "",
    data,
  });
  const reply = (id: string, e: ReturnType<typeof endpoint>) => ({
    name: "fn",
    id,
    version: "1.0.0",
    metadata: {},
    started: "",
    endpoints: [e],
  });

  it("adds a total row with exact sums and the request-weighted average, and no made-up percentiles", () => {
    const rows = statsRows([
      reply("a", endpoint(3, 1, 100, { p50_ns: 90, p99_ns: 200, in_flight: 1, rejected: 0 })),
      reply("b", endpoint(1, 0, 500, { p50_ns: 500, p99_ns: 500, in_flight: 0, rejected: 2 })),
    ]);
    const total = rows.find((r) => r.id === "total");
    assert.deepEqual(
      [total?.requests, total?.errors, total?.averageNs, total?.inFlight, total?.rejected, total?.p50Ns, total?.lastError],
      [4, 1, 200, 1, 2, null, "409:no"],
    );
    assert.equal(rows.at(-1)?.id, "total");
  });

  it("warns when instances run different versions or bundles", () => {
    const info = (id: string, version: string, hash: string) => ({
      name: "fn",
      id,
      version,
      metadata: {},
      description: "",
      endpoints: [{ name: "fn", subject: "fn.fn", queue_group: "q", metadata: { bundle_sha256: hash } }],
    });
    assert.deepEqual(driftWarnings([info("a", "1.0.0", "h1"), info("b", "1.0.0", "h1")]), []);
    assert.deepEqual(driftWarnings([info("a", "1.0.0", "h1"), info("b", "1.1.0", "h2")]), [
      "instances run different versions: 1.0.0, 1.1.0",
      "instances run different bundles: h1, h2",
    ]);
  });
});

describe("dev reload targets", () => {
  const known = ["check_inventory", "reserve_stock"];
  it("maps a change to its function, schemas by name, and shared code to every function", () => {
    assert.deepEqual(affectedFunctions("/p/functions/reserve_stock/handler.ts", "/p/functions", "/p/schemas", known), ["reserve_stock"]);
    assert.deepEqual(affectedFunctions("/p/schemas/check_inventory.request.json", "/p/functions", "/p/schemas", known), [
      "check_inventory",
    ]);
    assert.deepEqual(affectedFunctions("/p/schemas/common.json", "/p/functions", "/p/schemas", known), known);
    assert.deepEqual(affectedFunctions("/p/functions/_shared/money.ts", "/p/functions", "/p/schemas", known), known);
    assert.deepEqual(affectedFunctions("/p/README.md", "/p/functions", "/p/schemas", known), []);
  });
});
