/**
 * create_order under kill -9 at each step boundary: a child serving create_order alone is killed
 * (SIGKILL) at the boundary, then an instance in this process takes every invocation over once its
 * lease expires. Every order ends confirmed, is charged at most once, and stock is conserved.
 * NFN_SAGA_KILLS sets the kills per boundary (default 1, so the suite stays fast; 100 for the soak).
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { createInbox } from "@nats-io/nats-core";
import createOrder from "../../functions/create_order/index.ts";
import { stableUuid } from "../../functions/_shared/saga-ids.ts";
import { CRASH_POINTS } from "../../functions/_shared/saga-crash.ts";
import { configFromEnv } from "../../runtime/config.ts";
import type { FunctionDefinition } from "../../runtime/define-function.ts";
import { startHost } from "../../runtime/host.ts";
import { RunsAdmin } from "../../runtime/index.ts";
import { createLogger } from "../../runtime/logger.ts";
import { Cleanup, eventually } from "../helpers/nats.ts";
import { send } from "../helpers/requests.ts";
import { TEST_JWT_SECRET, mintToken } from "../helpers/tokens.ts";
import { type Marketplace, marketplaceFunctions, readEvents, startMarketplace } from "../fixtures/marketplace.ts";

// after_pay and before_commit are one boundary: kill at each distinct one.
const BOUNDARIES = (process.env.NFN_SAGA_BOUNDARIES?.split(",") ?? CRASH_POINTS.filter((p) => p !== "before_commit")).filter(
  (p) => p !== "before_commit",
);
const KILLS = Number(process.env.NFN_SAGA_KILLS ?? 1);
// Long enough that a repeat of the previous key still in flight cannot take that key over in a live child.
const LEASE_MS = 5_000;
const BATCH = 6;
const SKU = "aceite-kill-1l";
const STOCKED = 100_000;
const CUSTOMER = "customer-1";

void describe("create_order killed (SIGKILL) at every step boundary, resumed by another instance", () => {
  const hooks = new Cleanup();
  let m: Marketplace;
  after(() => hooks.run());
  before(async () => {
    // Everything but create_order stays up here; create_order runs only in the children, until the end.
    const others = marketplaceFunctions.filter((f) => f.name !== "create_order");
    m = await startMarketplace(hooks, { functions: others, env: { NFN_DURABLE_POLL_MS: "200", NFN_DURABLE_LEASE_MS: String(LEASE_MS) } });
    await m.seed([{ sku: SKU, priceCents: 650, onHand: STOCKED }]);
  });

  function serve(point: string): ChildProcess {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", fileURLToPath(new URL("../fixtures/create-order-serve.ts", import.meta.url))],
      {
        env: {
          ...process.env,
          NATS_URL: m.server.url,
          AUTH_JWT_SECRET: TEST_JWT_SECRET,
          LOG_LEVEL: "error",
          NFN_CRASH_AT: point,
          NFN_DURABLE_LEASE_MS: String(LEASE_MS),
          // A crashing child must not take over the others' invocations: its recovery polls once an hour.
          NFN_DURABLE_POLL_MS: "3600000",
        },
        // Errors only (LOG_LEVEL=error) and the fault hook's one line: the kill's story when it goes wrong.
        stdio: ["ignore", "ignore", "inherit"],
      },
    );
    hooks.after(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    });
    return child;
  }

  // How many instances of create_order answer $SRV.PING within 300 ms.
  async function instances(): Promise<number> {
    const inbox = createInbox();
    const sub = m.nc.subscribe(inbox);
    let count = 0;
    const counting = (async () => {
      // A "no responders" status (503, empty body) also reaches the inbox: only real answers count.
      for await (const msg of sub) if (msg.data.length > 0) count++;
    })();
    m.nc.publish("$SRV.PING.create_order", "", { reply: inbox });
    await new Promise((r) => setTimeout(r, 300));
    sub.unsubscribe();
    await counting;
    return count;
  }

  void it(
    `kills create_order ${KILLS}× at each of ${BOUNDARIES.length} step boundaries: every order confirmed, one charge each, stock conserved`,
    { timeout: KILLS > 2 ? 3_600_000 : 240_000 },
    async () => {
      const keys: string[] = [];
      const admin = await RunsAdmin.open(m.nc);
      for (const point of BOUNDARIES) {
        for (let done = 0; done < KILLS;) {
          const batch = Math.min(BATCH, KILLS - done);
          const children = Array.from({ length: batch }, () => serve(point));
          let killed = 0;
          for (const child of children) child.once("exit", (_code, signal) => signal === "SIGKILL" && killed++);
          await eventually(async () => (await instances()) >= batch, 60_000, `${batch} children to serve`);
          for (let k = 0; k < batch; k++, done++) {
            const key = `kill-${point}-${done}`;
            keys.push(key);
            // The reply never comes (the child dies first); the request is only the trigger. One sent
            // while the server still routes to the child killed just before is lost: send it again.
            let inFlight = false;
            const trigger = () => {
              inFlight = true;
              // A fresh token each time: a soak outlasts a test token's 5 minutes.
              void mintToken({ sub: CUSTOMER, scope: "orders:write" })
                .then((token) =>
                  send(
                    m.nc,
                    "fn.create_order",
                    { items: [{ sku: SKU, quantity: 2 }], paymentMethod: "pm_card_visa" },
                    { headers: { Authorization: `Bearer ${token}`, "Idempotency-Key": key }, timeout: 5_000 },
                  ),
                )
                .catch(() => undefined)
                .finally(() => (inFlight = false));
            };
            trigger();
            await eventually(
              () => {
                if (killed > k) return true;
                if (!inFlight) trigger();
                return false;
              },
              60_000,
              `the child that took ${key} to be killed at ${point}`,
            ).catch(async (err: unknown) => {
              // Say where the invocation stands: the kill's story, when it did not happen.
              const shown = await admin.show(stableUuid("order", CUSTOMER, key), "create_order").catch((e: unknown) => String(e));
              throw new Error(`${String(err)}; the invocation: ${JSON.stringify(shown).slice(0, 1500)}`);
            });
          }
        }
      }

      // The recovering instance: create_order in this process, polling every 200 ms.
      const started = Date.now();
      const host = await startHost([createOrder] as FunctionDefinition[], {
        config: configFromEnv({ NATS_URL: m.server.url }),
        log: createLogger({}, "silent"),
      });
      hooks.after(() => host.stop(1000));
      const orders = await m.host.state.kv("orders");
      const ids = keys.map((key) => stableUuid("order", CUSTOMER, key));
      await eventually(
        async () => {
          const shown = await Promise.all(ids.map((id) => admin.show(id, "create_order").catch(() => undefined)));
          return shown.every((s) => s?.status === "done");
        },
        // The recovering instance resumes them all at once: allow for their count (a soak has 500).
        LEASE_MS + 30_000 + 200 * ids.length,
        "every killed order's invocation to end",
      );
      const recoveryMs = Date.now() - started;

      const charges = await readEvents(m.nc, "events.payment.succeeded");
      const payments = await m.host.state.kv("payments");
      for (const [i, id] of ids.entries()) {
        const order = (await orders.get(id))?.json<{ status: string; customerId: string }>();
        assert.equal(order?.status, "confirmed", `${keys[i]}: confirmed`);
        assert.equal(charges.filter((e) => e.aggregateId === id).length, 1, `${keys[i]}: one payment.succeeded`);
        const payment = (await payments.get(id))?.json<{ status: string; amountCents: number }>();
        assert.deepEqual(payment && { status: payment.status, amountCents: payment.amountCents }, {
          status: "succeeded",
          amountCents: 1300,
        });
      }
      const stock = await m.stock(SKU);
      assert.deepEqual(stock, { onHand: STOCKED - 2 * ids.length, reserved: 0, sold: 2 * ids.length }, "stock conserved");
      process.stderr.write(
        `saga kill test: ${ids.length} kills over ${BOUNDARIES.length} boundaries, all confirmed ${recoveryMs} ms after the recovering instance started (lease ${LEASE_MS} ms)\n`,
      );
    },
  );
});
