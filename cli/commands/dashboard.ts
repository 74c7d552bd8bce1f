/** `nfn dashboard`: the live dashboard (served by the gateway at /), with the URL to open printed first. */
import type { Command } from "commander";
import { type GatewayVerbOptions, gatewayOptions, runGateway } from "./gateway.ts";
import { verbAction } from "../lib/program.ts";
import { ADMIN_SCOPE, isLoopbackHost } from "../../gateway/dashboard-auth.ts";

/** What `nfn dashboard` prints once the gateway listens. */
export function dashboardBanner(url: string): string {
  const host = new URL(url).hostname;
  const access = isLoopbackHost(host)
    ? `without a token it hides ids and error texts; paste a token with scope ${ADMIN_SCOPE} to see them`
    : `bound beyond loopback: the dashboard needs a token with scope ${ADMIN_SCOPE} (nfn token --sub you --scope ${ADMIN_SCOPE})`;
  return `dashboard: open ${url}/ (the gateway's API is there too: ${url}/docs)\n  ${access}\n`;
}

/** Defines `nfn dashboard`. */
export function register(program: Command): void {
  gatewayOptions(program.command("dashboard"))
    .description(
      "live dashboard: functions, latency charts, invoke forms, operation traces, dead letters with replay, events, saga outcomes (runs the gateway)",
    )
    .action(verbAction<GatewayVerbOptions>((opts, io) => runGateway(opts, io, dashboardBanner)));
}
