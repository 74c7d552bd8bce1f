/**
 * The gateway as an edge, attacked as a hostile web page or a stranger on the bus would: internal
 * functions and foreign services are not served, cross-site requests are refused with no effect,
 * a rebound Host is refused, the API reference never reflects the Host, and every page carries the
 * security headers.
 */
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { after, before, describe, test } from "node:test";
import { Svcm } from "@nats-io/services";
import { Cleanup, natsClient } from "../helpers/nats.ts";
import { startBareService } from "../fixtures/bare-service.ts";
import { type Marketplace, startMarketplace } from "../fixtures/marketplace.ts";
import { type Gateway, startGateway } from "../../gateway/server.ts";

const cleanup = new Cleanup();
let market: Marketplace;
let gw: Gateway;
const SKU = "EDGE-OIL";
const INTERNAL = ["reserve_stock", "release_stock", "commit_stock", "process_payment"];

interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** An HTTP request with exactly these headers (Host and Origin included, which fetch would not let us set). */
function raw(url: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<RawReply> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: target.hostname, port: target.port, method, path, headers, setHost: !("host" in headers) }, (res) => {
      let text = "";
      res.on("data", (d: Buffer) => (text += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.once("error", reject);
    req.end(body);
  });
}

const reserveBody = JSON.stringify({ orderId: "hoard-1", ttlSeconds: 86400, items: [{ sku: SKU, quantity: 80 }] });

async function paths(g: Gateway, headers: Record<string, string> = {}): Promise<{ doc: Record<string, unknown>; paths: string[] }> {
  const res = await raw(g.url, "GET", "/openapi.json", headers);
  assert.equal(res.status, 200, res.body);
  const doc = JSON.parse(res.body) as Record<string, unknown>;
  return { doc, paths: Object.keys(doc.paths as Record<string, unknown>) };
}

