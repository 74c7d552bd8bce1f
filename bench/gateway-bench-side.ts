/**
 * One process of the gateway benchmark: `functions` serves check_inventory, put_product and verify_token,
 * `gateway` runs the HTTP gateway on `BENCH_GATEWAY_PORT` (0: any), `floor` the least an HTTP edge in
 * front of NATS can do (bench/gateway-floor.ts). Each prints "ready <detail>" when up. `direct <C>
 * <warm-up s> <s> <body>` makes the direct calls (bench/gateway-direct-load.ts), warm-up first, and
 * prints "result <json>". The bench runs them all from one esbuild bundle, as the product ships.
 */
import { connect } from "@nats-io/transport-node";
import { configFromEnv, createLogger, runFunctions, type FunctionDefinition } from "../runtime/index.ts";
import checkInventory from "../functions/check_inventory/index.ts";
import putProduct from "../functions/put_product/index.ts";
import verifyToken from "../functions/verify_token/index.ts";
import { startGateway } from "../gateway/server.ts";
import { startFloor } from "./gateway-floor.ts";
import { directLoad } from "./gateway-direct-load.ts";

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
} else if (mode === "direct") {
  const [inFlight, warmup, seconds, body = "{}"] = process.argv.slice(3);
  const nc = await connect({ servers: url, noAsyncTraces: true });
  await directLoad(nc, "fn.check_inventory", body, Number(inFlight), Number(warmup));
  const result = await directLoad(nc, "fn.check_inventory", body, Number(inFlight), Number(seconds));
  await nc.close();
  process.stdout.write(`result ${JSON.stringify(result)}\n`);
} else if (mode === "floor") {
  const nc = await connect({ servers: url, noAsyncTraces: true });
  process.stdout.write(`ready ${await startFloor(nc, "fn.check_inventory")}\n`);
} else {
  console.error("usage: gateway-bench-side.ts functions|gateway|floor|direct <C> <warm-up s> <s> <body>");
  process.exit(2);
}
