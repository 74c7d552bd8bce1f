import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { NatsConnection } from "@nats-io/nats-core";
import { createStateAccess, type StateAccess } from "../../runtime/state.ts";
import type { LocalNatsServer } from "../../runtime/nats-server.ts";
import { stableUuid } from "../../functions/_shared/saga-ids.ts";
import { Cleanup, eventually, natsClient, natsServer } from "../helpers/nats.ts";
import { send } from "../helpers/requests.ts";
import { TEST_JWT_SECRET, mintToken } from "../helpers/tokens.ts";
import { readEvents } from "../fixtures/marketplace.ts";

const CRASH_POINTS = ["after_reserve", "after_pay", "before_commit"] as const;
const SKU = "aceite-crash-250ml";
const STOCKED = 40;

void describe("create_order crash recovery (a process killed mid-saga, NFN_CRASH_AT)", () => {
  const hooks = new Cleanup();
  let server: LocalNatsServer;
  let nc: NatsConnection;
  let state: StateAccess;
  let customer: string;
  after(() => hooks.run());

  // A child process serving every marketplace function, as `nfn serve` would.
  function serve(env: Record<string, string>): ChildProcess {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", fileURLToPath(new URL("../fixtures/marketplace-serve.ts", import.meta.url))],
      {
        env: {
          ...process.env,
          NATS_URL: server.url,
          AUTH_JWT_SECRET: TEST_JWT_SECRET,
          NFN_DURABLE_POLL_MS: "200",
          NFN_DURABLE_LEASE_MS: "300",
          LOG_LEVEL: "error",
          ...env,
        },
        stdio: ["ignore", "ignore", "inherit"],
      },
    );
    hooks.after(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    });
    return child;
  }

  const serving = () =>
    eventually(
      async () => {
        try {
          await nc.request("$SRV.PING.get_order", "", { timeout: 500 });
          return true;
        } catch {
          return false;
        }
      },
      30_000,
      "the child to serve",
    );

  before(async () => {
    server = await natsServer(hooks);
    nc = await natsClient(hooks, server);
    state = createStateAccess(nc, 1);
    customer = await mintToken({ sub: "customer-crash", scope: "orders:write" });
  });

  void it(
    "finishes orders whose process died after reserve, after pay and before commit: confirmed, stock conserved, one charge each",
    { timeout: 180_000 },
    async () => {
      const keys: Record<string, string> = {};
      for (const point of CRASH_POINTS) {
        // The crashing processes must not take over the earlier orders: their recovery polls once an hour.
        const child = serve({ NFN_CRASH_AT: point, NFN_DURABLE_POLL_MS: "3600000" });
        await serving();
        if (point === "after_reserve") {
          const admin = await mintToken({ sub: "admin-1", scope: "inventory:admin" });
          const seeded = await send(
            nc,
            "fn.put_product",
            { sku: SKU, name: "Aceite crash", priceCents: 700, onHand: STOCKED },
            { headers: { Authorization: `Bearer ${admin}` } },
          );
          assert.equal(seeded.code, undefined, seeded.errorHeader);
        }
        // Killed by SIGKILL: 137 as a shell reports it (128 + 9).
        const exited = new Promise<number | null>((resolve) =>
          child.once("exit", (code, signal) => resolve(signal === "SIGKILL" ? 137 : code)),
        );
        keys[point] = `crash-${point}`;
        const reply = send(
          nc,
          "fn.create_order",
          { items: [{ sku: SKU, quantity: 2 }], paymentMethod: "pm_card_visa" },
          {
            headers: { Authorization: `Bearer ${customer}`, "Idempotency-Key": keys[point] ?? "" },
            timeout: 20_000,
          },
        );
        const outcome = reply.then(
          () => "replied",
          () => "no reply",
        );
        assert.equal(await exited, 137, `the child exits at ${point}`);
        assert.notEqual(await Promise.race([outcome, Promise.resolve("waiting")]), "replied", "the process died before it could reply");
      }

      const orders = await state.kv("orders");
      const pending = await Promise.all(
        CRASH_POINTS.map(async (p) => (await orders.get(stableUuid("order", "customer-crash", keys[p] ?? "")))?.json<{ status: string }>()),
      );
      assert.deepEqual(
        pending.map((o) => o?.status),
        ["pending", "pending", "pending"],
        "each crash left a pending order",
      );

      serve({}); // a fresh process without the fault hook: its recovery loop takes the invocations over once their leases expire
      await serving();
      for (const point of CRASH_POINTS) {
        const orderId = stableUuid("order", "customer-crash", keys[point] ?? "");
        const order = await eventually(
          async () => {
            const o = (await orders.get(orderId))?.json<{ status: string }>();
            return o && o.status !== "pending" && o;
          },
          30_000,
          `order after ${point} to settle`,
        );
        assert.equal(order.status, "confirmed", `the order crashed ${point} is confirmed`);
        const charges = await readEvents(nc, "events.payment.succeeded", (e) => e.aggregateId === orderId);
        assert.equal(charges.length, 1, `one charge for the order crashed ${point}`);
        const replay = await send(
          nc,
          "fn.create_order",
          { items: [{ sku: SKU, quantity: 2 }], paymentMethod: "pm_card_visa" },
          {
            headers: { Authorization: `Bearer ${customer}`, "Idempotency-Key": keys[point] ?? "" },
          },
        );
        assert.equal((replay.body as { status: string }).status, "confirmed");
      }
      const stock = (await (await state.kv("inventory")).get(SKU))?.json<{ onHand: number; reserved: number; sold: number }>();
      assert.deepEqual(
        { onHand: stock?.onHand, reserved: stock?.reserved, sold: stock?.sold },
        { onHand: STOCKED - 6, reserved: 0, sold: 6 },
      );
      const payments = await state.kv("payments");
      for (const point of CRASH_POINTS) {
        const record = (await payments.get(stableUuid("order", "customer-crash", keys[point] ?? "")))?.json<{
          status: string;
          amountCents: number;
        }>();
        assert.deepEqual(record && { status: record.status, amountCents: record.amountCents }, { status: "succeeded", amountCents: 1400 });
      }
    },
  );
});
