/** What stops a durable run short of its end: a suspension, a lost lease, a cancel, a changed journal. */
import type { Wake } from "./records.ts";

const BRAND = Symbol.for("nats-functions.DurableSignal");

/** Thrown through the handler to end the run; the runner recognises it by its brand. */
export class DurableSignal extends Error {
  readonly [BRAND] = true;
  constructor(
    readonly kind: "suspend" | "lease-lost" | "cancel",
    readonly wake?: Wake,
  ) {
    super(`durable run ${kind}`);
    this.name = "DurableSignal";
  }
}

/** True for a DurableSignal from any copy of the runtime (a handler that catches errors should rethrow these). */
export function isDurableSignal(value: unknown): value is DurableSignal {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/** The code under a running invocation changed: replay met another step than the journal holds. */
export class JournalMismatchError extends Error {
  constructor(n: number, expected: string, found: string) {
    super(
      `journal mismatch at step ${n}: the journal has "${expected.slice(0, 64)}", the code now runs "${found.slice(0, 64)}" ` +
        `(the function's code changed under a running invocation; cancel it with nfn runs cancel, or deploy the old version to finish it)`,
    );
    this.name = "JournalMismatchError";
  }
}
