/**
 * TEST-ONLY fault hook: with NFN_CRASH_AT set to one of these points, create_order kills its own
 * process there with SIGKILL (no cleanup, no reply), so tests can prove that another instance
 * takes the invocation over once its lease expires and finishes the order.
 */

/** Step boundaries of create_order where a crash can be injected (after_pay and before_commit are the same boundary). */
export const CRASH_POINTS = ["before_place", "after_place", "after_reserve", "after_pay", "before_commit", "after_commit"] as const;

/** Where a crash can be injected. */
export type CrashPoint = (typeof CRASH_POINTS)[number];

/** Kills the process at `point` when NFN_CRASH_AT asks for it; does nothing otherwise. */
export function crashPoint(point: CrashPoint): void {
  if (process.env.NFN_CRASH_AT === point) {
    process.stderr.write(`NFN_CRASH_AT=${point}: SIGKILL (test-only fault injection)\n`);
    process.kill(process.pid, "SIGKILL");
  }
}
