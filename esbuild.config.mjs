// Bundle build: one self-contained ESM file per function, `node esbuild.config.mjs [fn...]` or `nfn build`.
// The build logic is TypeScript (deploy/bundle/build.ts, type-checked); tsx loads it here.
import { fileURLToPath } from "node:url";
import { register } from "tsx/esm/api";

/** esbuild options every bundle shares: Node 20 ESM with the runtime and all dependencies inside. */
export const esbuildOptions = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  minify: true,
  legalComments: "none",
  logLevel: "warning",
  // The OpenTelemetry SDK is loaded only when OTEL_EXPORTER_OTLP_ENDPOINT is set; it would triple the
  // bundle, so a bundle that traces needs it installed where it runs (the worker has it).
  // @opentelemetry/api itself stays inside: prom-client requires it when /metrics is on (NFN_HTTP_PORT).
  external: ["@opentelemetry/sdk-trace-base", "@opentelemetry/exporter-trace-otlp-http", "@opentelemetry/resources"],
  // CommonJS dependencies (ajv) call require() for Node built-ins; ESM has no require, so provide one.
  banner: { js: 'import{createRequire as __nfnCreateRequire}from"node:module";const require=__nfnCreateRequire(import.meta.url);' },
};

const root = fileURLToPath(new URL(".", import.meta.url));

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  register();
  const { buildFromArgs } = await import("./deploy/bundle/build.ts");
  try {
    await buildFromArgs(process.argv.slice(2), root, esbuildOptions);
  } catch (err) {
    console.error(`nfn build: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
