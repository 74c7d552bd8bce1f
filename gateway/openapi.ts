/**
 * OpenAPI 3.1 generated from what the deployed functions advertise in `$SRV.INFO`: the request and
 * response schemas that the runtime enforces, limits, auth, and an example request per function.
 */
import { ERROR_CODES } from "../runtime/errors.ts";
import type { FunctionRoute } from "./discovery.ts";
import { exampleFor } from "./schema-example.ts";
import { isRecord } from "../runtime/client/json.ts";

/** An OpenAPI document (a plain JSON object). */
export type OpenApiDocument = Record<string, unknown>;

const ERROR_SCHEMA = {
  type: "object",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "type", "message"],
      properties: {
        code: { type: "integer", enum: Object.keys(ERROR_CODES).map(Number) },
        type: { type: "string", enum: Object.values(ERROR_CODES) },
        message: { type: "string" },
        details: { type: "array", items: { type: "object" } },
      },
    },
  },
};

/** Builds the document for `routes`; `serverUrl` becomes the only server entry when given. */
export function buildOpenApi(routes: FunctionRoute[], serverUrl?: string): OpenApiDocument {
  const schemas: Record<string, unknown> = { Error: ERROR_SCHEMA };
  const paths: Record<string, unknown> = {};
  for (const route of routes) {
    const request = hoistDefs(route.requestSchema ?? {}, `${route.name}_request`, schemas);
    const response = hoistDefs(route.responseSchema ?? {}, `${route.name}_response`, schemas);
    const versions = [...new Set(route.instances.map((i) => i.version))].join(", ");
    const errorResponses: Record<string, unknown> = {};
    for (const code of errorCodesFor(route)) errorResponses[String(code)] = { $ref: `#/components/responses/E${code}` };
    paths[`/fn/${route.name}`] = {
      post: {
        operationId: route.name,
        summary: route.description || route.name,
        description: `Version ${versions}; ${route.instances.length} instance(s). Body limit ${route.maxPayload} bytes, timeout ${route.timeoutMs} ms. NATS subject \`${route.subject}\`.`,
        tags: ["functions"],
        parameters: [
          {
            name: "Idempotency-Key",
            in: "header",
            required: false,
            schema: { type: "string" },
            description: "Repeat-safe key for functions that honour it",
          },
          {
            name: "traceparent",
            in: "header",
            required: false,
            schema: { type: "string" },
            description: "W3C trace context, continued into the function",
          },
          {
            name: "Nfn-Timeout-Ms",
            in: "header",
            required: false,
            schema: { type: "integer", minimum: 1 },
            description: "Shorter deadline in ms",
          },
        ],
        ...(route.auth === "none" ? {} : { security: [{ bearer: route.auth === "token" ? [] : route.auth.split(" ") }] }),
        requestBody: {
          required: true,
          content: { "application/json": { schema: request, example: exampleFor(route.requestSchema) } },
        },
        responses: {
          "200": { description: "The function's reply", content: { "application/json": { schema: response } } },
          ...errorResponses,
        },
      },
    };
  }
  const responses: Record<string, unknown> = {};
  for (const [code, type] of Object.entries(ERROR_CODES)) {
    responses[`E${code}`] = { description: type, content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "nats-functions gateway",
      version: "1.0.0",
      description: "Generated live from the schemas the deployed functions advertise in $SRV.INFO.",
    },
    ...(serverUrl ? { servers: [{ url: serverUrl }] } : {}),
    paths,
    components: { schemas, responses, securitySchemes: { bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" } } },
  };
}

function errorCodesFor(route: FunctionRoute): number[] {
  const codes = [400, 404, 413, 415, 429, 500, 503, 504];
  if (route.auth !== "none") codes.push(401, 403);
  return codes.sort((a, b) => a - b);
}

/**
 * Moves a schema's `$defs` into components and points its `#/$defs/x` refs there: inside an OpenAPI
 * document a bare `#/...` would resolve against the document root. `$schema`/`$id` are dropped for
 * the same reason. Returns a `$ref` to the schema stored under `key`.
 */
export function hoistDefs(schema: unknown, key: string, into: Record<string, unknown>): unknown {
  const defs = isRecord(schema) && isRecord(schema.$defs) ? schema.$defs : {};
  const rewrite = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(rewrite);
    if (!isRecord(node)) return node;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === "$schema" || k === "$id" || k === "$defs") continue;
      out[k] = k === "$ref" && typeof v === "string" && v.startsWith("#/$defs/") ? `#/components/schemas/${key}_${v.slice(8)}` : rewrite(v);
    }
    return out;
  };
  for (const [name, def] of Object.entries(defs)) into[`${key}_${name}`] = rewrite(def);
  into[key] = rewrite(schema);
  return { $ref: `#/components/schemas/${key}` };
}
