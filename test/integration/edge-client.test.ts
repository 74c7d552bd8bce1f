/**
 * The one client (`nats-functions/client`) against a real nats-server: every contract code decoded
 * with its type, message and details; no responders and timeouts mapped locally; discovery of
 * public functions; and nested calls that never get more time than their caller has left.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Cleanup, natsClient, natsServer } from "../helpers/nats.ts";
import { startBareService } from "../fixtures/bare-service.ts";
import { FunctionClient, callFunction, discoverInfo, findFunction, isPublicFunction } from "../../runtime/client/index.ts";
import { ERROR_CODES, type ErrorCode, FunctionError, defineFunction } from "../../runtime/index.ts";
import { startHost } from "../../runtime/host.ts";
import { configFromEnv } from "../../runtime/config.ts";
import { createLogger } from "../../runtime/logger.ts";
import type { NatsConnection } from "@nats-io/nats-core";

const CODES = Object.keys(ERROR_CODES).map(Number) as ErrorCode[];
const open = { type: "object" };

const failWith = defineFunction<{ code: number }, Record<string, never>>({
  name: "edge_fail",
  version: "1.0.0",
  description: "throws the code it is sent",
  request: { type: "object", additionalProperties: false, required: ["code"], properties: { code: { type: "integer" } } },
  response: open,
  handler(input) {
    throw new FunctionError(input.code as ErrorCode, `failed with ${input.code}`, [{ path: "/code", message: "asked" }]);
  },
});

/** Answers how much time it had left. */
const inner = defineFunction<Record<string, never>, { remainingMs: number }>({
  name: "edge_inner",
  version: "1.0.0",
  description: "reports its remaining time",
  visibility: "internal",
  request: open,
  response: open,
  limits: { timeoutMs: 10_000 },
  handler: (_input, ctx) => ({ remainingMs: ctx.remainingMs() }),
});

/** Calls edge_inner and reports its own remaining time next to the one edge_inner saw. */
const outer = defineFunction<Record<string, never>, { outerMs: number; innerMs: number }>({
  name: "edge_outer",
  version: "1.0.0",
  description: "nested call",
  calls: ["edge_inner"],
  request: open,
  response: open,
  limits: { timeoutMs: 10_000 },
  async handler(_input, ctx) {
    const outerMs = ctx.remainingMs();
    const { remainingMs } = await ctx.call<{ remainingMs: number }>("edge_inner", {});
    return { outerMs, innerMs: remainingMs };
  },
});

const hang = defineFunction<Record<string, never>, Record<string, never>>({
  name: "edge_hang",
  version: "1.0.0",
  description: "never answers in time",
  request: open,
  response: open,
  limits: { timeoutMs: 5000 },
  handler: (_input, ctx) => new Promise((resolve) => ctx.signal.addEventListener("abort", () => resolve({}))),
});

const cleanup = new Cleanup();
let nc: NatsConnection;
let client: FunctionClient;

describe("the unified client", () => {
  before(async () => {
    const server = await natsServer(cleanup);
    nc = await natsClient(cleanup, server);
    const config = { ...configFromEnv({ NATS_URL: server.url }), logLevel: "silent" as const };
    const host = await startHost([failWith, inner, outer, hang], { nc, config, log: createLogger({}, "silent") });
    cleanup.after(() => host.stop(2000));
    const bare = await startBareService(nc);
    cleanup.after(() => bare.stop());
    client = new FunctionClient(nc);
  });
  after(() => cleanup.run());

  for (const code of CODES) {
    test(`decodes a ${code} reply as FunctionError ${ERROR_CODES[code]} with its message and details`, async () => {
      await assert.rejects(client.call("edge_fail", { code }), (err: unknown) => {
        assert.ok(err instanceof FunctionError);
        assert.equal(err.code, code);
        assert.equal(err.type, ERROR_CODES[code]);
        assert.equal(err.message, `failed with ${code}`);
        assert.deepEqual(err.details, [{ path: "/code", message: "asked" }]);
        return true;
      });
    });
  }

  test("maps a subject nobody serves to 503 and a late reply to 504, without waiting past the deadline", async () => {
    await assert.rejects(callFunction(nc, { subject: "fn.nobody_here", fn: "nobody_here", body: "{}", deadline: Date.now() + 1000 }), {
      code: 503,
    });
    await assert.rejects(client.call("nobody_here", {}), { code: 503, message: /nobody_here is not running/ });
    const started = Date.now();
    await assert.rejects(client.call("edge_hang", {}, { timeoutMs: 300 }), { code: 504 });
    assert.ok(Date.now() - started < 4000, "the caller's deadline, not the function's, ends the wait");
  });

  test("a code outside the contract from another kind of service becomes 500 with its text", async () => {
    await assert.rejects(callFunction(nc, { subject: "bare.fail", fn: "bare_echo", body: "{}", deadline: Date.now() + 2000 }), {
      code: 500,
      message: "i am a teapot",
    });
  });

  test("discovery tells this runtime's public functions from internal ones and from foreign services", async () => {
    const infos = await discoverInfo(nc, { timeoutMs: 2000 });
    const byName = new Map(infos.map((i) => [i.name, isPublicFunction(i)]));
    assert.equal(byName.get("edge_outer"), true);
    assert.equal(byName.get("edge_inner"), false);
    assert.equal(byName.get("bare_echo"), false);
    assert.equal(await findFunction(nc, "edge_inner", { timeoutMs: 1000, publicOnly: true }), undefined);
    assert.equal((await findFunction(nc, "edge_inner", { timeoutMs: 1000 }))?.subject, "fn.edge_inner");
  });

  test("a nested call gets no more time than its caller has left", async () => {
    const reply = await client.call<{ outerMs: number; innerMs: number }>("edge_outer", {}, { timeoutMs: 800 });
    assert.ok(reply.outerMs <= 800, `outer had ${reply.outerMs} ms`);
    assert.ok(reply.innerMs <= reply.outerMs, `inner had ${reply.innerMs} ms, outer ${reply.outerMs} ms`);
    assert.ok(reply.innerMs > 0);
  });
});
