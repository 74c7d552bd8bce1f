/**
 * The live dashboard in a real browser: headless Chromium from Debian's `chromium` package, driven
 * by playwright-core (never a browser download), against a running system (nats-server, fixture
 * functions, gateway). Saves a screenshot to test-results/dashboard.png, or to docs/dashboard.png
 * (the README's picture) when UPDATE_SCREENSHOTS=1.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type BrowserContext, type Page, chromium } from "playwright-core";
import { type GatewaySystem, gatewaySystem } from "../fixtures/gateway-system.ts";
import { eventually } from "../helpers/nats.ts";
import { gwEcho } from "../fixtures/gateway-functions.ts";
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
// Tests never change tracked files unless asked to: the README picture is refreshed on purpose.
const SCREENSHOT = new URL(
  process.env.UPDATE_SCREENSHOTS === "1" ? "../../docs/dashboard.png" : "../../test-results/dashboard.png",
  import.meta.url,
);
const skip =
  !existsSync(CHROMIUM) && process.env.CI !== "true" ? `${CHROMIUM} not found: apt-get install -y chromium (required when CI=true)` : false;

let sys: GatewaySystem;
let canary: Host;
let browser: BrowserContext;
let page: Page;
let profile: string;

/** The text of one cell of a function's row (by column class). */
const cell = (fn: string, column: string) => page.locator(`tr.function[data-fn="${fn}"] td.${column}`).innerText();

describe("dashboard in headless Chromium", { skip }, () => {
  before(async () => {
    sys = await gatewaySystem({ dashboardMs: 250 });
    // A second instance of gw_echo at another version: the dashboard must flag the skew.
    const config = { ...configFromEnv({ NATS_URL: sys.server.url }), logLevel: "silent" as const };
    canary = await startHost([defineFunction({ ...gwEcho, version: "1.1.0" })], { nc: sys.nc, config, log: createLogger({}, "silent") });
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

  test("live numbers, events and saga outcomes change after traffic", async () => {
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
      for (const outcome of ["confirmed", "confirmed", "out_of_stock", "payment_declined"] as const) {
        assert.equal((await sys.post("gw_order", { orderId: `o-${outcome}-${Math.random()}`, outcome })).status, 200);
      }
      await eventually(
        async () => Number(await cell("gw_echo", "requests")) >= before + 10,
        15_000,
        "the request count to grow on the page",
      );
      await eventually(async () => Number(await cell("gw_echo", "rps")) > 0, 15_000, "req/s above 0 on the page");
      await page.locator("#events td", { hasText: "order.cancelled" }).first().waitFor({ timeout: 15_000 });
      await page.locator("#sagas", { hasText: "payment_declined" }).waitFor({ timeout: 15_000 });
      assert.match(await page.locator("#saga-confirmed").innerText(), /confirmed 2/);
      assert.match(await page.locator("#sagas").innerText(), /out_of_stock 1/);
      assert.match(await page.locator('tr.function[data-fn="gw_fail"]').innerText(), /409:failed on purpose/);
      mkdirSync(new URL(".", SCREENSHOT), { recursive: true });
      await page.screenshot({ path: SCREENSHOT.pathname, fullPage: true });
    } finally {
      sending = false;
      await traffic;
    }
    assert.ok(existsSync(SCREENSHOT), "screenshot saved");
  });

  test("the API reference at /docs renders an example request per function", async () => {
    await page.goto(`${sys.gateway.url}/docs`);
    await page.locator("section#gw_echo pre").first().waitFor({ timeout: 10_000 });
    assert.match(
      await page.locator("section#gw_echo pre").first().innerText(),
      /curl -sS -X POST http:\/\/127\.0\.0\.1:\d+\/fn\/gw_echo[\s\S]*"text":"hello"/,
    );
    assert.equal(await page.locator("main section").count(), 8);
  });
});
