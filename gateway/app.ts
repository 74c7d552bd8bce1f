/** The gateway's HTTP routes (Hono): invocations, API reference, health, metrics and the dashboard. */
import { readFileSync } from "node:fs";
import { Hono } from "hono";
import type { NatsConnection } from "@nats-io/nats-core";
import { type DashboardDeps, registerDashboardRoutes } from "./dashboard-routes.ts";
import type { Discovery } from "./discovery.ts";
import { invoke } from "./invoke.ts";
import { buildOpenApi } from "./openapi.ts";
import { readiness } from "../runtime/ops/health.ts";
import { METRICS_CONTENT_TYPE, metricsText } from "../runtime/ops/metrics.ts";

/** What the routes read from (the dashboard's part is in dashboard-routes.ts). */
export interface AppDeps extends DashboardDeps {
  nc: NatsConnection;
  discovery: Discovery;
  natsState: () => "connected" | "reconnecting" | "closed";
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

/** Builds the Hono app. */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();
  const asset = (file: string) =>
    new Response(assetText.get(file) ?? "", { headers: { "content-type": ASSETS[file] ?? "text/plain", "cache-control": "no-cache" } });

  registerDashboardRoutes(app, deps);
  app.post("/fn/:name", (c) => invoke(c, deps));
  app.all("/fn/:name", (c) =>
    c.json({ error: { code: 405, type: "METHOD_NOT_ALLOWED", message: "invoke a function with POST and a JSON body" } }, 405),
  );

  app.get("/openapi.json", async (c) => {
    await deps.discovery.refresh().catch(() => {});
    return c.json(buildOpenApi(deps.discovery.list(), new URL(c.req.url).origin));
  });
  app.get("/docs", () => asset("docs.html"));
  app.get("/", () => asset("dashboard.html"));
  app.get("/assets/:file", (c) => (ASSETS[c.req.param("file")] ? asset(c.req.param("file")) : c.notFound()));

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", (c) => {
    const r = readiness(deps.natsState(), deps.discovery.list().length, 1);
    return c.json(r, r.ready ? 200 : 503);
  });
  app.get("/metrics", async () => new Response(await metricsText(), { headers: { "content-type": METRICS_CONTENT_TYPE } }));

  app.notFound((c) =>
    c.json({ error: { code: 404, type: "NOT_FOUND", message: `no route ${c.req.method} ${c.req.path}: see /docs` } }, 404),
  );
  return app;
}