describe("gateway edge", () => {
  before(async () => {
    market = await startMarketplace(cleanup);
    await market.seed([{ sku: SKU, priceCents: 900, onHand: 100 }]);
    const nc = await natsClient(cleanup, market.server);
    // Strangers on the bus: a bare ADR-32 service, and one that claims to be public without being of this runtime.
    const bare = await startBareService(nc);
    cleanup.after(() => bare.stop());
    const impostor = await new Svcm(nc).add({ name: "impostor", version: "1.0.0" });
    impostor.addEndpoint("impostor", { subject: "fn.impostor", metadata: { visibility: "public" }, handler: (_e, m) => m.respond("{}") });
    cleanup.after(() => impostor.stop());
    gw = await startGateway({ nc: await natsClient(cleanup, market.server), port: 0, dashboardMs: 60_000 });
    cleanup.after(() => gw.close());
  });
  after(() => cleanup.run());

  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    raw(gw.url, "POST", path, { "content-type": "application/json", ...headers }, body);

  test("an internal function is 404 and absent from /openapi.json, and holds no stock", async () => {
    for (const fn of INTERNAL) {
      const res = await post(`/fn/${fn}`, reserveBody);
      assert.equal(res.status, 404, fn);
      assert.equal((JSON.parse(res.body) as { error: { type: string } }).error.type, "NOT_FOUND");
    }
    const { paths: listed } = await paths(gw);
    for (const fn of INTERNAL) assert.ok(!listed.includes(`/fn/${fn}`), `${fn} is listed`);
    assert.ok(listed.includes("/fn/check_inventory"));
    assert.deepEqual(await market.stock(SKU), { onHand: 100, reserved: 0, sold: 0 });
  });

  test("a foreign ADR-32 service on the bus is not served, even one that claims to be public", async () => {
    const { paths: listed } = await paths(gw);
    for (const name of ["bare_echo", "impostor"]) {
      assert.ok(!listed.includes(`/fn/${name}`), name);
      assert.equal((await post(`/fn/${name}`, "{}")).status, 404, name);
    }
  });

  test("a cross-site text/plain POST (what a no-cors fetch sends) gets 415 and changes nothing", async () => {
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) {
      const res = await raw(
        gw.url,
        "POST",
        "/fn/put_product",
        {
          "content-type": type,
          authorization: `Bearer ${market.tokens.admin}`,
        },
        JSON.stringify({ sku: SKU, name: "hijacked", priceCents: 1, onHand: 0 }),
      );
      assert.equal(res.status, 415, type);
      assert.equal((JSON.parse(res.body) as { error: { type: string } }).error.type, "UNSUPPORTED_MEDIA_TYPE");
    }
    const noType = await raw(gw.url, "POST", "/fn/check_inventory", {}, "{}");
    assert.equal(noType.status, 415);
    assert.deepEqual(await market.stock(SKU), { onHand: 100, reserved: 0, sold: 0 });
  });

  test("a foreign Origin gets 403 and changes nothing; the gateway's own origin passes", async () => {
    const put = JSON.stringify({ sku: SKU, name: "hijacked", priceCents: 1, onHand: 0 });
    for (const origin of ["https://evil.example", "null", `http://127.0.0.1.evil.example:${gw.port}`]) {
      const res = await post("/fn/put_product", put, { origin, authorization: `Bearer ${market.tokens.admin}` });
      assert.equal(res.status, 403, origin);
      assert.equal((JSON.parse(res.body) as { error: { type: string } }).error.type, "FORBIDDEN");
    }
    assert.deepEqual(await market.stock(SKU), { onHand: 100, reserved: 0, sold: 0 });
    const own = await post("/fn/check_inventory", JSON.stringify({ items: [{ sku: SKU, quantity: 1 }] }), { origin: gw.url });
    assert.equal(own.status, 200, own.body);
  });

  test("origins in the configured list pass, others do not", async () => {
    const g = await startGateway({ nc: market.nc, port: 0, dashboardMs: 60_000, origins: ["https://shop.example"] });
    cleanup.after(() => g.close());
    const body = JSON.stringify({ items: [{ sku: SKU, quantity: 1 }] });
    const ok = await raw(
      g.url,
      "POST",
      "/fn/check_inventory",
      { "content-type": "application/json", origin: "https://shop.example" },
      body,
    );
    assert.equal(ok.status, 200, ok.body);
    assert.equal(ok.headers["access-control-allow-origin"], "https://shop.example");
    assert.equal(ok.headers["x-frame-options"], "DENY", "the security headers are there once, with the CORS ones");
    const preflight = await raw(g.url, "OPTIONS", "/fn/check_inventory", {
      origin: "https://shop.example",
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type, authorization",
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers["x-content-type-options"], "nosniff");
    assert.equal(preflight.headers["access-control-allow-origin"], "https://shop.example");
    assert.match(String(preflight.headers["access-control-allow-headers"]), /content-type, authorization/);
    const other = await raw(
      g.url,
      "POST",
      "/fn/check_inventory",
      { "content-type": "application/json", origin: "https://shop.example.evil" },
      body,
    );
    assert.equal(other.status, 403);
    assert.equal(other.headers["access-control-allow-origin"], undefined);
  });

  test("on a loopback bind a foreign Host (DNS rebinding) is refused on every route; loopback names pass", async () => {
    for (const host of ["evil.example", `evil.example:${gw.port}`, "attacker.localhost.evil"]) {
      for (const [method, path] of [
        ["GET", "/"],
        ["GET", "/dashboard/snapshot"],
        ["GET", "/openapi.json"],
        ["POST", "/fn/check_inventory"],
      ] as const) {
        const res = await raw(gw.url, method, path, { host, "content-type": "application/json" }, method === "POST" ? "{}" : undefined);
        assert.equal(res.status, 403, `${host} ${path}`);
      }
    }
    for (const host of [`localhost:${gw.port}`, `127.0.0.1:${gw.port}`, `[::1]:${gw.port}`]) {
      assert.equal((await raw(gw.url, "GET", "/healthz", { host })).status, 200, host);
    }
  });

  test("/openapi.json names the gateway's configured URL, never the request's Host", async () => {
    const served = await paths(gw, { host: `localhost:${gw.port}` });
    assert.deepEqual(served.doc.servers, [{ url: gw.url }]);
    const g = await startGateway({ nc: market.nc, port: 0, dashboardMs: 60_000, publicUrl: "https://api.shop.example/" });
    cleanup.after(() => g.close());
    const doc = (await paths(g, { host: `localhost:${g.port}` })).doc;
    assert.deepEqual(doc.servers, [{ url: "https://api.shop.example" }]);
    assert.ok(!JSON.stringify(doc).includes("localhost"));
  });

  test("every page carries the security headers, refusals and errors included", async () => {
    const cases: [string, string, Record<string, string>, string?][] = [
      ["GET", "/", {}],
      ["GET", "/docs", {}],
      ["GET", "/assets/dashboard.js", {}],
      ["GET", "/openapi.json", {}],
      ["GET", "/metrics", {}],
      ["GET", "/nope", {}],
      ["POST", "/fn/check_inventory", { "content-type": "application/json" }, JSON.stringify({ items: [{ sku: SKU, quantity: 1 }] })],
      ["POST", "/fn/check_inventory", { "content-type": "text/plain" }, "{}"],
      ["GET", "/fn/check_inventory", {}],
      ["POST", "/fn/no_such_function", { "content-type": "application/json" }, "{}"],
      ["POST", "/fn/check_inventory", { "content-type": "application/json" }, "{not json"],
      ["POST", "/fn/check_inventory", { "content-type": "application/json" }, "x".repeat(70_000)],
      ["GET", "/", { origin: "https://evil.example" }],
      ["GET", "/", { host: "evil.example" }],
    ];
    for (const [method, path, headers, body] of cases) {
      const res = await raw(gw.url, method, path, headers, body);
      const what = `${method} ${path} ${JSON.stringify(headers)} → ${res.status}`;
      assert.match(String(res.headers["content-security-policy"]), /frame-ancestors 'none'/, what);
      assert.match(String(res.headers["content-security-policy"]), /script-src 'self'/, what);
      assert.equal(res.headers["x-content-type-options"], "nosniff", what);
      assert.equal(res.headers["referrer-policy"], "no-referrer", what);
      assert.equal(res.headers["x-frame-options"], "DENY", what);
    }
  });

  test("/metrics exports the gateway's event-loop delay", async () => {
    const res = await raw(gw.url, "GET", "/metrics", {});
    assert.match(res.body, /nfn_gateway_event_loop_delay_seconds\{quantile="0.99"\} \d/);
  });
});
