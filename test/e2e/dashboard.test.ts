/**
 * The live dashboard in a real browser: headless Chromium from Debian's `chromium` package, driven
 * by playwright-core (never a browser download), against a running system (nats-server, fixture
 * functions, gateway). Saves screenshots to test-results/, or to docs/ (the README's pictures:
 * dashboard.png, dashboard-invoke.png, dashboard-trace.png) when UPDATE_SCREENSHOTS=1.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type BrowserContext, type Page, chromium } from "playwright-core";
import { type GatewaySystem, gatewaySystem } from "../fixtures/gateway-system.ts";
import { type DashboardExtras, dashboardExtras } from "../fixtures/dashboard-system.ts";
import { eventually } from "../helpers/nats.ts";
import { gwEcho } from "../fixtures/gateway-functions.ts";
import { marketplaceFunctions } from "../fixtures/marketplace-functions.ts";
import { mintToken } from "../helpers/tokens.ts";
import { defineFunction } from "../../runtime/index.ts";
import { type Host, startHost } from "../../runtime/host.ts";
import { configFromEnv } from "../../runtime/config.ts";
import { createLogger } from "../../runtime/logger.ts";

const CHROMIUM = "/usr/bin/chromium";
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
// Tests never change tracked files unless asked to: the README pictures are refreshed on purpose.
const shot = (file: string) =>
  new URL(process.env.UPDATE_SCREENSHOTS === "1" ? `../../docs/${file}` : `../../test-results/${file}`, import.meta.url);
const SCREENSHOT = shot("dashboard.png");
const skip =
  !existsSync(CHROMIUM) && process.env.CI !== "true" ? `${CHROMIUM} not found: apt-get install -y chromium (required when CI=true)` : false;

let sys: GatewaySystem;
let extras: DashboardExtras;
let canary: Host;
let market: Host;
let browser: BrowserContext;
let page: Page;
let profile: string;

/** A checkout as a saga would run it: an event, a nested call chain that emits one, and a last event. */
const gwCheckout = defineFunction<{ orderId: string }, { orderId: string }>({
  name: "gw_checkout",
  version: "1.0.0",
  description: "Emits order.created, calls gw_chain_b (which confirms through gw_order), emits payment.succeeded",
  request: {
    type: "object",
    additionalProperties: false,
    required: ["orderId"],
    properties: { orderId: { type: "string", minLength: 1, examples: ["ord-1001"] } },
  },
  response: { type: "object" },
  calls: ["gw_chain_b"],
  emits: ["order.created", "payment.succeeded"],
  async handler(input, ctx) {
    await ctx.emit("order.created", input.orderId, { status: "pending" });
    await ctx.call("gw_chain_b", { orderId: input.orderId });
    await ctx.emit("payment.succeeded", input.orderId, { amountCents: 2598 });
    return { orderId: input.orderId };
  },
});

/** The text of one cell of a function's row (by column class). */
const cell = (fn: string, column: string) => page.locator(`tr.function[data-fn="${fn}"] td.${column}`).innerText();

