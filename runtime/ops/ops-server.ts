/**
 * The operations endpoint of a runtime process, started when NFN_HTTP_PORT is set:
 * `GET /healthz` (the process is up), `GET /readyz` (connected to NATS, functions registered),
 * `GET /metrics` (Prometheus). Plain node:http, so a function process loads no web framework.
 */
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { NatsConnection } from "@nats-io/nats-core";
import type { EndpointStats } from "../stats.ts";
import { connectionState, readiness } from "./health.ts";
import { METRICS_CONTENT_TYPE, enableFunctionMetrics, metricsText, trackConnection, trackEndpoint } from "./metrics.ts";

/** What the ops server reads from its host. */
export interface OpsSource {
  nc: NatsConnection;
  /** The functions serving an endpoint right now. */
  endpoints(): Iterable<{ name: string; version: string; stats: EndpointStats | undefined }>;
}

/** A started ops server. */
export interface OpsServer {
  readonly port: number;
  /** Adds a function started after the server (host.add). */
  track(name: string, version: string, stats: EndpointStats | undefined): void;
  close(): Promise<void>;
}

/**
 * Starts the ops server and turns metrics on. It binds 127.0.0.1 (metrics name every function and
 * its error counts) unless NFN_HTTP_HOST says otherwise, e.g. `0.0.0.0` for a Prometheus elsewhere.
 * Port 0 picks a free port.
 */
export async function startOpsServer(source: OpsSource, port: number, host = process.env.NFN_HTTP_HOST || "127.0.0.1"): Promise<OpsServer> {
  enableFunctionMetrics();
  trackConnection(source.nc, "runtime");
  const state = connectionState(source.nc);
  const untrack: (() => void)[] = [];
  const track = (name: string, version: string, stats: EndpointStats | undefined) => {
    if (stats) untrack.push(trackEndpoint(name, version, stats));
  };
  for (const e of source.endpoints()) track(e.name, e.version, e.stats);

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { "content-type": type, "cache-control": "no-store" });
      res.end(body);
    };
    if (req.method !== "GET" && req.method !== "HEAD") return send(405, "application/json", '{"error":"use GET"}');
    if (path === "/healthz") return send(200, "application/json", '{"status":"ok"}');
    if (path === "/readyz") {
      const r = readiness(state(), [...source.endpoints()].length, 1);
      return send(r.ready ? 200 : 503, "application/json", JSON.stringify(r));
    }
    if (path === "/metrics") {
      metricsText().then(
        (text) => send(200, METRICS_CONTENT_TYPE, text),
        (err: unknown) => send(500, "text/plain", `metrics failed: ${err instanceof Error ? err.message : String(err)}`),
      );
      return;
    }
    send(404, "application/json", '{"error":"not found: try /healthz, /readyz or /metrics"}');
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    track,
    close() {
      for (const u of untrack) u();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
