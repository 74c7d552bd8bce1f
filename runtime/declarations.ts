/**
 * What a function declares it uses (calls, KV buckets, emitted events), checked at the point of
 * use: the NATS permissions are computed from these declarations, so an undeclared use must fail
 * loudly in development instead of being silently denied by the server in production.
 */
import type { FunctionSpec } from "./types.ts";

/** The declared uses of one function version. */
export interface DeclaredUses {
  calls: ReadonlySet<string>;
  kv: ReadonlySet<string>;
  /** Buckets it may read through a view: those of `views` and of `kv`. */
  views: ReadonlySet<string>;
  emits: ReadonlySet<string>;
}

const NAME = /^[A-Za-z0-9_-]{1,64}$/;
const EVENT_TYPE = /^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64}){0,7}$/;

// Shared through a global symbol: every bundle carries its own copy of the runtime, and the host's
// copy builds the contexts for definitions that a bundle's copy made.
const REGISTRY_KEY = Symbol.for("nats-functions.declared-uses");
const registry: Map<string, DeclaredUses> =
  ((globalThis as Record<symbol, unknown>)[REGISTRY_KEY] as Map<string, DeclaredUses> | undefined) ?? new Map<string, DeclaredUses>();
(globalThis as Record<symbol, unknown>)[REGISTRY_KEY] = registry;

/** Checks the declaration lists of `spec` (names, event types); throws with the field at fault. */
export function checkDeclarations(spec: Pick<FunctionSpec, "name" | "calls" | "kv" | "views" | "streams" | "emits">): void {
  const lists: Array<[string, unknown, RegExp]> = [
    ["calls", spec.calls, NAME],
    ["kv", spec.kv, NAME],
    ["views", spec.views, NAME],
    ["streams", spec.streams, NAME],
    ["emits", spec.emits, EVENT_TYPE],
  ];
  for (const [field, list, pattern] of lists) {
    if (list === undefined) continue;
    if (!Array.isArray(list)) throw new Error(`function ${spec.name}: ${field} must be a list of names`);
    for (const item of list) {
      if (typeof item !== "string" || !pattern.test(item)) {
        throw new Error(`function ${spec.name}: ${field} holds "${String(item).slice(0, 64)}", which is not a valid name`);
      }
    }
  }
}

/** Records what `spec` declares, for the checks below (keyed by name and version). */
export function recordDeclarations(spec: Pick<FunctionSpec, "name" | "version" | "calls" | "kv" | "views" | "emits" | "auth">): void {
  // A function that needs a caller may ask verify_token for the verdict.
  const calls = new Set(spec.calls ?? []);
  if (spec.auth) calls.add("verify_token");
  const kv = new Set(spec.kv ?? []);
  // A bucket a function may write it may also read through a view.
  const views = new Set([...(spec.views ?? []), ...kv]);
  registry.set(`${spec.name}@${spec.version}`, { calls, kv, views, emits: new Set(spec.emits ?? []) });
}

/** What `fn` declared, or undefined for a function not made by defineFunction in this process. */
export function declaredUses(fn: { name: string; version: string }): DeclaredUses | undefined {
  return registry.get(`${fn.name}@${fn.version}`);
}

const VERBS: Record<keyof DeclaredUses, string> = {
  calls: "calls",
  kv: "opens KV bucket",
  views: "reads KV bucket through a view",
  emits: "emits",
};

/**
 * Throws when `fn` uses `what` of `kind` without declaring it, naming the declaration to add. A plain
 * Error: it is a bug in the function, so the caller gets a generic 500 and the log says what to fix.
 */
export function assertDeclared(fn: { name: string; version: string }, kind: keyof DeclaredUses, what: string): void {
  const declared = declaredUses(fn);
  if (!declared || declared[kind].has(what)) return;
  const shown = what.slice(0, 64);
  const verb = VERBS[kind];
  const err = new Error(
    `${fn.name} ${verb} "${shown}" without declaring it: add "${shown}" to ${kind}: [...] in its defineFunction, then re-run nfn auth init`,
  );
  err.name = "UndeclaredUseError";
  throw err;
}
