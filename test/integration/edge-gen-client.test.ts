/** `nfn gen client` against a served marketplace: the module compiles, calls for real, and a wrong field is a compile error. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Cleanup } from "../helpers/nats.ts";
import { runNfn } from "../helpers/cli.ts";
import { type Marketplace, startMarketplace } from "../fixtures/marketplace.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const TSC = join(ROOT, "node_modules/typescript/bin/tsc");
// Inside the package (under the ignored .nfn/), so `nats-functions/client` resolves by self-reference as in an application.
const TSC_FLAGS = [
  "--noEmit",
  "--strict",
  "--target",
  "es2022",
  "--module",
  "nodenext",
  "--moduleResolution",
  "nodenext",
  "--allowImportingTsExtensions",
  "--skipLibCheck",
  "--types",
  "node",
];

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, out }));
  });
}

const cleanup = new Cleanup();
let market: Marketplace;
let dir: string;
let module: string;

describe("nfn gen client", () => {
  before(async () => {
    market = await startMarketplace(cleanup);
    await market.seed([{ sku: "GEN-OIL", priceCents: 1250, onHand: 7 }]);
    mkdirSync(join(ROOT, ".nfn"), { recursive: true });
    dir = mkdtempSync(join(ROOT, ".nfn", "gen-client-"));
    cleanup.after(() => rmSync(dir, { recursive: true, force: true }));
    const gen = await runNfn(["gen", "client", "--out", join(dir, "client.ts"), "-s", market.server.url], { cwd: ROOT });
    assert.equal(gen.code, 0, gen.stderr);
    module = readFileSync(join(dir, "client.ts"), "utf8");
  });
  after(() => cleanup.run());

  test("writes one typed function per public function and none for internal ones", () => {
    for (const fn of ["checkInventory", "createOrder", "getOrder", "putProduct", "verifyToken"]) {
      assert.match(module, new RegExp(`export function ${fn}\\(`), fn);
    }
    for (const fn of ["reserveStock", "releaseStock", "commitStock", "processPayment"]) assert.doesNotMatch(module, new RegExp(fn), fn);
    assert.match(module, /export type ErrorCode = (\d{3} \| )*400 \| 401 \|/);
  });

  test("refuses to write a client for an internal function, and names only the functions asked for", async () => {
    const internal = await runNfn(["gen", "client", "reserve_stock", "--out", "-", "-s", market.server.url], { cwd: ROOT });
    assert.equal(internal.code, 2, internal.stderr);
    assert.match(internal.stderr, /not public functions of this runtime: reserve_stock/);
    const one = await runNfn(["gen", "client", "check_inventory", "--out", "-", "-s", market.server.url], { cwd: ROOT });
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /export function checkInventory\(/);
    assert.doesNotMatch(one.stdout, /createOrder/);
  });

  test("compiles with tsc and calls the function for real, decoding the reply and the error with its code", async () => {
    writeFileSync(
      join(dir, "ok.ts"),
      `import { connect } from "@nats-io/transport-node";
import { createClient, isFunctionError, type CallError, type CheckInventoryResponse } from "./client.ts";
const nc = await connect({ servers: process.env.NATS_URL });
const shop = createClient(nc);
const reply: CheckInventoryResponse = await shop.checkInventory({ items: [{ sku: "GEN-OIL", quantity: 2 }] });
const available: boolean = reply.available;
let code: CallError["code"] | 0 = 0;
try {
  await shop.checkInventory({ items: [] } as never);
} catch (err) {
  if (isFunctionError(err)) code = err.code;
}
console.log(JSON.stringify({ available, line: reply.items[0], code }));
await nc.close();
`,
    );
    const tsc = await run(process.execPath, [TSC, ...TSC_FLAGS, join(dir, "ok.ts")]);
    assert.equal(tsc.code, 0, tsc.out);
    const call = await run(process.execPath, ["--import", "tsx", join(dir, "ok.ts")], { NATS_URL: market.server.url });
    assert.equal(call.code, 0, call.out);
    const printed = JSON.parse(call.out.trim().split("\n").at(-1) ?? "{}") as Record<string, unknown>;
    assert.equal(printed.available, true);
    assert.deepEqual(printed.line, {
      sku: "GEN-OIL",
      requested: 2,
      available: 7,
      ok: true,
      priceCents: 1250,
      currency: "EUR",
      name: "GEN-OIL",
    });
    assert.equal(printed.code, 400);
  });

  test("a misspelt request field and an unknown reply field are compile errors", async () => {
    writeFileSync(
      join(dir, "bad.ts"),
      `import type { NatsConnection } from "@nats-io/nats-core";
import { createClient } from "./client.ts";
export async function f(nc: NatsConnection) {
  const shop = createClient(nc);
  const r = await shop.checkInventory({ items: [{ sku: "GEN-OIL", qty: 2 }] });
  return r.availableCount;
}
`,
    );
    const tsc = await run(process.execPath, [TSC, ...TSC_FLAGS, join(dir, "bad.ts")]);
    assert.notEqual(tsc.code, 0);
    assert.match(tsc.out, /bad\.ts\(5,.*'qty'/);
    assert.match(tsc.out, /bad\.ts\(6,.*'availableCount'/);
  });
});
