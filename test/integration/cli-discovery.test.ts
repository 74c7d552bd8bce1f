/** nfn ls, info, stats, ping and schema against a real nats-server, with our functions and a bare ADR-32 service. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { NatsConnection } from "@nats-io/nats-core";
import { runInfo } from "../../cli/commands/info.ts";
import { runLs } from "../../cli/commands/ls.ts";
import { runPing } from "../../cli/commands/ping.ts";
import { runSchema } from "../../cli/commands/schema.ts";
import { runStats } from "../../cli/commands/stats.ts";
import { runCore } from "../../cli/lib/program.ts";
import { captureIo } from "../../cli/lib/io.ts";
import { EXIT } from "../../cli/lib/exit-codes.ts";
import { exampleFor } from "../../cli/lib/schema-example.ts";
import { compileValidator } from "../../runtime/validation.ts";
import { startHost } from "../../runtime/host.ts";
import { configFromEnv } from "../../runtime/config.ts";
import { createLogger } from "../../runtime/logger.ts";
import { deadlineProbe, probe, relay } from "../fixtures/probe-functions.ts";
import { startBareService } from "../fixtures/bare-service.ts";
import { Cleanup, natsClient, natsServer } from "../helpers/nats.ts";
import { runNfn } from "../helpers/cli.ts";

// Cleanups registered while `before` runs; run in reverse order by the suite's `after`.
const hooks = new Cleanup();

/** Runs `nfn ...args` with HOME kept, so no natscli context of the test machine leaks in through other variables. */
function nfn(args: string[], env: NodeJS.ProcessEnv = {}) {
  return runNfn(args, { env: { HOME: process.env.HOME, ...env } });
}

