/** `defineFunction`: the public way to declare a function, checked when the module loads. */
import type { FunctionLimits, FunctionSpec, Visibility } from "./types.ts";
import { inlineSharedRefs } from "./schema.ts";
import { resolveDurableOptions } from "./durable/options.ts";
import { checkDeclarations, recordDeclarations } from "./declarations.ts";

/** Limits a function gets when it does not set them. */
export const DEFAULT_LIMITS: FunctionLimits = { maxPayload: 65_536, maxInFlight: 256, timeoutMs: 5_000 };

const BRAND = Symbol.for("nats-functions.FunctionDefinition");
/** What a function name may be: it becomes a subject token, a service name and a file name. */
export const FUNCTION_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
// semver 2.0.0, as ADR-32 requires for the service version
const SEMVER_PATTERN =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** A checked function: the spec with defaults applied and self-contained schemas. */
export interface FunctionDefinition<I = unknown, O = unknown> extends FunctionSpec<I, O> {
  readonly limits: FunctionLimits;
  readonly visibility: Visibility;
  readonly request: object;
  readonly response: object;
  readonly [BRAND]: true;
}

/**
 * Declares a function. Throws at load time when the name, version, limits or trigger are invalid,
 * so a bad deploy fails before it serves anything.
 */
export function defineFunction<I = unknown, O = unknown>(spec: FunctionSpec<I, O>): FunctionDefinition<I, O> {
  if (!FUNCTION_NAME_PATTERN.test(spec.name)) {
    throw new Error(`function name "${spec.name}" must be 1-64 letters, digits, "_" or "-"`);
  }
  if (!SEMVER_PATTERN.test(spec.version)) {
    throw new Error(`function ${spec.name}: version "${spec.version}" is not semantic (like 1.2.0)`);
  }
  const limits = { ...DEFAULT_LIMITS, ...spec.limits };
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`function ${spec.name}: limits.${key} must be a positive integer`);
  }
  if (spec.endpoint === false && !spec.trigger) {
    throw new Error(`function ${spec.name}: endpoint is false and there is no trigger, so nothing would run it`);
  }
  if (spec.trigger && (spec.trigger.events.length === 0 || typeof spec.onEvent !== "function")) {
    throw new Error(`function ${spec.name}: a trigger needs at least one event type and an onEvent handler`);
  }
  if (spec.visibility !== undefined && spec.visibility !== "public" && spec.visibility !== "internal") {
    throw new Error(`function ${spec.name}: visibility must be "public" or "internal"`);
  }
  if (spec.durable !== undefined && spec.durable !== false) resolveDurableOptions(spec.name, spec.durable);
  checkDeclarations(spec);
  recordDeclarations(spec);
  const shared = spec.sharedSchemas ?? [];
  return Object.freeze({
    ...spec,
    limits,
    visibility: spec.visibility ?? "public",
    request: inlineSharedRefs(spec.request, shared),
    response: inlineSharedRefs(spec.response, shared),
    [BRAND]: true as const,
  });
}

/** True when `value` is a FunctionDefinition made by any copy of the runtime. */
export function isFunctionDefinition(value: unknown): value is FunctionDefinition {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}
