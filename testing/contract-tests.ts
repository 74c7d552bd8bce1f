/**
 * `contractTests(fn)`: node:test tests that hold a function to its own contract: its schemas compile
 * as JSON Schema 2020-12, INFO advertises exactly them, every request example and generated valid
 * payload gets a reply that matches the response schema, and generated invalid payloads get 400
 * with JSON Pointer paths.
 */
import assert from "node:assert/strict";
import { basename, dirname, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import type { FunctionDefinition } from "../runtime/define-function.ts";
import { isFunctionDefinition } from "../runtime/define-function.ts";
import { ERROR_CODES, isErrorCode } from "../runtime/errors.ts";
import { loadFunctionModule } from "../runtime/loader.ts";
import { compileValidator } from "../runtime/validation.ts";
import { invalidPayloads, isJsonPointer, validPayloads } from "./payload-variants.ts";
import { rawInvoke } from "./raw-invoke.ts";
import { type TestSystem, startTestSystem } from "./test-system.ts";

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;

/** Options of `contractTests`. */
export interface ContractOptions {
  /** A running system to test against (not stopped here), or a function returning one; default: a fresh system serving the function. */
  system?: TestSystem | (() => Promise<TestSystem>);
  /** A functions directory to serve next to the function (what it calls); ignored with `system`. */
  dir?: string;
  /** More definitions to serve next to it (what it calls); ignored with `system`. */
  functions?: FunctionDefinition[];
  /** Runs once before the requests, e.g. to put the products an example orders. */
  setup?(system: TestSystem): Promise<void>;
  /** Adjusts each valid payload before it is sent (a fresh token, the id of an order made in `setup`). */
  prepare?(input: unknown, system: TestSystem): unknown;
  /** The caller's token claims for a function that declares `auth` (default: subject `contract-test`, its declared scopes). */
  caller?: { sub: string; scopes?: string[] };
  /** Examples to send besides the request schema's own `examples`. */
  examples?: unknown[];
}

type Loaded = { def: FunctionDefinition; system: TestSystem; token: string | undefined; ownSystem: boolean };

/** Registers the contract tests of `fn` (a definition, a function module, or a function folder). */
export function contractTests(fn: FunctionDefinition | string, options: ContractOptions = {}): void {
  const label = typeof fn === "string" ? nameFromPath(fn) : fn.name;
  describe(`${label}: contract`, () => {
    let ctx: Loaded | undefined;
    const loaded = (): Loaded => {
      assert.ok(ctx, "the test system did not start (see the before hook's error)");
      return ctx;
    };
    before(async () => {
      const def = typeof fn === "string" ? await loadFunctionModule(entryOf(fn)) : fn;
      assert.ok(isFunctionDefinition(def), `${label} is not a function definition`);
      const given = typeof options.system === "function" ? await options.system() : options.system;
      const system = given ?? (await startTestSystem({ dir: options.dir, functions: [...(options.functions ?? []), def] }));
      ctx = { def, system, ownSystem: given === undefined, token: undefined };
      if (def.auth) {
        const caller = options.caller ?? { sub: "contract-test", scopes: def.auth.scopes ?? [] };
        ctx.token = await system.token(caller.sub, caller.scopes ?? []);
      }
      await options.setup?.(system);
    });
    after(async () => {
      if (ctx?.ownSystem) await ctx.system.stop();
    });

    it("request and response schemas compile as JSON Schema 2020-12", () => {
      const { def } = loaded();
      const ajv = addFormats(new Ajv2020({ strict: true, allowUnionTypes: true }));
      for (const [which, schema] of [
        ["request", def.request],
        ["response", def.response],
      ] as const) {
        assert.doesNotThrow(() => ajv.compile(schema), `${def.name}: the ${which} schema does not compile`);
      }
    });

    it("INFO advertises exactly the request and response schemas", async () => {
      const { def, system } = loaded();
      if (def.endpoint === false) return; // event-only: nothing is advertised
      const info = await system.nc.request(`$SRV.INFO.${def.name}`, "", { timeout: 5000 });
      const body = info.json<{ endpoints?: { metadata?: Record<string, string> }[] }>();
      const metadata = body.endpoints?.[0]?.metadata ?? {};
      assert.deepEqual(JSON.parse(metadata.request_schema ?? "null"), def.request, "request_schema");
      assert.deepEqual(JSON.parse(metadata.response_schema ?? "null"), def.response, "response_schema");
    });

    it("answers every request example with a reply that matches the response schema", async (t) => {
      const { def, system, token } = loaded();
      const examples = [...schemaExamples(def.request), ...(options.examples ?? [])];
      if (def.endpoint === false) return t.skip("event-only function: no request endpoint");
      if (examples.length === 0) return t.skip("the request schema has no examples");
      const validRequest = compileValidator(def.request);
      const validReply = compileValidator(def.response);
      for (const [i, example] of examples.entries()) {
        assert.equal(validRequest(example), undefined, `example ${i} breaks the request schema: ${preview(example)}`);
        const input = (await options.prepare?.(example, system)) ?? example;
        const reply = await rawInvoke(system, def.name, input, token);
        assert.equal(reply.code, undefined, `example ${i} ${preview(input)} got error ${reply.code}: ${preview(reply.body)}`);
        const problems = validReply(reply.body);
        assert.equal(
          problems,
          undefined,
          `example ${i}: the reply breaks the response schema: ${preview(problems)} in ${preview(reply.body)}`,
        );
      }
    });

    it("answers generated valid payloads with a reply that matches the response schema, or a business error", async (t) => {
      const { def, system, token } = loaded();
      if (def.endpoint === false) return t.skip("event-only function: no request endpoint");
      const validReply = compileValidator(def.response);
      const payloads = validPayloads(def.request);
      assert.ok(payloads.length > 0, "could not generate a valid payload from the request schema: add examples to it");
      for (const payload of payloads) {
        const input = (await options.prepare?.(payload, system)) ?? payload;
        const reply = await rawInvoke(system, def.name, input, token);
        if (reply.code === undefined) {
          const problems = validReply(reply.body);
          assert.equal(
            problems,
            undefined,
            `${preview(input)}: the reply breaks the response schema: ${preview(problems)} in ${preview(reply.body)}`,
          );
          continue;
        }
        // State the generator cannot know (an unknown order, no stock) may refuse it, but never as a bad request or a bug.
        assert.ok(reply.code !== 400 && reply.code !== 500, `${preview(input)} is valid but got ${reply.code}: ${preview(reply.body)}`);
        assertErrorBody(reply.body, reply.code);
      }
    });

    it("rejects generated invalid payloads with 400 and the JSON Pointer of the problem", async (t) => {
      const { def, system, token } = loaded();
      if (def.endpoint === false) return t.skip("event-only function: no request endpoint");
      const base = validPayloads(def.request)[0] ?? schemaExamples(def.request)[0];
      assert.ok(base !== undefined, "no valid payload to break: add examples to the request schema");
      const cases = [...invalidPayloads(def.request, base)];
      for (const c of cases) {
        const reply = await rawInvoke(system, def.name, c.payload, token);
        assert.equal(reply.code, 400, `${c.what}: expected 400, got ${reply.code ?? "a reply"}: ${preview(reply.body)}`);
        const details = assertErrorBody(reply.body, 400);
        assert.ok(Array.isArray(details) && details.length > 0, `${c.what}: a 400 without details`);
        for (const d of details)
          assert.ok(isJsonPointer((d as { path?: unknown }).path), `${c.what}: ${preview(d)} has no JSON Pointer path`);
        assert.ok(
          details.some((d) => (d as { path?: unknown }).path === c.path),
          `${c.what}: details ${preview(details)} do not name ${c.path || '""'}`,
        );
      }
      const notJson = await rawInvoke(system, def.name, new TextEncoder().encode("{not json"), token);
      assert.equal(notJson.code, 400, "a body that is not JSON");
    });
  });
}

/** The `examples` of a request schema (an array at its root), or none. */
export function schemaExamples(schema: object): unknown[] {
  const examples = (schema as { examples?: unknown }).examples;
  return Array.isArray(examples) ? examples : [];
}

// The error body of the contract: {"error": {code, type, message, details?}} with a matching type.
function assertErrorBody(body: unknown, code: number): unknown[] | undefined {
  const error = (body as { error?: Record<string, unknown> } | undefined)?.error;
  assert.ok(error && typeof error === "object", `error ${code} without an {"error": ...} body: ${preview(body)}`);
  assert.equal(error.code, code, "error.code matches Nats-Service-Error-Code");
  assert.ok(isErrorCode(code), `${code} is not a contract error code`);
  assert.equal(error.type, ERROR_CODES[code], "error.type matches the code");
  assert.equal(typeof error.message, "string", "error.message");
  return Array.isArray(error.details) ? error.details : undefined;
}

function preview(value: unknown): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 300 ? `${text.slice(0, 300)}…` : text;
}

function entryOf(path: string): string {
  return path.endsWith(".ts") || path.endsWith(".js") || path.endsWith(".mjs") ? resolve(path) : resolve(path, "index.ts");
}

function nameFromPath(path: string): string {
  const entry = entryOf(path);
  return /^index\.(ts|js|mjs)$/.test(basename(entry)) ? basename(dirname(entry)) : basename(entry).replace(/\.[^.]+$/, "");
}
