/** The runtime refuses a call, bucket or event a function did not declare, naming the declaration to add. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { NatsConnection } from "@nats-io/nats-core";
import { configFromEnv } from "../../runtime/config.ts";
import { defineFunction } from "../../runtime/define-function.ts";
import { startHost } from "../../runtime/host.ts";
import { createLogger } from "../../runtime/logger.ts";
import { Cleanup, natsClient, natsServer } from "../helpers/nats.ts";
import { send } from "../helpers/requests.ts";

const hooks = new Cleanup();
const obj = { type: "object" };

const sneaky = defineFunction<{ use: "kv" | "emit" | "call" | "declared" }, { ok: boolean }>({
  name: "sneaky",
  version: "1.0.0",
  description: "uses what it declares, and on request what it does not",
  request: { type: "object", required: ["use"], properties: { use: { enum: ["kv", "emit", "call", "declared"] } } },
  response: obj,
  kv: ["allowed_bucket"],
  emits: ["test.allowed"],
  calls: ["sneaky"],
  async handler(input, ctx) {
    if (input.use === "kv") await ctx.kv("orders");
    if (input.use === "emit") await ctx.emit("order.confirmed", "o-1", {});
    if (input.use === "call") await ctx.call("process_payment", {});
    if (input.use === "declared") {
      await (await ctx.kv("allowed_bucket")).put("k", "v");
      await ctx.emit("test.allowed", "a-1", {});
    }
    return { ok: true };
  },
});

describe("declared uses", () => {
  let nc: NatsConnection;
  const lines: string[] = [];

  before(async () => {
    const server = await natsServer(hooks);
    const host = await startHost([sneaky], {
      config: configFromEnv({ NATS_URL: server.url }),
      log: createLogger({}, "error", (line) => lines.push(line)),
    });
    hooks.after(() => host.stop(1000));
    nc = await natsClient(hooks, server);
  });
  after(() => hooks.run());

  for (const [use, field, what] of [
    ["kv", "kv", "orders"],
    ["emit", "emits", "order.confirmed"],
    ["call", "calls", "process_payment"],
  ] as const) {
    it(`answers 500 to an undeclared ${use} and logs which declaration to add`, async () => {
      const reply = await send(nc, "fn.sneaky", { use });
      assert.equal(reply.code, 500);
      assert.ok(!JSON.stringify(reply.body).includes(what), "the wire gets the generic message");
      assert.ok(
        lines.some((l) => l.includes(`add \\"${what}\\" to ${field}: [...]`)),
        `log names the declaration: ${lines.join("\n")}`,
      );
    });
  }

  it("runs what is declared", async () => {
    const reply = await send(nc, "fn.sneaky", { use: "declared" });
    assert.deepEqual(reply.body, { ok: true });
  });

  it("refuses a declaration that is not a list of names when the module loads", () => {
    assert.throws(
      () =>
        defineFunction({ name: "bad", version: "1.0.0", description: "", request: obj, response: obj, kv: ["a.b"], handler: () => ({}) }),
      /kv holds "a\.b"/,
    );
    assert.throws(
      () =>
        defineFunction({
          name: "bad",
          version: "1.0.0",
          description: "",
          request: obj,
          response: obj,
          emits: ["order..x"],
          handler: () => ({}),
        }),
      /emits holds/,
    );
  });
});
