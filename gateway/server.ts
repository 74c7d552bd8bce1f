/**
 * `startGateway`: the HTTP gateway in front of the functions, on node:http. Every request first
 * passes the edge rules (gateway/edge-policy.ts) and gets the security headers; invocations then
 * take the plain node:http path (gateway/invoke.ts), everything else goes to the Hono app.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import type { NatsConnection } from "@nats-io/nats-core";
import { createApp } from "./app.ts";
import { isLoopbackHost } from "./dashboard-auth.ts";
import { RequestLog } from "./dashboard-requests.ts";
import { DashboardState } from "./dashboard-state.ts";
import { Discovery } from "./discovery.ts";
import { EdgePolicy, applyCors, setSecurityHeaders } from "./edge-policy.ts";
import { EventFeed } from "./event-feed.ts";
import { sendError } from "./http-body.ts";
import { invoke } from "./invoke.ts";
import { trackEventLoopDelay } from "./metrics.ts";
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
  /** The URL clients reach the gateway at (NFN_GATEWAY_PUBLIC_URL); default the listen URL. */
  publicUrl?: string;
  /** Browser origins allowed besides the gateway's own (NFN_GATEWAY_ORIGINS). */
  origins?: readonly string[];
}

/** A running gateway. */
export interface Gateway {
  readonly url: string;
  readonly port: number;
  readonly discovery: Discovery;
  close(): Promise<void>;
}

const FN_PREFIX = "/fn/";

/** Starts discovery, the event feed, the dashboard poller and the HTTP server. */
export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { nc } = options;
  await initTracingFromEnv(process.env, "nfn-gateway");
  trackConnection(nc, "gateway");
  trackEventLoopDelay();
  const discovery = new Discovery(nc, { refreshMs: options.refreshMs });
  await discovery.start();
  const events = new EventFeed(nc);
  events.start();
  const pushMs = options.dashboardMs ?? 1000;
  const requests = new RequestLog();
  const dashboard = new DashboardState(nc, discovery, events, pushMs, requests);
  await dashboard.start();
  const stopAll = () => {
    discovery.stop();
    events.stop();
    dashboard.stop();
  };
  const host = options.host ?? "127.0.0.1";
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) => {
      stopAll();
      reject(new Error(`gateway cannot listen on ${host}:${options.port ?? 8080}: ${err.message}; pick another --port`));
    });
    server.listen(options.port ?? 8080, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  // The edge rules need the port, known only once listening; the handler is attached before any connection is read.
  let policy: EdgePolicy;
  try {
    policy = new EdgePolicy({ bindHost: host, port, publicUrl: options.publicUrl, origins: options.origins });
  } catch (err) {
    stopAll();
    server.close();
    throw err;
  }
  const app = createApp({
    nc,
    discovery,
    dashboard,
    events,
    requests,
    natsState: connectionState(nc),
    pushMs,
    requireToken: !isLoopbackHost(host),
    publicUrl: policy.publicUrl,
  });
  const pages = getRequestListener(app.fetch);
  const deps = { nc, discovery, requests };
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const refused = policy.check(req);
    // The invoke path and refusals write the security headers with the rest of their header list (gateway/http-body.ts).
    if (refused) sendError(res, refused);
    else if (applyCors(req, res, policy.ownOrigin)) return;
    else if (req.url?.startsWith(FN_PREFIX)) invoke(req, res, deps);
    else {
      setSecurityHeaders(res);
      void pages(req, res);
    }
  });
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    discovery,
    async close() {
      stopAll();
      // SSE streams and idle keep-alive connections never end on their own; close them with the server.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
