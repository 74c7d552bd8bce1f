/**
 * TEST-ONLY fault hook: with NFN_CRASH_AT set to one of these points, create_order kills its own
 * process there (exit code 137, like SIGKILL), so tests can prove that recovery finishes the order.
 */

/** Where a crash can be injected. */
export type CrashPoint = "after_reserve" | "after_pay" | "before_commit";

/** Exits the process at `point` when NFN_CRASH_AT asks for it; does nothing otherwise. */
export function crashPoint(point: CrashPoint): void {
  if (process.env.NFN_CRASH_AT === point) {
    process.stderr.write(`NFN_CRASH_AT=${point}: exiting with 137 (test-only fault injection)\n`);
    process.exit(137);
  }
}
