/** `nfn gateway`: the HTTP gateway (POST /fn/<name>, /openapi.json, /docs, /healthz, /readyz, /metrics, dashboard at /). */
import type { Command } from "commander";
import { type GlobalOptions, resolveConnection } from "../lib/connection.ts";
import { parseDuration } from "../lib/duration.ts";
import { usageError } from "../lib/errors.ts";
import { EXIT } from "../lib/exit-codes.ts";
import type { CliIo } from "../lib/io.ts";
import { verbAction } from "../lib/program.ts";
import { waitForSignal } from "../lib/wait-for-signal.ts";
import type { NatsConnection } from "@nats-io/nats-core";
import type { RuntimeConfig } from "../../runtime/config.ts";
import { connectWithRetry } from "../../runtime/connect.ts";
import { type Logger, createLogger } from "../../runtime/logger.ts";
import { edgeSettingsFromEnv, isLoopbackHost } from "../../gateway/edge-policy.ts";
import { startGateway } from "../../gateway/server.ts";

/** Options of `nfn gateway` and `nfn dashboard`. */
export interface GatewayVerbOptions extends GlobalOptions {
  port?: string;
  host?: string;
  refresh?: string;
}

/** Serves the gateway until SIGINT/SIGTERM; `banner` is printed once it listens. Returns the exit code. */
export async function runGateway(
  opts: GatewayVerbOptions,
  io: CliIo,
  banner: (url: string) => string,
  until: Promise<unknown> = waitForSignal(),
): Promise<number> {
  const port = parsePort(opts.port ?? io.env.NFN_GATEWAY_PORT ?? "8080");
  const host = opts.host ?? io.env.NFN_GATEWAY_HOST ?? "127.0.0.1";
  const refreshMs = opts.refresh ? parseDuration(opts.refresh, "--refresh") : undefined;
  const resolved = resolveConnection(opts, io);
  const log = createLogger({ component: "gateway" }, resolved.config.logLevel);
  // A long-running server waits for NATS and reconnects forever, unlike one-shot verbs; a signal meanwhile stops the waiting.
  const nc = await connectUnlessStopped({ ...resolved.config, clientName: `nfn-gateway-${process.pid}` }, log, until);
  if (!nc) {
    io.stderr.write("nfn: stopped before the NATS server was reachable: the gateway never listened\n");
    return EXIT.OK;
  }
  try {
    const edge = edgeSettings(io.env);
    const gateway = await startGateway({ nc, port, host, refreshMs, ...edge });
    if (!isLoopbackHost(host) && !edge.publicUrl) {
      io.stderr.write(
        `nfn: listening on ${host} without NFN_GATEWAY_PUBLIC_URL: browser requests that carry an Origin (the pages' own POSTs) get 403 until it names the URL clients use\n`,
      );
    }
    io.stdout.write(banner(gateway.url));
    await until;
    io.stderr.write("nfn: stopping the gateway\n");
    await gateway.close();
  } finally {
    if (!nc.isClosed()) await nc.drain();
  }
  return EXIT.OK;
}

/**
 * Connects (retrying) until it succeeds or `until` settles; undefined when `until` came first. A
 * connection attempt still under way then is not awaited: when it completes late, it is closed.
 */
export async function connectUnlessStopped(
  config: RuntimeConfig,
  log: Logger,
  until: Promise<unknown>,
): Promise<NatsConnection | undefined> {
  const abort = new AbortController();
  const stopped = until.then(() => {
    abort.abort(new Error("stopped before the NATS server was reachable"));
    return undefined;
  });
  const connecting = connectWithRetry(config, { log, signal: abort.signal });
  const nc = await Promise.race([connecting.catch((err: unknown) => (abort.signal.aborted ? undefined : Promise.reject(err))), stopped]);
  if (nc === undefined) {
    // One attempt may still be in flight (a connect does not take the signal): close what it brings.
    connecting
      .then(
        (late) => late.close(),
        () => {},
      )
      .catch(() => {});
    return undefined;
  }
  return nc;
}

// The public URL and extra browser origins (README: Configuration); a malformed value stops the start.
function edgeSettings(env: NodeJS.ProcessEnv): { publicUrl?: string; origins: string[] } {
  try {
    return edgeSettingsFromEnv(env);
  } catch (err) {
    throw usageError(err instanceof Error ? err.message : String(err));
  }
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw usageError(`port "${text}" is not a number from 0 to 65535`);
  return port;
}

/** The options `gateway` and `dashboard` share. */
export function gatewayOptions(command: Command): Command {
  return command
    .option("-p, --port <port>", "HTTP port (env NFN_GATEWAY_PORT, default 8080; 0 = any free port)")
    .option("--host <address>", "address to listen on (env NFN_GATEWAY_HOST, default 127.0.0.1; 0.0.0.0 for all)")
    .option("--refresh <duration>", "how often to re-read $SRV.INFO (default 5s; unknown names also trigger a refresh)");
}

/** Defines `nfn gateway`. */
export function register(program: Command): void {
  gatewayOptions(program.command("gateway"))
    .description(
      "HTTP gateway in front of the functions: POST /fn/<name>, /openapi.json, /docs, /healthz, /readyz, /metrics, live dashboard at /",
    )
    .addHelpText(
      "after",
      `
Examples:
  npx nfn gateway                          # http://127.0.0.1:8080
  curl -sS -X POST localhost:8080/fn/check_inventory -H 'content-type: application/json' \\
       -d '{"items":[{"sku":"OLIVE-OIL-1L","quantity":2}]}'
  OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 npx nfn gateway --port 9000`,
    )
    .action(
      verbAction<GatewayVerbOptions>((opts, io) =>
        runGateway(
          opts,
          io,
          (url) => `gateway on ${url}: POST ${url}/fn/<name> · API reference ${url}/docs · dashboard ${url}/ · metrics ${url}/metrics\n`,
        ),
      ),
    );
}
