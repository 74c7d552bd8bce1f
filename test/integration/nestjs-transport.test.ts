/**
 * A real @nestjs/microservices NATS client against the served marketplace (NFN_NESTJS=1): seed
 * 004's calls (`send('check_inventory', …)`, `send({cmd: 'check_inventory'}, …)` with timeout(5000)
 * and retry(3), `emit('order_created', …)`), contract errors as NestJS RPC errors, auth, STATS,
 * visibility, and the same reply as `nfn invoke`.
 */
import "reflect-metadata";
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ClientNats, NatsRecordBuilder } from "@nestjs/microservices";
import { headers as natsHeaders, Empty } from "@nats-io/nats-core";
import { firstValueFrom, retry, timeout } from "rxjs";
import { runInvoke } from "../../cli/commands/invoke.ts";
import { captureIo } from "../../cli/lib/io.ts";
import { runCore } from "../../cli/lib/program.ts";
import { defineFunction, FunctionError, type DomainEvent } from "../../runtime/index.ts";
import { marketplaceFunctions, readEvents, startMarketplace, type Marketplace } from "../fixtures/marketplace.ts";
import { Cleanup, eventually } from "../helpers/nats.ts";

const hooks = new Cleanup();
const received: DomainEvent[] = [];
let flakyCalls = 0;

/** Fails twice with 503, then answers: what `retry(3)` is for. */
const nestFlaky = defineFunction<Record<string, never>, { attempt: number }>({
  name: "nest_flaky",
  version: "1.0.0",
  description: "Unavailable for its first two calls",
  request: { type: "object", additionalProperties: false, properties: {} },
  response: { type: "object", properties: { attempt: { type: "integer" } }, required: ["attempt"] },
  handler() {
    flakyCalls++;
    if (flakyCalls <= 2) throw new FunctionError(503, "warming up");
    return { attempt: flakyCalls };
  },
});

/** Consumes what NestJS callers emit as `order_created`. */
const nestListener = defineFunction({
  name: "nest_listener",
  version: "1.0.0",
  description: "Records order_created events",
  request: { type: "object" },
  response: { type: "object" },
  endpoint: false,
  nestjs: true,
  trigger: { events: ["order_created"] },
  handler: () => ({}),
  onEvent(event) {
    received.push(event);
  },
});

/** Public, but opted out of NestJS even under NFN_NESTJS=1. */
const nativeOnly = defineFunction({
  name: "native_only",
  version: "1.0.0",
  description: "Answers only its native subject",
  request: { type: "object" },
  response: { type: "object" },
  nestjs: false,
  handler: () => ({ ok: true }),
});

let market: Marketplace;
let client: ClientNats;
const items = [{ sku: "NEST-OIL", quantity: 2 }];

async function statsOf(fn: string): Promise<{ num_requests: number; num_errors: number }> {
  const msg = await market.nc.request(`$SRV.STATS.${fn}`, Empty, { timeout: 2000 });
  const ep = msg.json<{ endpoints: { num_requests: number; num_errors: number }[] }>().endpoints[0];
  assert.ok(ep, `STATS of ${fn} has an endpoint`);
  return ep;
}