describe("dashboard in headless Chromium", { skip }, () => {
  before(async () => {
    sys = await gatewaySystem({ dashboardMs: 250 });
    // A second instance of gw_echo at another version: the dashboard must flag the skew.
    const config = { ...configFromEnv({ NATS_URL: sys.server.url }), logLevel: "silent" as const };
    canary = await startHost([defineFunction({ ...gwEcho, version: "1.1.0" }), gwCheckout], {
      nc: sys.nc,
      config,
      log: createLogger({}, "silent"),
    });
    extras = await dashboardExtras(sys);
    // The marketplace too (verify_token already runs in extras), for a real saga's trace.
    market = await startHost(
      marketplaceFunctions.filter((f) => f.name !== "verify_token"),
      { nc: sys.nc, config, log: createLogger({}, "silent") },
    );
    await sys.gateway.discovery.refresh();
    profile = mkdtempSync(join(tmpdir(), "nfn-chromium-"));
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ARGS,
      viewport: { width: 1400, height: 900 },
    });
    page = browser.pages()[0] ?? (await browser.newPage());
  });
  after(async () => {
    await browser?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
    await canary?.stop(1000);
    await market?.stop(1000);
    await extras?.host.stop(1000);
    await sys?.stop();
  });

  test("lists every function with its instances and flags version skew", async () => {
    await page.goto(`${sys.gateway.url}/`);
    await page.locator('tr.function[data-fn="gw_echo"]').waitFor({ timeout: 15_000 });
    for (const fn of ["gw_echo", "gw_fail", "gw_order", "gw_busy"])
      assert.equal(await page.locator(`tr.function[data-fn="${fn}"]`).count(), 1, fn);
    await page.locator('tr.function[data-fn="gw_echo"] .skew').first().waitFor({ timeout: 10_000 });
    assert.match(await page.locator('tr.function[data-fn="gw_echo"]').innerText(), /1\.0\.0, 1\.1\.0/);
    assert.match(await page.locator("#status").innerText(), /live/);
  });

  test("without a token, ids and error texts stay hidden; an nfn:admin token shows them", async () => {
    await sys.post("gw_fail", { code: 409 });
    await sys.post("gw_order", { orderId: "ord-hidden-1", outcome: "confirmed" });
    assert.match(await page.locator("#viewer").innerText(), /public view/);
    await page.locator('tr.function[data-fn="gw_fail"] .clip', { hasText: "409" }).waitFor({ timeout: 15_000 });
    await page.locator("#events td", { hasText: "order.confirmed" }).first().waitFor({ timeout: 15_000 });
    assert.doesNotMatch(await page.locator("main").innerText(), /failed on purpose|ord-hidden-1/);
    await page.locator("#token-input").fill(extras.tokens.admin);
    await page.locator("#token-form button[type=submit]").click();
    await page.locator("#viewer", { hasText: "admin" }).waitFor({ timeout: 15_000 });
    await page.locator('tr.function[data-fn="gw_fail"]', { hasText: "409:failed on purpose" }).waitFor({ timeout: 15_000 });
    await page.locator("#events code", { hasText: "ord-hidden-1" }).first().waitFor({ timeout: 15_000 });
  });

  test("live numbers, latency charts, events and saga outcomes change after traffic", async () => {
    const before = Number(await cell("gw_echo", "requests"));
    let sending = true;
    // Steady traffic while the page is checked, so req/s is above zero when it is read.
    const traffic = (async () => {
      for (let i = 0; sending; i++) {
        await sys.post("gw_echo", { text: `hello ${i}` });
        if (i % 5 === 0) await sys.post("gw_fail", { code: 409 });
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    try {
      for (const outcome of ["confirmed", "out_of_stock", "payment_declined"] as const) {
        assert.equal((await sys.post("gw_order", { orderId: `o-${outcome}-${Math.random()}`, outcome })).status, 200);
      }
      await eventually(
        async () => Number(await cell("gw_echo", "requests")) >= before + 10,
        15_000,
        "the request count to grow on the page",
      );
      await eventually(async () => Number(await cell("gw_echo", "rps")) > 0, 15_000, "req/s above 0 on the page");
      await page.locator('tr.function[data-fn="gw_echo"] svg.chart path.p50').waitFor({ timeout: 15_000 });
      await page.locator("#events td", { hasText: "order.cancelled" }).first().waitFor({ timeout: 15_000 });
      await page.locator("#sagas", { hasText: "payment_declined" }).waitFor({ timeout: 15_000 });
      assert.match(await page.locator("#saga-confirmed").innerText(), /confirmed 2/);
      assert.match(await page.locator("#sagas").innerText(), /out_of_stock 1/);
      assert.match(await page.locator('tr.function[data-fn="gw_fail"]').innerText(), /409:failed on purpose/);
      await page.locator("#requests td", { hasText: "gw_echo" }).first().waitFor({ timeout: 15_000 });
    } finally {
      sending = false;
      await traffic;
    }
  });

  test("invokes a function from the form generated from its schema and shows the error details", async () => {
    await page.locator('#fn-tabs .tab[data-fn="gw_echo"]').click();
    // Prefilled with the schema's example, which is valid: the reply is a 200.
    assert.equal(await page.locator('[id="field-text"]').inputValue(), "hello");
    await page.locator("#invoke-send").click();
    await page.locator("#reply-status", { hasText: "200" }).waitFor({ timeout: 10_000 });
    assert.match(await page.locator("#reply-body").innerText(), /"text": "hello"/);
    // An empty text breaks minLength: the 400 comes back with its JSON Pointer detail.
    await page.locator('[id="field-text"]').fill("");
    await page.locator("#invoke-send").click();
    await page.locator("#reply-status", { hasText: "400" }).waitFor({ timeout: 10_000 });
    assert.match(await page.locator("#reply-error").innerText(), /400 VALIDATION/);
    assert.match(await page.locator("table.details").innerText(), /\/text/);
    // The checkout's form, filled from its example, places the operation whose trace comes next.
    await page.locator('#fn-tabs .tab[data-fn="gw_checkout"]').click();
    assert.equal(await page.locator('[id="field-orderId"]').inputValue(), "ord-1001");
    await page.locator("#invoke-send").click();
    await page.locator("#reply-status", { hasText: "200" }).waitFor({ timeout: 10_000 });
    // The picture: a form with a text field and an enum, and a refused request with its details.
    await page.locator('#fn-tabs .tab[data-fn="gw_order"]').click();
    assert.equal(await page.locator('[id="field-outcome"]').inputValue(), '"confirmed"');
    await page.locator('[id="field-orderId"]').fill("");
    await page.locator("#invoke-send").click();
    await page.locator("#reply-status", { hasText: "400" }).waitFor({ timeout: 10_000 });
    assert.match(await page.locator("table.details").innerText(), /\/orderId/);
    await page.locator("#invoke-chart svg.chart path.p99").waitFor({ timeout: 10_000 });
    const file = shot("dashboard-invoke.png");
    mkdirSync(new URL(".", file), { recursive: true });
    await page.locator("#invoke").screenshot({ path: file.pathname });
  });

  test("shows the trace of the invoked operation: its request and every event, in order, with durations", async () => {
    await page.locator("#requests tr", { hasText: "gw_checkout" }).locator("button[data-trace]").first().click();
    await eventually(async () => (await page.locator("#trace-view tr.step").count()) >= 4, 15_000, "four trace steps");
    const steps = await page.locator("#trace-view tr.step").allInnerTexts();
    assert.match(steps[0] ?? "", /request[\s\S]*POST \/fn\/gw_checkout[\s\S]*200[\s\S]*ms/i);
    const at = (re: RegExp) => steps.findIndex((t) => re.test(t));
    const created = at(/event[\s\S]*order\.created[\s\S]*gw_checkout[\s\S]*ord-1001/i);
    const confirmed = at(/order\.confirmed[\s\S]*gw_order/);
    const paid = at(/payment\.succeeded[\s\S]*gw_checkout/);
    assert.ok(created > 0 && confirmed > created && paid > confirmed, `in order: ${steps.join(" | ")}`);
  });

  test("a create_order saga invoked from its form with a customer token is traced step by step", async () => {
    const seller = await mintToken({ sub: "seller-1", scope: "inventory:admin" });
    const customer = await mintToken({ sub: "customer-1", scope: "orders:write" });
    const seeded = await sys.post(
      "put_product",
      { sku: "AOVE-PICUAL-500ML", name: "Picual olive oil 500 ml", priceCents: 1299, onHand: 50 },
      { Authorization: `Bearer ${seller}` },
    );
    assert.equal(seeded.status, 200, JSON.stringify(seeded.json));
    await page.locator('#fn-tabs .tab[data-fn="create_order"]').click();
    await page.locator('[id="field-items"]').fill(JSON.stringify([{ sku: "AOVE-PICUAL-500ML", quantity: 2 }]));
    await page.locator('[id="field-paymentMethod"]').fill("pm_card_visa");
    await page.locator("#hdr-auth").fill(customer);
    await page.locator("#invoke-send").click();
    await page.locator("#reply-status", { hasText: "200" }).waitFor({ timeout: 15_000 });
    assert.match(await page.locator("#reply-body").innerText(), /"status": "confirmed"/);
    await page.locator("#reply-trace").click();
    const wanted = ["order.created", "stock.reserved", "payment.succeeded", "stock.committed", "order.confirmed"];
    await eventually(
      async () => {
        const text = await page.locator("#trace-view").innerText();
        return wanted.every((w) => text.includes(w)) || (await page.locator("#trace-form button").click(), false);
      },
      15_000,
      "every saga event in the trace",
    );
    const steps = await page.locator("#trace-view tr.step").allInnerTexts();
    assert.match(steps[0] ?? "", /POST \/fn\/create_order[\s\S]*200/);
    const order = wanted.map((w) => steps.findIndex((s) => s.includes(w)));
    assert.deepEqual(
      [...order].sort((a, b) => a - b),
      order,
      `events in saga order: ${order.join(", ")}`,
    );
    const file = shot("dashboard-trace.png");
    await page.locator("#trace").screenshot({ path: file.pathname });
  });

  test("the trace of a durable invocation shows its journaled steps, with results for an admin", async () => {
    await page.locator('#fn-tabs .tab[data-fn="gw_durable"]').click();
    await page.locator("details.headers summary").click();
    await page.locator("#hdr-idem").fill("e2e-durable-1");
    await page.locator("#invoke-send").click();
    await page.locator("#reply-status", { hasText: "200" }).waitFor({ timeout: 15_000 });
    await page.locator("#reply-trace").click();
    await page.locator("#trace-view tr.run-step").first().waitFor({ timeout: 15_000 });
    const head = await page.locator("#trace-view h3.run-head").first().innerText();
    assert.match(head, /durable invocation e2e-durable-1 of gw_durable[\s\S]*done/);
    const rows = await page.locator("#trace-view tr.run-step").allInnerTexts();
    assert.equal(rows.length, 3, rows.join(" | "));
    assert.match(rows[0] ?? "", /quote[\s\S]*step[\s\S]*done[\s\S]*ms[\s\S]*1[\s\S]*journal-secret-9931/);
    assert.match(rows[1] ?? "", /sleep[\s\S]*sleep[\s\S]*done/);
    assert.match(rows[2] ?? "", /confirm[\s\S]*done/);
  });

  test("lists parked events and replays one to its consumer", async () => {
    // Two cancelled orders so far, each failed gw_parker twice and was parked.
    await eventually(
      async () => {
        await page.locator("#dlq-refresh").click();
        return (await page.locator("#dlq-body tr[data-seq]").count()) >= 2;
      },
      20_000,
      "two dead letters on the page",
    );
    assert.match(await page.locator("#dlq-body").innerText(), /gw_parker[\s\S]*order\.cancelled[\s\S]*provider is down/);
    extras.heal();
    await page.locator("#dlq-body button.replay").first().click();
    await page.locator("#dlq-note", { hasText: "replayed" }).waitFor({ timeout: 10_000 });
    await eventually(() => extras.handled.length === 1, 15_000, "gw_parker to get the replayed event");
    await eventually(async () => (await page.locator("#dlq-body tr[data-seq]").count()) === 1, 10_000, "one letter left");
    mkdirSync(new URL(".", SCREENSHOT), { recursive: true });
    await page.screenshot({ path: SCREENSHOT.pathname, fullPage: true });
    assert.ok(existsSync(SCREENSHOT), "screenshot saved");
  });

  test("the API reference at /docs renders an example request per function", async () => {
    await page.goto(`${sys.gateway.url}/docs`);
    await page.locator("section#gw_echo pre").first().waitFor({ timeout: 10_000 });
    assert.match(
      await page.locator("section#gw_echo pre").first().innerText(),
      /curl -sS -X POST http:\/\/127\.0\.0\.1:\d+\/fn\/gw_echo[\s\S]*"text":"hello"/,
    );
    // one section per public function
    const openapi = (await (await fetch(`${sys.gateway.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    assert.equal(await page.locator("main section").count(), Object.keys(openapi.paths).length);
  });
});
