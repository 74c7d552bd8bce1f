/**
 * The dashboard's data routes under `/dashboard/`: snapshot and live stream, the invoke forms'
 * functions, the trace of one operation, latency over time, the dead-letter stream and replay.
 * Each route asks `viewerOf` first (dashboard-auth.ts); the page itself holds no data.
 */
import type { Context, Hono } from "hono";
import { streamSSE } from "hono/streaming";
import type { NatsConnection } from "@nats-io/nats-core";
import { type DashboardAuth, type Viewer, viewerOf } from "./dashboard-auth.ts";
import { listDeadLetters, replayDeadLetter } from "./dashboard-dlq.ts";
import type { RequestLog } from "./dashboard-requests.ts";
import { type DashboardState, publicSnapshot } from "./dashboard-state.ts";
import { TRACE_KEY, readTrace } from "./dashboard-trace.ts";
import { DashboardRuns } from "./dashboard-runs.ts";
import type { Discovery } from "./discovery.ts";
import type { EventFeed } from "./event-feed.ts";
import { exampleFor } from "./schema-example.ts";
import { toFunctionError } from "../runtime/errors.ts";

/** How often a live stream checks its viewer's token again. */
const RECHECK_MS = 30_000;
/** Trace reads served at once. */
const MAX_TRACES_IN_FLIGHT = 4;

/** What the dashboard routes read from. */
export interface DashboardDeps {
  nc: NatsConnection;
  discovery: Discovery;
  dashboard: DashboardState;
  events: EventFeed;
  requests: RequestLog;
  /** Milliseconds between two pushes of the live stream. */
  pushMs: number;
  /** True when the gateway listens beyond loopback. */
  requireToken: boolean;
}

/** Registers the `/dashboard/*` data routes (the gateway's server feeds the request log from `/fn/*`). */
export function registerDashboardRoutes(app: Hono, deps: DashboardDeps): void {
  const auth: DashboardAuth = { requireToken: deps.requireToken };
  const view = (v: Viewer) => (v.admin ? deps.dashboard.snapshot() : publicSnapshot(deps.dashboard.snapshot()));
  /** Runs `route` for an allowed viewer; any failure becomes a contract error body. */
  const guarded =
    (route: (c: Context, viewer: Viewer) => Promise<Response> | Response, needAdmin = false) =>
    async (c: Context) => {
      const viewer = await viewerOf(c, auth, needAdmin);
      if (viewer instanceof Response) return viewer;
      try {
        return await route(c, viewer);
      } catch (err) {
        const fe = toFunctionError(err);
        return c.json(fe.toBody(), fe.code);
      }
    };

  let tracesInFlight = 0;
  const runs = new DashboardRuns(deps.nc);

  app.get(
    "/dashboard/snapshot",
    guarded((c, viewer) => c.json(view(viewer))),
  );
  app.get(
    "/dashboard/stream",
    guarded((c, viewer) =>
      streamSSE(c, async (stream) => {
        let open = true;
        stream.onAbort(() => {
          open = false;
        });
        let checked = Date.now();
        while (open) {
          // A token that expires (or loses its scope) ends the stream rather than living on in it.
          if (c.req.header("authorization") && Date.now() - checked > RECHECK_MS) {
            checked = Date.now();
            const again = await viewerOf(c, auth);
            if (again instanceof Response || again.admin !== viewer.admin) break;
          }
          await stream.writeSSE({ event: "snapshot", data: JSON.stringify(view(viewer)) });
          await stream.sleep(deps.pushMs);
        }
      }),
    ),
  );
  app.get(
    "/dashboard/functions",
    guarded(async (c) => {
      await deps.discovery.refresh().catch(() => {});
      // The gateway's discovery holds only this runtime's public functions.
      const functions = deps.discovery.list().map((r) => ({
        name: r.name,
        version: r.version,
        description: r.description,
        auth: r.auth,
        requestSchema: r.requestSchema,
        example: exampleFor(r.requestSchema),
      }));
      return c.json({ functions });
    }),
  );
  app.get(
    "/dashboard/latency",
    guarded((c) => c.json({ intervalMs: deps.pushMs, samples: deps.dashboard.latency() })),
  );
  app.get(
    "/dashboard/trace/:id",
    guarded(async (c, viewer) => {
      const id = c.req.param("id") ?? "";
      if (!TRACE_KEY.test(id)) {
        return c.json(
          {
            error: { code: 400, type: "VALIDATION", message: "a trace key is a correlation id or trace id: 1-64 letters, digits, . _ : -" },
          },
          400,
        );
      }
      // Each trace reads up to MAX_TRACE_SCAN messages: a few at a time, the rest are told to retry.
      if (tracesInFlight >= MAX_TRACES_IN_FLIGHT) {
        return c.json({ error: { code: 429, type: "OVERLOADED", message: "the dashboard is reading other traces; retry shortly" } }, 429);
      }
      tracesInFlight++;
      try {
        return c.json(await readTrace(deps.nc, deps.requests, deps.events, id, viewer.admin, runs));
      } finally {
        tracesInFlight--;
      }
    }),
  );
  app.get(
    "/dashboard/dlq",
    guarded(async (c, viewer) => c.json(await listDeadLetters(deps.nc, Number(c.req.query("limit") ?? 50) || 50, viewer.admin))),
  );
  app.post(
    "/dashboard/dlq/:seq/replay",
    guarded(async (c) => {
      const seq = Number(c.req.param("seq"));
      if (!Number.isSafeInteger(seq) || seq < 1) {
        return c.json(
          { error: { code: 400, type: "VALIDATION", message: "a dead letter is named by its stream sequence, a positive integer" } },
          400,
        );
      }
      return c.json(await replayDeadLetter(deps.nc, seq));
    }, true),
  );
}
