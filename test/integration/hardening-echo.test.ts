/**
 * No echo: a long property name or value comes back, in the body, the Nats-Service-Error header and
 * STATS last_error, cut to at most 64 characters, and an error body stays under 4 KB. Errors of the
 * internal payment step name no amounts or payment methods.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { Cleanup } from "../helpers/nats.ts";
import { type Marketplace, startMarketplace } from "../fixtures/marketplace.ts";
import type { Reply } from "../helpers/requests.ts";

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** The longest run of `ch` in `text`. */
function longestRun(text: string, ch: string): number {
  let best = 0;
  let run = 0;
  for (const c of text) {
    run = c === ch ? run + 1 : 0;
    best = Math.max(best, run);
  }
  return best;
}

async function lastError(m: Marketplace, fn: string): Promise<string> {
  const msg = await m.nc.request(`$SRV.STATS.${fn}`, "", { timeout: 2000 });
  const stats = msg.json<{ endpoints: { last_error: string }[] }>();
  return stats.endpoints[0]?.last_error ?? "";
}

/** Asserts that `ch` (the repeated character of the input) appears at most 64 times in a row in every part of the reply. */
function assertNoEcho(reply: Reply, ch: string, stats: string): void {
  const body = reply.msg.string();
  assert.ok(Buffer.byteLength(body) < 4096, `body is ${Buffer.byteLength(body)} bytes`);
  assert.ok(longestRun(body, ch) <= 64, `body echoes ${longestRun(body, ch)} characters`);
  assert.ok(longestRun(reply.errorHeader ?? "", ch) <= 64, "header echoes the input");
  assert.ok((reply.errorHeader ?? "").length <= 512);
  assert.ok(longestRun(stats, ch) <= 64, `STATS last_error echoes ${longestRun(stats, ch)} characters`);
}

void describe("error replies never echo long input", () => {
  const hooks = new Cleanup();
  let m: Marketplace;
  after(() => hooks.run());
  before(async () => {
    m = await startMarketplace(hooks);
  });

  void it("cuts a 60,000-character unknown property name to 64 characters, marked with …", async () => {
    const name = "x".repeat(60_000);
    const body = `{"sku":"s-1","name":"n","priceCents":1,"onHand":1,"${name}":1}`;
    const reply = await m.call("put_product", body, bearer(m.tokens.admin));
    assert.equal(reply.code, 400);
    const error = (reply.body as { error: { message: string; details: { path: string; message: string }[] } }).error;
    assert.equal(error.details.length, 1);
    assert.equal(error.details[0]?.path, `/${"x".repeat(63)}…`);
    assert.equal(error.details[0]?.message, "is not allowed");
    assertNoEcho(reply, "x", await lastError(m, "put_product"));
  });

  void it("stays under 4 KB for multi-byte and control-character names", async () => {
    // As many as fit in the 64 KiB limit: € is 3 bytes, an emoji 4, a control character 6 once JSON-escaped.
    for (const [ch, count] of [
      ["€", 20_000],
      ["\u0001", 10_000],
      ["😀", 15_000],
    ] as const) {
      const name = ch.repeat(count);
      const reply = await m.call("check_inventory", JSON.stringify({ items: [{ sku: "a", quantity: 1 }], [name]: true }));
      assert.equal(reply.code, 400);
      assertNoEcho(reply, ch, await lastError(m, "check_inventory"));
    }
  });

  void it("never echoes long values: a 60,000-character sku, orderId, token or Idempotency-Key", async () => {
    const long = "y".repeat(60_000);
    const replies: [string, Reply][] = [
      ["check_inventory", await m.call("check_inventory", { items: [{ sku: long, quantity: 1 }] })],
      ["get_order", await m.call("get_order", { orderId: long }, bearer(m.tokens.customer))],
      ["verify_token", await m.call("verify_token", { token: long })],
      ["get_order", await m.call("get_order", { orderId: "o-1" }, { Authorization: `Bearer ${long.slice(0, 30_000)}` })],
      [
        "create_order",
        await m.call(
          "create_order",
          { items: [{ sku: "a", quantity: 1 }], paymentMethod: "pm_card_visa" },
          { ...bearer(m.tokens.customer), "Idempotency-Key": long.slice(0, 30_000) },
        ),
      ],
    ];
    for (const [fn, reply] of replies) {
      assert.ok(reply.code !== undefined && reply.code >= 400 && reply.code < 500, `${fn}: ${reply.code}`);
      assertNoEcho(reply, "y", await lastError(m, fn));
    }
  });

  void it("cuts a long name deep in the body and keeps the path short", async () => {
    const name = "z".repeat(5_000);
    const reply = await m.call("check_inventory", { items: [{ sku: "a", quantity: 1, [name]: 1 }] });
    assert.equal(reply.code, 400);
    const detail = (reply.body as { error: { details: { path: string }[] } }).error.details[0];
    assert.equal(detail?.path, `/items/0/${"z".repeat(63)}…`);
    assertNoEcho(reply, "z", await lastError(m, "check_inventory"));
  });
});

void describe("errors of process_payment carry no amounts or payment methods", () => {
  const hooks = new Cleanup();
  let m: Marketplace;
  after(() => hooks.run());
  before(async () => {
    m = await startMarketplace(hooks);
  });

  void it("a different repeat of a charge gets 422 that names neither the stored amount nor the method", async () => {
    const orderId = randomUUID();
    const paid = await m.call("process_payment", { orderId, amountCents: 13480, currency: "EUR", method: "pm_card_amex" });
    assert.equal(paid.code, undefined, paid.errorHeader);
    const probe = await m.call("process_payment", { orderId, amountCents: 1, currency: "EUR", method: "pm_card_visa" });
    assert.equal(probe.code, 422);
    const text = `${probe.msg.string()} ${probe.errorHeader ?? ""} ${await lastError(m, "process_payment")}`;
    assert.doesNotMatch(text, /13480|134\.80|amex|pm_card/);
  });

  void it("a declined charge gets 402 that does not name the method", async () => {
    const reply = await m.call("process_payment", {
      orderId: randomUUID(),
      amountCents: 990,
      currency: "EUR",
      method: "pm_card_chargeDeclined",
    });
    assert.equal(reply.code, 402);
    assert.doesNotMatch(`${reply.msg.string()} ${reply.errorHeader ?? ""}`, /pm_card|990/);
  });
});
