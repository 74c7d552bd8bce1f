/** `nfn dashboard`: the live dashboard (served by the gateway at /), with the URL to open printed first. */
import type { Command } from "commander";
import { type GatewayVerbOptions, gatewayOptions, runGateway } from "./gateway.ts";
import { verbAction } from "../lib/program.ts";

/** Defines `nfn dashboard`. */
export function register(program: Command): void {
  gatewayOptions(program.command("dashboard"))
    .description("live dashboard of functions, instances, versions, latency, errors, events and saga outcomes (runs the gateway)")
    .action(
      verbAction<GatewayVerbOptions>((opts, io) =>
        runGateway(opts, io, (url) => `dashboard: open ${url}/ (the gateway's API is there too: ${url}/docs)\n`),
      ),
    );
}
