/**
 * The gateway's pages (Hono): API reference, health, metrics and the dashboard. Invocations
 * (`/fn/<name>`) do not come here: they take the plain node:http path in gateway/invoke.ts.
 */
import { readFileSync } from "node:fs";
import { Hono } from "hono";
import type { NatsConnection } from "@nats-io/nats-core";
import { type DashboardDeps, registerDashboardRoutes as registerDashboardDataRoutes } from "./dashboard-routes.ts";
import type { Discovery } from "./discovery.ts";
import { buildOpenApi } from "./openapi.ts";
import { readiness } from "../runtime/ops/health.ts";
import { METRICS_CONTENT_TYPE, metricsText } from "../runtime/ops/metrics.ts";

/** What the routes read from (the dashboard's part is in dashboard-routes.ts). */
export interface AppDeps extends DashboardDeps {
  nc: NatsConnection;
  discovery: Discovery;
  natsState: () => "connected" | "reconnecting" | "closed";
  /** The gateway's configured public URL: the OpenAPI `servers` entry, never the request's Host. */
  publicUrl: string;
}

// Served from the package itself: the machines that run this have no internet, so no CDN.
const ASSETS: Record<string, string> = {
  "dashboard.html": "text/html; charset=utf-8",
  "dashboard.js": "text/javascript; charset=utf-8",
  "dashboard.css": "text/css; charset=utf-8",
  "dashboard-common.js": "text/javascript; charset=utf-8",
  "dashboard-chart.js": "text/javascript; charset=utf-8",
  "dashboard-invoke.js": "text/javascript; charset=utf-8",
  "dashboard-trace.js": "text/javascript; charset=utf-8",
  "docs.html": "text/html; charset=utf-8",
  "docs.js": "text/javascript; charset=utf-8",
};
const assetText = new Map(Object.keys(ASSETS).map((f) => [f, readFileSync(new URL(`./assets/${f}`, import.meta.url), "utf8")]));

function asset(file: string): Response {
  return new Response(assetText.get(file) ?? "", {
    headers: { "content-type": ASSETS[file] ?? "text/plain", "cache-control": "no-cache" },
  });
}

/** Builds the Hono app: the API routes, then the dashboard's. */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  registerApiRoutes(app, deps);
  registerPageRoutes(app);
  registerDashboardDataRoutes(app, deps);
  app.notFound((c) =>
    c.json({ error: { code: 404, type: "NOT_FOUND", message: `no route ${c.req.method} ${c.req.path}: see /docs` } }, 404),
  );
  return app;
}

/** The API reference, health and metrics. */
function registerApiRoutes(app: Hono, deps: AppDeps): void {
  app.get("/openapi.json", async (c) => {
    await deps.discovery.refresh().catch(() => {});
    return c.json(buildOpenApi(deps.discovery.list(), deps.publicUrl));
  });
  app.get("/docs", () => asset("docs.html"));
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", (c) => {
    const r = readiness(deps.natsState(), deps.discovery.list().length, 1);
    return c.json(r, r.ready ? 200 : 503);
  });
  app.get("/metrics", async () => new Response(await metricsText(), { headers: { "content-type": METRICS_CONTENT_TYPE } }));
}

/** The dashboard page and its assets (they hold no data; the data routes are in dashboard-routes.ts). */
function registerPageRoutes(app: Hono): void {
  app.get("/", () => asset("dashboard.html"));
  app.get("/assets/:file", (c) => (ASSETS[c.req.param("file")] ? asset(c.req.param("file")) : c.notFound()));
}
