/** `durable` of a definition: checked at load time, defaults applied. */
import type { DurableOptions } from "./types.ts";

/** Durable options with every default filled in. */
export interface ResolvedDurableOptions {
  leaseMs: number;
  pollMs: number;
  events: string[];
}

/** Defaults of DurableOptions. */
export const DURABLE_DEFAULTS = { leaseMs: 15_000, pollMs: 1_000 } as const;

/** Resolves `durable: true | {...}`; throws (naming the function) on a bad value. */
export function resolveDurableOptions(fn: string, value: boolean | DurableOptions): ResolvedDurableOptions {
  const given: DurableOptions = value === true ? {} : value === false ? {} : value;
  const resolved: ResolvedDurableOptions = {
    leaseMs: given.leaseMs ?? DURABLE_DEFAULTS.leaseMs,
    pollMs: given.pollMs ?? DURABLE_DEFAULTS.pollMs,
    events: [...(given.events ?? [])],
  };
  for (const key of ["leaseMs", "pollMs"] as const) {
    if (!Number.isInteger(resolved[key]) || resolved[key] < 1) throw new Error(`function ${fn}: durable.${key} must be a positive integer`);
  }
  if (resolved.leaseMs < 30) throw new Error(`function ${fn}: durable.leaseMs must be at least 30`);
  for (const type of resolved.events) {
    if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$/.test(type)) throw new Error(`function ${fn}: durable.events has an invalid event type`);
  }
  return resolved;
}
