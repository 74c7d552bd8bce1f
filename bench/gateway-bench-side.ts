/**
 * One process of the gateway benchmark: `functions` serves check_inventory, put_product and verify_token,
 * `gateway` runs the HTTP gateway on `BENCH_GATEWAY_PORT` (0: any), `floor` the least an HTTP edge in
 * front of NATS can do (bench/gateway-floor.ts). Each prints "ready <detail>" when up.
 */
import { connect } from "@nats-io/transport-node";
import { configFromEnv, createLogger, runFunctions, type FunctionDefinition } from "../runtime/index.ts";
import checkInventory from "../functions/check_inventory/index.ts";
import putProduct from "../functions/put_product/index.ts";
import verifyToken from "../functions/verify_token/index.ts";
import { startGateway } from "../gateway/server.ts";
import { startFloor } from "./gateway-floor.ts";

const mode = process.argv[2];
const url = process.env.NATS_URL ?? "nats://127.0.0.1:4222";

if (mode === "functions") {
  await runFunctions([checkInventory, putProduct, verifyToken] as FunctionDefinition[], {
    config: configFromEnv(),
    log: createLogger({}, "warn"),
  });
  process.stdout.write("ready functions\n");
} else if (mode === "gateway") {
  const nc = await connect({ servers: url, noAsyncTraces: true });
  const gateway = await startGateway({ nc, port: Number(process.env.BENCH_GATEWAY_PORT ?? 0), dashboardMs: 1000 });
  process.once("SIGTERM", () => void gateway.close().finally(() => process.exit(0)));
  process.stdout.write(`ready ${gateway.url}\n`);
} else if (mode === "floor") {
  const nc = await connect({ servers: url, noAsyncTraces: true });
  process.stdout.write(`ready ${await startFloor(nc, "fn.check_inventory")}\n`);
} else {
  console.error("usage: gateway-bench-side.ts functions|gateway|floor");
  process.exit(2);
}
