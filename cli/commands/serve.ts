/** `nfn serve [fn...]`: run functions from source against NATS, starting a local nats-server when there is none. */
import type { Command } from "commander";
import { loadDemoCatalog } from "../lib/demo-catalog.ts";
import { usageError } from "../lib/errors.ts";
import { EXIT } from "../lib/exit-codes.ts";
import type { CliIo } from "../lib/io.ts";
import { portFree } from "../lib/ports.ts";
import { verbAction } from "../lib/program.ts";
import { type ServeInternals, type ServeOptions, type ServeSession, startUnlessStopped } from "../lib/serve-session.ts";
import { waitForSignal } from "../lib/wait-for-signal.ts";

/** Options of `nfn serve`. */
export interface ServeVerbOptions extends ServeOptions {
  demo?: boolean;
  /** Also serve the HTTP gateway (dashboard, API reference): true for port 8080 (or a free one when taken), or a port. */
  gateway?: boolean | string;
}

/** Serves until SIGINT/SIGTERM/SIGHUP, then drains and stops; returns the exit code. */
export async function runServe(
  opts: ServeVerbOptions,
  io: CliIo,
  names: string[],
  until: Promise<unknown> = waitForSignal(),
  internals?: ServeInternals,
): Promise<number> {
  const gatewayPort = opts.gateway === undefined || opts.gateway === false ? undefined : await pickGatewayPort(opts.gateway, io);
  const session = await startUnlessStopped(opts, names, io, until, internals);
  if (!session) return EXIT.OK;
  let gateway: { url: string; close(): Promise<void> } | undefined;
  try {
    if (opts.demo) await loadDemoCatalog(session, io);
    if (gatewayPort !== undefined) gateway = await startSessionGateway(session, gatewayPort, io);
    if (!opts.demo) io.stdout.write(`try it: npx nfn ls   (stop with Ctrl-C)\n`);
    await until;
    io.stderr.write("nfn: stopping: no new requests, finishing those in flight\n");
  } finally {
    await gateway?.close();
    await session.stop();
  }
  return EXIT.OK;
}

async function pickGatewayPort(option: true | string, io: CliIo): Promise<number> {
  if (option !== true) {
    const port = Number(option);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw usageError(`--gateway port "${option.slice(0, 64)}" is not a number from 0 to 65535`);
    return port;
  }
  const preferred = Number(io.env.NFN_GATEWAY_PORT ?? "8080");
  return Number.isInteger(preferred) && preferred > 0 && (await portFree(preferred)) ? preferred : 0;
}

// The gateway shares the session's connection; loaded only when asked for, so plain serve never loads Hono.
async function startSessionGateway(session: ServeSession, port: number, io: CliIo): Promise<{ url: string; close(): Promise<void> }> {
  const { startGateway } = await import("../../gateway/server.ts");
  const { edgeSettingsFromEnv } = await import("../../gateway/edge-policy.ts");
  const gateway = await startGateway({
    nc: session.host.nc,
    port,
    host: io.env.NFN_GATEWAY_HOST ?? "127.0.0.1",
    ...edgeSettingsFromEnv(io.env),
  });
  const monitor = session.localServer ? `http://127.0.0.1:${session.localServer.monitorPort}` : "(the server's own)";
  io.stdout.write(
    [
      "",
      `dashboard:        ${gateway.url}/`,
      `API reference:    ${gateway.url}/docs`,
      `HTTP calls:       curl -sS -X POST ${gateway.url}/fn/check_inventory -H 'content-type: application/json' -d '{"items":[{"sku":"AOVE-PICUAL-500ML","quantity":1}]}'`,
      `NATS monitoring:  ${monitor}`,
      "",
    ].join("\n") + "\n",
  );
  return gateway;
}

/** Defines `nfn serve`. */
export function register(program: Command): void {
  program
    .command("serve")
    .description("run functions from source (all of functions/ by default) against NATS_URL, or a local nats-server it starts")
    .argument("[fn...]", "only these functions")
    .option("--dir <path>", "the functions directory", "functions")
    .option("--demo", "load the demo catalog of the Jaén marketplace through put_product and print a short tour")
    .option("--gateway [port]", "also serve the HTTP gateway with the dashboard and API reference (port 8080, or a free one when taken)")
    .addHelpText(
      "after",
      `
Examples:
  npx nfn serve                          # every function in functions/, local nats-server if none is running
  NATS_URL=nats://10.0.0.5:4222 npx nfn serve check_inventory reserve_stock
  npx nfn serve --demo --gateway         # what \`npm start\` runs: functions, demo catalog, dashboard`,
    )
    .action(verbAction<ServeVerbOptions>((opts, io, args) => runServe(opts, io, args)));
}
