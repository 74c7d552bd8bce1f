/** The worker's own series on the process's `/metrics`: releases it refused, by function and reason. */
import { Counter } from "prom-client";
import { registry } from "../../runtime/ops/metrics.ts";
import type { RefusalReason } from "./release-check.ts";

let refused: Counter | undefined;

/** Counts one refused release. */
export function countRefusedRelease(fn: string, reason: RefusalReason): void {
  refused ??= new Counter({
    name: "nfn_worker_releases_refused_total",
    help: "Releases a worker refused to run (unsigned, untrusted signer, bad signature, bytes mismatch, bad name)",
    labelNames: ["function", "reason"],
    registers: [registry],
  });
  // The label is bounded: a name that is not a function name is counted under one value.
  refused.inc({ function: /^[A-Za-z0-9_-]{1,64}$/.test(fn) ? fn : "(invalid)", reason });
}
