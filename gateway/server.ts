/**
 * `startGateway`: the HTTP gateway in front of the functions. Hono on @hono/node-server: a small,
 * dependency-free router on Web-standard Request/Response with an SSE helper, already in the tree.
 */
import type { AddressInfo } from "node:net";
import { serve, type ServerType } from "@hono/node-server";
import type { NatsConnection } from "@nats-io/nats-core";
import { createApp } from "./app.ts";
import { isLoopbackHost } from "./dashboard-auth.ts";
import { RequestLog } from "./dashboard-requests.ts";
import { DashboardState } from "./dashboard-state.ts";
import { Discovery } from "./discovery.ts";
import { EventFeed } from "./event-feed.ts";
import { connectionState } from "../runtime/ops/health.ts";
import { trackConnection } from "../runtime/ops/metrics.ts";
import { initTracingFromEnv } from "../runtime/ops/tracing.ts";

/** Options of `startGateway`. */
export interface GatewayOptions {
  nc: NatsConnection;
  /** 0 picks a free port. Default 8080. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Re-read `$SRV.INFO` this often (ms). Default 5000. */
  refreshMs?: number;
  /** Poll `$SRV.STATS` and push to dashboards this often (ms). Default 1000. */
  dashboardMs?: number;
}

/** A running gateway. */
export interface Gateway {
  readonly url: string;
  readonly port: number;
  readonly discovery: Discovery;
  close(): Promise<void>;
}

/** Starts discovery, the event feed, the dashboard poller and the HTTP server. */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { nc } = options;
  await initTracingFromEnv(process.env, "nfn-gateway");
  trackConnection(nc, "gateway");
  const discovery = new Discovery(nc, { refreshMs: options.refreshMs });
  await discovery.start();
  const events = new EventFeed(nc);
  events.start();
  const pushMs = options.dashboardMs ?? 1000;
  const requests = new RequestLog();
  const dashboard = new DashboardState(nc, discovery, events, pushMs, requests);
  await dashboard.start();
  const host = options.host ?? "127.0.0.1";
  const app = createApp({
    nc,
    discovery,
    dashboard,
    events,
    requests,
    natsState: connectionState(nc),
    pushMs,
    requireToken: !isLoopbackHost(host),
  });
  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: options.port ?? 8080, hostname: host }, () => resolve(s));
    s.once("error", (err) => {
      discovery.stop();
      events.stop();
      dashboard.stop();
      reject(new Error(`gateway cannot listen on ${host}:${options.port ?? 8080}: ${err.message}; pick another --port`));
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    discovery,
    async close() {
      discovery.stop();
      events.stop();
      dashboard.stop();
      // SSE streams never end on their own; close them with the server.
      if ("closeAllConnections" in server) server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
