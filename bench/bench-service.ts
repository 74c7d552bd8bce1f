/**
 * One side of the runtime benchmark, run in its own process: `bare` serves the handler with
 * @nats-io/services alone, `runtime` serves the same handler as an nfn function (validation on).
 */
import { connect } from "@nats-io/transport-node";
import { Svcm } from "@nats-io/services";
import { defineFunction, runFunctions, configFromEnv, createLogger } from "../runtime/index.ts";

/** The handler work both sides do: read a reservation line, answer with a computed total. */
export function priceLine(input: { sku: string; quantity: number }): { sku: string; quantity: number; totalCents: number } {
  return { sku: input.sku, quantity: input.quantity, totalCents: input.quantity * 1250 };
}

const mode = process.argv[2];
const url = process.env.NATS_URL ?? "nats://127.0.0.1:4222";

if (mode === "bare") {
  const nc = await connect({ servers: url });
  const service = await new Svcm(nc).add({ name: "bench_bare", version: "1.0.0" });
  service.addEndpoint("bench_bare", {
    subject: "bench.bench_bare",
    handler: (_err, msg) => {
      const input = JSON.parse(msg.string()) as { sku: string; quantity: number };
      msg.respond(JSON.stringify(priceLine(input)));
    },
  });
  await nc.flush();
} else if (mode === "runtime") {
  const line = {
    type: "object",
    additionalProperties: false,
    required: ["sku", "quantity"],
    properties: { sku: { type: "string", pattern: "^[A-Za-z0-9._-]{1,64}$" }, quantity: { type: "integer", minimum: 1, maximum: 10000 } },
  };
  const fn = defineFunction<{ sku: string; quantity: number }, ReturnType<typeof priceLine>>({
    name: "bench_runtime",
    version: "1.0.0",
    description: "benchmark function",
    request: line,
    response: {
      type: "object",
      additionalProperties: false,
      required: ["sku", "quantity", "totalCents"],
      properties: { sku: { type: "string" }, quantity: { type: "integer" }, totalCents: { type: "integer" } },
    },
    limits: { maxInFlight: 1024 },
    handler: (input) => priceLine(input),
  });
  await runFunctions([fn], { config: { ...configFromEnv(), subjectPrefix: "bench" }, log: createLogger({}, "warn") });
} else {
  console.error("usage: bench-service.ts bare|runtime");
  process.exit(2);
}
process.stdout.write("ready\n");
