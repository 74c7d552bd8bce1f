/** `durable` of a definition: checked at load time, defaults applied. */
import type { DurableOptions } from "./types.ts";

/** Durable options with every default filled in. */
export interface ResolvedDurableOptions {
  leaseMs: number;
  pollMs: number;
  events: string[];
  invocationId?: DurableOptions["invocationId"];
  transientErrors: "fail" | "resume";
}

/** Defaults of DurableOptions (NFN_DURABLE_LEASE_MS and NFN_DURABLE_POLL_MS replace them for definitions that set none). */
export const DURABLE_DEFAULTS = { leaseMs: 15_000, pollMs: 1_000 } as const;

/** Resolves `durable: true | {...}`; throws (naming the function or the variable) on a bad value. */
export function resolveDurableOptions(
  fn: string,
  value: boolean | DurableOptions,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedDurableOptions {
  const given: DurableOptions = value === true ? {} : value === false ? {} : value;
  const resolved: ResolvedDurableOptions = {
    leaseMs: given.leaseMs ?? fromEnv(env, "NFN_DURABLE_LEASE_MS") ?? DURABLE_DEFAULTS.leaseMs,
    pollMs: given.pollMs ?? fromEnv(env, "NFN_DURABLE_POLL_MS") ?? DURABLE_DEFAULTS.pollMs,
    events: [...(given.events ?? [])],
    transientErrors: given.transientErrors ?? "fail",
  };
  if (given.invocationId !== undefined) {
    if (typeof given.invocationId !== "function") throw new Error(`function ${fn}: durable.invocationId must be a function`);
    resolved.invocationId = given.invocationId;
  }
  for (const key of ["leaseMs", "pollMs"] as const) {
    if (!Number.isInteger(resolved[key]) || resolved[key] < 1) throw new Error(`function ${fn}: durable.${key} must be a positive integer`);
  }
  if (resolved.leaseMs < 30) throw new Error(`function ${fn}: durable.leaseMs must be at least 30`);
  if (resolved.transientErrors !== "fail" && resolved.transientErrors !== "resume")
    throw new Error(`function ${fn}: durable.transientErrors must be "fail" or "resume"`);
  for (const type of resolved.events) {
    if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$/.test(type)) throw new Error(`function ${fn}: durable.events has an invalid event type`);
  }
  return resolved;
}

// An operator's setting: a bad value fails at start with the variable's name, never silently.
function fromEnv(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const text = env[name];
  if (text === undefined || text === "") return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name}=${text.slice(0, 64)} must be a positive integer (milliseconds)`);
  return n;
}