describe("nfn discovery verbs", () => {
  let url = "";
  let nc: NatsConnection;
  const opts = () => ({ server: url, timeout: "3s" });

  after(() => hooks.run());

  before(async () => {
    const server = await natsServer(hooks);
    url = server.url;
    nc = await natsClient(hooks, server);
    const config = { ...configFromEnv({}), servers: [url] };
    const log = createLogger({}, "silent");
    // two hosts, so probe has two instances
    const a = await startHost([probe, relay, deadlineProbe], { nc, config, log });
    const b = await startHost([probe], { nc, config, log });
    hooks.after(() => Promise.all([a.stop(200), b.stop(200)]));
    const bare = await startBareService(nc);
    hooks.after(() => bare.stop());
    // a reply of the wrong type on INFO must be skipped
    const liar = nc.subscribe("$SRV.INFO", {
      callback: (_e, m) => {
        m.respond(JSON.stringify({ type: "io.nats.micro.v1.ping_response", name: "liar", id: "x", version: "1.0.0" }));
      },
    });
    hooks.after(() => liar.unsubscribe());
    // some traffic, one of it an error
    await nc.request("fn.probe", JSON.stringify({ text: "hi" }));
    await nc.request("fn.probe", JSON.stringify({ fail: "conflict" }));
  });

  it("ls lists our functions and the bare service with instance counts, and skips replies of the wrong type", async () => {
    const io = captureIo();
    assert.equal(await runLs({ ...opts(), json: true }, io), EXIT.OK);
    const rows = JSON.parse(io.out()) as { name: string; instances: number; versions: string[] }[];
    const byName = new Map(rows.map((r) => [r.name, r]));
    assert.equal(byName.get("probe")?.instances, 2);
    assert.deepEqual(byName.get("bare_echo")?.versions, ["0.3.0"]);
    assert.ok(byName.has("relay") && byName.has("deadline_probe"));
    assert.equal(byName.has("liar"), false);
    const text = captureIo();
    await runLs(opts(), text);
    assert.match(text.out(), /^NAME\s+VERSION\s+INSTANCES\s+DESCRIPTION/);
    assert.match(text.out(), /probe\s+1\.0\.0\s+2\s+Echoes text/);
  });

  it("info shows subject, queue group, bundle hash and schemas of every instance", async () => {
    const io = captureIo();
    assert.equal(await runInfo("probe", opts(), io), EXIT.OK);
    assert.equal(io.out().match(/^instance /gm)?.length, 2);
    assert.match(io.out(), /endpoint probe {2}subject fn\.probe {2}queue group q/);
    assert.match(io.out(), /bundle sha256: source/);
    assert.match(io.out(), /request_schema:\n\{\n {2}"type": "object"/);
    assert.equal(io.err(), "", "same version and hash: no warning");
  });

  it("info works for a bare ADR-32 service with several endpoints", async () => {
    const io = captureIo();
    assert.equal(await runInfo("bare_echo", { ...opts(), json: true }, io), EXIT.OK);
    const info = JSON.parse(io.out()) as { instances: { endpoints: { name: string; subject: string }[] }[] };
    assert.deepEqual(info.instances[0]?.endpoints.map((e) => e.subject).sort(), ["bare.echo", "bare.fail"]);
  });

  it("info of an unknown function exits 3 with what to check", async () => {
    const io = captureIo();
    const code = await runCore(() => runInfo("nope", opts(), io), io);
    assert.equal(code, EXIT.NO_RESPONDERS);
    assert.match(io.err(), /^nfn: no responders for nope: is `nfn serve` running against nats:\/\/127\.0\.0\.1:\d+\?/);
  });

  it("stats match $SRV.STATS: per instance rows and an exact total", async () => {
    const io = captureIo();
    assert.equal(await runStats("probe", { ...opts(), json: true }, io), EXIT.OK);
    const { rows } = JSON.parse(io.out()) as {
      rows: { id: string; requests: number; errors: number; lastError: string; p50Ns: number | null }[];
    };
    const total = rows.find((r) => r.id === "total");
    assert.equal(rows.length, 3);
    assert.equal(total?.requests, 2);
    assert.equal(total?.errors, 1);
    assert.match(total?.lastError ?? "", /^409:not enough stock/);
    assert.ok(rows.filter((r) => r.id !== "total").every((r) => typeof r.p50Ns === "number"));
  });

  it("stats of a bare service show its counts and no percentiles", async () => {
    await nc.request("bare.fail", "x").catch(() => undefined);
    const io = captureIo();
    assert.equal(await runStats("bare_echo", opts(), io), EXIT.OK);
    assert.match(io.out(), /bare_echo\s+\S+\s+0\s+0\s+\S+\s+-\s+-/);
  });

  it("ping lists every instance with a round-trip time", async () => {
    const io = captureIo();
    assert.equal(await runPing(undefined, { ...opts(), json: true }, io), EXIT.OK);
    const rows = JSON.parse(io.out()) as { name: string; rttMs: number }[];
    assert.equal(rows.filter((r) => r.name === "probe").length, 2);
    assert.ok(rows.every((r) => r.rttMs >= 0));
  });

  it("schema --example prints a payload the advertised request schema accepts, for every function", async () => {
    for (const fn of ["probe", "relay", "deadline_probe"]) {
      const io = captureIo();
      assert.equal(await runSchema(fn, { ...opts(), example: true, json: true }, io), EXIT.OK);
      const schemaIo = captureIo();
      await runSchema(fn, { ...opts(), json: true }, schemaIo);
      const { request } = JSON.parse(schemaIo.out()) as { request: object };
      assert.equal(compileValidator(request)(JSON.parse(io.out())), undefined, `${fn}: ${io.out()}`);
    }
  });

  it("the example generator satisfies patterns, bounds, refs and nested required arrays", () => {
    const schema = {
      type: "object",
      additionalProperties: false,
      required: ["items", "currency", "total"],
      $defs: {
        line: {
          type: "object",
          required: ["sku", "quantity"],
          properties: {
            sku: { type: "string", pattern: "^[A-Za-z0-9._-]{1,64}$" },
            quantity: { type: "integer", minimum: 1, maximum: 10000 },
          },
        },
      },
      properties: {
        items: { type: "array", minItems: 1, maxItems: 100, items: { $ref: "#/$defs/line" } },
        currency: { type: "string", pattern: "^[A-Z]{3}$" },
        total: { type: "integer", exclusiveMinimum: 0, multipleOf: 5 },
      },
    };
    const example = exampleFor(schema);
    assert.equal(compileValidator(schema)(example), undefined, JSON.stringify(example));
    assert.deepEqual(example, { items: [{ sku: "AOVE-PICUAL-500ML", quantity: 1 }], currency: "EUR", total: 5 });
  });

  it("spawned: nfn ls prints the table on stdout and exits 0", async () => {
    const r = await nfn(["ls", "-s", url]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /bare_echo\s+0\.3\.0\s+1\s+Echo made with bare/);
    assert.equal(r.stderr, "");
  });

  it("spawned: nfn info, stats, ping and schema answer with exit 0, and 3 for a missing function", async () => {
    const [info, stats, ping, schema, missing] = await Promise.all([
      nfn(["info", "probe", "-s", url]),
      nfn(["stats", "-s", url, "--json"]),
      nfn(["ping", "probe", "-s", url]),
      nfn(["schema", "probe", "--example", "-s", url]),
      nfn(["stats", "nope", "-s", url, "--timeout", "1s"]),
    ]);
    assert.equal(info.code, 0, info.stderr);
    assert.match(info.stdout, /subject fn\.probe/);
    assert.equal(stats.code, 0, stats.stderr);
    assert.ok(Array.isArray((JSON.parse(stats.stdout) as { rows: unknown }).rows));
    assert.equal(ping.code, 0, ping.stderr);
    assert.match(ping.stdout, /^NAME\s+ID\s+VERSION\s+RTT\nprobe/);
    assert.equal(schema.code, 0, schema.stderr);
    assert.deepEqual(JSON.parse(schema.stdout), {});
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /^nfn: no responders for nope: /);
    assert.equal(missing.stdout, "");
  });

  it("spawned: a server that is not there exits 5 with one line that says what to do", async () => {
    const r = await nfn(["ls", "-s", "nats://127.0.0.1:1"]);
    assert.equal(r.code, 5);
    assert.match(r.stderr, /^nfn: cannot connect to NATS at nats:\/\/127\.0\.0\.1:1 \(.*\): start one with `npx nfn server start`/);
    assert.equal(r.stderr.trim().split("\n").length, 1);
  });
});
