/** How often create_order's recovery runs and how old a stuck order must be, from the environment. */

/** Recovery timing. */
export interface RecoverySettings {
  /** NFN_ORDER_RECOVERY_EVERY_MS: pause between passes. Default 15 s. */
  everyMs: number;
  /** NFN_ORDER_RECOVERY_GRACE_MS: an order untouched this long is taken over. Default 30 s (longer than create_order's 10 s timeout). */
  graceMs: number;
}

/** Reads the settings; a bad value fails at load time with the variable's name. */
export function recoverySettings(env: NodeJS.ProcessEnv): RecoverySettings {
  return {
    everyMs: positive(env.NFN_ORDER_RECOVERY_EVERY_MS, 15_000, "NFN_ORDER_RECOVERY_EVERY_MS"),
    graceMs: positive(env.NFN_ORDER_RECOVERY_GRACE_MS, 30_000, "NFN_ORDER_RECOVERY_GRACE_MS"),
  };
}

function positive(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === "") return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name}=${value} must be a positive integer (milliseconds)`);
  return n;
}
