/** The direct side of `npm run bench:gateway`: C calls in flight over NATS with the project's client, in a closed loop. */
import type { NatsConnection } from "@nats-io/nats-core";
import { replyErrorCode, requestWithRetry } from "../runtime/client/index.ts";

/** What one run measured: req/s, latency percentiles in ms, errors, and this process's CPU per request in µs. */
export interface DirectResult {
  rps: number;
  p50: number;
  p99: number;
  max: number;
  errors: number;
  clientUs: number;
}

/** Calls `subject` with `body`, `inFlight` at a time, for `seconds`. */
export async function directLoad(
  nc: NatsConnection,
  subject: string,
  body: string,
  inFlight: number,
  seconds: number,
): Promise<DirectResult> {
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        const reply = await requestWithRetry(nc, { subject, fn: subject, body, deadline: Date.now() + 5500 });
        if (replyErrorCode(reply)) errors++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - t0);
    }
  };
  const started = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const elapsed = performance.now() - started;
  const used = process.cpuUsage(cpu);
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.ceil(q * latencies.length) - 1)] ?? 0;
  return {
    rps: latencies.length / (elapsed / 1000),
    p50: at(0.5),
    p99: at(0.99),
    max: at(1),
    errors,
    clientUs: latencies.length > 0 ? (used.user + used.system) / latencies.length : 0,
  };
}
