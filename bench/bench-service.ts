/**
 * One side of the runtime benchmark, run in its own process: `bare` serves the handler with
 * @nats-io/services alone, `runtime` serves the same handler as an nfn function (validation on),
 * `overload` serves a slow function with a small in-flight limit and reports its own CPU time.
 */
import { connect } from "@nats-io/transport-node";
import { headers } from "@nats-io/nats-core";
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
} else if (mode === "overload") {
  // bench_slow: 50 ms of waiting per request (or held until released), at most 32 in flight.
  const held = new Set<() => void>();
  const slow = defineFunction<{ sku: string; quantity: number; hold?: boolean }, { ok: boolean }>({
    name: "bench_slow",
    version: "1.0.0",
    description: "benchmark function that waits",
    request: {
      type: "object",
      additionalProperties: false,
      required: ["sku", "quantity"],
      properties: {
        sku: { type: "string", pattern: "^[A-Za-z0-9._-]{1,64}$" },
        quantity: { type: "integer", minimum: 1, maximum: 10000 },
        hold: { type: "boolean" },
      },
    },
    response: { type: "object", required: ["ok"], properties: { ok: { type: "boolean" } } },
    limits: { maxInFlight: 32, timeoutMs: 120_000 },
    handler: (input) =>
      new Promise((resolve) => {
        if (input.hold) held.add(() => resolve({ ok: true }));
        else setTimeout(() => resolve({ ok: true }), 50);
      }),
  });
  const host = await runFunctions([slow], { config: { ...configFromEnv(), subjectPrefix: "bench" }, log: createLogger({}, "warn") });
  // Control subject: "cpu" answers this process's CPU time in µs; "release" lets every held request finish.
  host.nc.subscribe("bench.control", {
    callback: (_err, msg) => {
      if (msg.string() === "release") {
        for (const done of held) done();
        held.clear();
        msg.respond("released");
        return;
      }
      const { user, system } = process.cpuUsage();
      msg.respond(JSON.stringify({ cpuMicros: user + system }));
    },
  });
  // The floor: a bare subscription answering the same 429 bytes and headers, with no runtime in between.
  const floorHeaders = headers();
  floorHeaders.set("Nats-Service-Error", "bench_slow is at its limit of 32 requests in flight; retry shortly");
  floorHeaders.set("Nats-Service-Error-Code", "429");
  const floorBody = new TextEncoder().encode(
    JSON.stringify({
      error: { code: 429, type: "OVERLOADED", message: "bench_slow is at its limit of 32 requests in flight; retry shortly" },
    }),
  );
  host.nc.subscribe("bench.floor", { callback: (_err, msg) => void msg.respond(floorBody, { headers: floorHeaders }) });
  await host.nc.flush();
} else {
  console.error("usage: bench-service.ts bare|runtime|overload");
  process.exit(2);
}
process.stdout.write("ready\n");