describe("NestJS callers served unchanged", () => {
  before(async () => {
    market = await startMarketplace(hooks, {
      env: { NFN_NESTJS: "1" },
      functions: [...marketplaceFunctions, nestFlaky, nestListener, nativeOnly],
    });
    await market.seed([{ sku: "NEST-OIL", priceCents: 1299, onHand: 40 }]);
    client = new ClientNats({ servers: [market.server.url] });
    await client.connect();
    hooks.after(() => client.close());
  });
  after(() => hooks.run());

  it("send('check_inventory') with timeout(5000) and retry(3) gets the same reply as nfn invoke", async () => {
    const nest = await firstValueFrom(client.send("check_inventory", { items }).pipe(timeout(5000), retry(3)));
    const io = captureIo({ env: { NATS_URL: market.server.url } });
    const code = await runCore(() => runInvoke("check_inventory", JSON.stringify({ items }), {}, io), io);
    assert.equal(code, 0, io.err());
    assert.deepEqual(nest, JSON.parse(io.out()));
    assert.deepEqual(nest, {
      available: true,
      items: [{ sku: "NEST-OIL", requested: 2, available: 40, ok: true, priceCents: 1299, currency: "EUR", name: "NEST-OIL" }],
    });
  });

  it("send({cmd: 'check_inventory'}) reaches the same function", async () => {
    const reply = await firstValueFrom(client.send({ cmd: "check_inventory" }, { items }).pipe(timeout(5000), retry(3)));
    assert.deepEqual(reply, await firstValueFrom(client.send("check_inventory", { items })));
  });

  it("a body that fails the schema comes back as an RPC error with code, type, message and JSON Pointer details", async () => {
    // seed 004 sends the bare array of lines; the contract wants {items: [...]}
    const err = await firstValueFrom(client.send("check_inventory", [{ productId: "NEST-OIL", quantity: 2 }]).pipe(timeout(5000))).then(
      () => assert.fail("expected an error"),
      (e: unknown) => e as { code: number; type: string; message: string; details: { path: string }[] },
    );
    assert.equal(err.code, 400);
    assert.equal(err.type, "VALIDATION");
    assert.match(err.message, /check_inventory/);
    assert.ok(Array.isArray(err.details) && err.details.length > 0);
    assert.equal(typeof err.details[0]?.path, "string");
  });

  it("requests count in the function's STATS like native ones, errors included", async () => {
    const before = await statsOf("check_inventory");
    await firstValueFrom(client.send("check_inventory", { items }));
    await firstValueFrom(client.send({ cmd: "check_inventory" }, { items: [] })).catch(() => undefined);
    const now = await statsOf("check_inventory");
    assert.equal(now.num_requests, before.num_requests + 2);
    assert.equal(now.num_errors, before.num_errors + 1);
  });

  it("retry(3) re-sends after an error reply until the function answers", async () => {
    const reply = await firstValueFrom(client.send("nest_flaky", {}).pipe(timeout(5000), retry(3)));
    assert.deepEqual(reply, { attempt: 3 });
    const stats = await statsOf("nest_flaky");
    assert.equal(stats.num_requests, 3);
    assert.equal(stats.num_errors, 2);
  });

  it("auth is the native one: no token gets 401, a token in the NATS headers places the order", async () => {
    const order = { items: [{ sku: "NEST-OIL", quantity: 1 }], paymentMethod: "pm_card_visa" };
    await assert.rejects(firstValueFrom(client.send("create_order", order).pipe(timeout(5000))), { code: 401, type: "UNAUTHORIZED" });
    const h = natsHeaders();
    h.set("Authorization", `Bearer ${market.tokens.customer}`);
    const placed = (await firstValueFrom(
      client.send("create_order", new NatsRecordBuilder(order).setHeaders(h).build()).pipe(timeout(10_000)),
    )) as { status: string; customerId: string };
    assert.equal(placed.status, "confirmed");
    assert.equal(placed.customerId, "customer-1");
  });

  it("a body over the function's limit gets 413 before anything else", async () => {
    const big = { items: [{ sku: "x".repeat(70_000), quantity: 1 }] };
    await assert.rejects(firstValueFrom(client.send("check_inventory", big).pipe(timeout(5000))), { code: 413, type: "PAYLOAD_TOO_LARGE" });
  });

  it("answers raw NATS requests on the NestJS subject without echoing a hostile packet id", async () => {
    const ask = async (body: string) =>
      (await market.nc.request("check_inventory", body, { timeout: 5000 })).json<Record<string, unknown>>();
    const ok = await ask(JSON.stringify({ pattern: "check_inventory", data: { items }, id: "abc-1" }));
    assert.equal(ok.id, "abc-1");
    assert.equal(ok.isDisposed, true);
    assert.equal((ok.response as { available: boolean }).available, true);
    // An id that is long or carries markup is not sent back; NestJS matches the reply by its inbox anyway.
    const hostile = await ask(JSON.stringify({ pattern: "check_inventory", data: { items }, id: `<x>${"y".repeat(500)}` }));
    assert.equal("id" in hostile, false);
    assert.ok(!JSON.stringify(hostile).includes("yyyy"));
    // Not JSON at all: the native 400, in the envelope.
    const bad = await ask("{not json");
    assert.deepEqual(Object.keys(bad).sort(), ["err", "isDisposed"]);
    assert.equal((bad.err as { code: number; type: string }).code, 400);
    // A packet whose data carries a prototype key is refused like a native body.
    const poisoned = await ask('{"pattern":"check_inventory","id":"p1","data":{"__proto__":{"x":1},"items":[]}}');
    assert.equal((poisoned.err as { code: number }).code, 400);
  });

  it("a NestJS-subject request whose reply subject is not an inbox runs nothing and gets no reply", async () => {
    const before = await statsOf("put_product");
    const stockBefore = await market.stock("NEST-OIL");
    const sink = market.nc.subscribe("evil.reply");
    const packet = JSON.stringify({
      pattern: "put_product",
      id: "r1",
      data: { sku: "NEST-OIL", name: "hijacked", priceCents: 1, onHand: 0 },
    });
    const h = natsHeaders();
    h.set("Authorization", `Bearer ${market.tokens.admin}`);
    market.nc.publish("put_product", packet, { reply: "evil.reply", headers: h });
    const refused = await eventually(
      async () => {
        const msg = await market.nc.request("$SRV.STATS.put_product", Empty, { timeout: 2000 });
        const ep = msg.json<{ endpoints: { data: { rejected_reply_subject?: number } }[] }>().endpoints[0];
        return (ep?.data.rejected_reply_subject ?? 0) > 0 && ep;
      },
      10_000,
      "the refused reply in STATS",
    );
    assert.ok(refused);
    sink.unsubscribe();
    assert.equal(sink.getProcessed(), 0, "nothing was published to the reply subject");
    assert.equal((await statsOf("put_product")).num_requests, before.num_requests, "the handler never ran");
    assert.deepEqual(await market.stock("NEST-OIL"), stockBefore);
  });

  it("internal functions and opted-out ones answer no NestJS subject", async () => {
    for (const subject of ["reserve_stock", '{"cmd":"reserve_stock"}', "process_payment", "native_only", '{"cmd":"native_only"}']) {
      const packet = JSON.stringify({ pattern: subject, data: { orderId: "nest-hoard" }, id: "1" });
      await assert.rejects(
        market.nc.request(subject, packet, { timeout: 2000 }),
        (e: Error) => /no responders/i.test(String(e.message) + String(e.cause)),
        subject,
      );
    }
    assert.deepEqual(await market.stock("NEST-OIL").then((s) => s.reserved), 0);
  });

  it("emit('order.confirmed') is not stored by NFN_NESTJS=1 alone: system facts cannot be forged", async () => {
    // notify_customer is public and triggered by order.confirmed, but does not say nestjs: true.
    await firstValueFrom(client.emit("order.confirmed", { orderId: "forged-1" }));
    await firstValueFrom(client.emit("order_created", { orderId: "nest-after-forged" }));
    // The bridge works (the second emit is stored), and nothing stored the first one.
    await eventually(() => received.some((e) => e.aggregateId === "nest-after-forged"), 10_000, "the second emit");
    const forged = await readEvents(market.nc, "events.order.confirmed", (e) => e.aggregateId === "forged-1");
    assert.deepEqual(forged, []);
  });

  it("emit('order_created') lands on EVENTS as a domain event that a trigger consumes", async () => {
    await firstValueFrom(client.emit("order_created", { orderId: "nest-o-1", items }));
    const event = await eventually(() => received.find((e) => e.aggregateId === "nest-o-1"), 10_000, "the trigger to get the emit");
    assert.equal(event.eventType, "order_created");
    assert.deepEqual(event.eventData, { orderId: "nest-o-1", items });
    assert.equal(event.metadata.source, "nestjs");
    assert.equal(typeof event.metadata.correlationId, "string");
  });
});
