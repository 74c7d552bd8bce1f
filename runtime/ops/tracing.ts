/**
 * OpenTelemetry spans, exported over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set. The SDK is
 * imported only then: without the variable nothing is loaded and the runtime's hooks stay unset.
 *
 * The runtime already owns the W3C ids (runtime/trace.ts) and writes them into nested calls and
 * events, so each span is created with exactly those ids: the exported trace matches the headers.
 */
import { createLogger } from "../logger.ts";
import type { TraceContext } from "../trace.ts";
import { type EndObserver, opsHooks } from "./hooks.ts";

/** One span as the rest of the code sees it. */
export interface SpanSpec {
  name: string;
  kind: "server" | "client";
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  attributes: Record<string, string>;
}

/** Starts a span; the returned function ends it with an error code or success. */
export type SpanStarter = (spec: SpanSpec) => EndObserver;

let starter: SpanStarter | undefined;
let flush: (() => Promise<void>) | undefined;
let initializing: Promise<SpanStarter | undefined> | undefined;

/** The active span starter, or undefined when tracing is off. */
export function spanStarter(): SpanStarter | undefined {
  return starter;
}

/**
 * Switches tracing on when `env.OTEL_EXPORTER_OTLP_ENDPOINT` is set (once per process) and installs
 * the runtime's hooks; resolves to undefined, having loaded nothing, when it is not set.
 */
export function initTracingFromEnv(env: NodeJS.ProcessEnv = process.env, serviceName = "nats-functions"): Promise<SpanStarter | undefined> {
  if (!env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return Promise.resolve(undefined);
  // A bundle keeps the SDK external: where it is not installed, serve without traces instead of failing.
  initializing ??= loadSdk(env.OTEL_SERVICE_NAME ?? serviceName).catch((err: unknown) => {
    createLogger().warn(
      "OTEL_EXPORTER_OTLP_ENDPOINT is set but the OpenTelemetry SDK cannot be loaded; running without traces (npm install it next to the bundle)",
      {
        reason: err instanceof Error ? err.message : String(err),
      },
    );
    return undefined;
  });
  return initializing;
}

/** Exports the spans still buffered (on shutdown, and in tests). */
export async function flushTracing(): Promise<void> {
  await flush?.();
}

async function loadSdk(serviceName: string): Promise<SpanStarter> {
  const api = await import("@opentelemetry/api");
  const { BasicTracerProvider, BatchSpanProcessor } = await import("@opentelemetry/sdk-trace-base");
  const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-http");
  const { resourceFromAttributes } = await import("@opentelemetry/resources");

  // The next ids to hand out: set right before the synchronous startSpan that consumes them.
  let nextTraceId = "";
  let nextSpanId = "";
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ "service.name": serviceName }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
    idGenerator: { generateTraceId: () => nextTraceId, generateSpanId: () => nextSpanId },
  });
  const tracer = provider.getTracer("nats-functions");
  starter = (spec) => {
    nextTraceId = spec.traceId;
    nextSpanId = spec.spanId;
    const parent = spec.parentSpanId
      ? api.trace.setSpanContext(api.ROOT_CONTEXT, {
          traceId: spec.traceId,
          spanId: spec.parentSpanId,
          traceFlags: api.TraceFlags.SAMPLED,
          isRemote: true,
        })
      : api.ROOT_CONTEXT;
    const kind = spec.kind === "server" ? api.SpanKind.SERVER : api.SpanKind.CLIENT;
    const span = tracer.startSpan(spec.name, { kind, attributes: spec.attributes }, parent);
    return (code) => {
      if (code !== undefined) {
        span.setAttribute("nfn.error_code", code);
        if (code >= 500) span.setStatus({ code: api.SpanStatusCode.ERROR });
      }
      span.end();
    };
  };
  flush = () => provider.forceFlush();
  installHooks(starter);
  return starter;
}

function installHooks(start: SpanStarter): void {
  opsHooks.startInvocation = (fn, version, trace: TraceContext, traceparent) =>
    start({
      name: `invoke ${fn}`,
      kind: "server",
      traceId: trace.traceId,
      spanId: trace.spanId,
      parentSpanId: parentSpanOf(traceparent, trace.traceId),
      attributes: { "faas.name": fn, "faas.version": version, "messaging.system": "nats" },
    });
  opsHooks.startCall = (caller, target, traceparent) =>
    start({
      name: `call ${target}`,
      kind: "client",
      traceId: caller.traceId,
      spanId: traceparent.slice(36, 52),
      parentSpanId: caller.spanId,
      attributes: { "nfn.target": target, "messaging.system": "nats" },
    });
}

/** The caller's span id in `traceparent`, when it belongs to the trace the runtime continued. */
export function parentSpanOf(traceparent: string | undefined, traceId: string): string | undefined {
  const match = traceparent ? /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/.exec(traceparent.trim().toLowerCase()) : null;
  return match && match[1] === traceId ? match[2] : undefined;
}
