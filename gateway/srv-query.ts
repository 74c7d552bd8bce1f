/** `$SRV` queries (ADR-32) across every instance, decoded defensively: replies are untrusted input. */
import { Empty, type NatsConnection } from "@nats-io/nats-core";

/** One function instance as `$SRV.INFO` describes it. */
export interface InstanceInfo {
  name: string;
  id: string;
  version: string;
  description: string;
  subject: string;
  metadata: Record<string, string>;
}

/** One function instance as `$SRV.STATS` reports it (nanoseconds, as on the wire). */
export interface InstanceStats {
  name: string;
  id: string;
  version: string;
  started: string;
  numRequests: number;
  numErrors: number;
  processingTimeNs: number;
  lastError: string;
  p50Ns: number;
  p99Ns: number;
  inFlight: number;
  rejected: number;
}

/** Sends `$SRV.<verb>[.<name>]` and collects the replies that arrive until none has come for `stallMs`. */
export async function querySrv(
  nc: NatsConnection,
  verb: "INFO" | "STATS",
  name?: string,
  maxWaitMs = 1500,
  stallMs = 200,
): Promise<unknown[]> {
  const subject = name ? `$SRV.${verb}.${name}` : `$SRV.${verb}`;
  const out: unknown[] = [];
  try {
    const replies = await nc.requestMany(subject, Empty, { strategy: "stall", maxWait: maxWaitMs, stall: stallMs });
    for await (const m of replies) {
      try {
        out.push(m.json());
      } catch {
        // a reply that is not JSON is not a micro service; skip it
      }
    }
  } catch {
    // no service at all answers: an empty list, not an error
  }
  return out;
}

/** The instances in INFO replies; one entry per service instance and endpoint. */
export function parseInfos(replies: unknown[]): InstanceInfo[] {
  const out: InstanceInfo[] = [];
  for (const r of replies) {
    if (!isRecord(r) || typeof r.name !== "string" || typeof r.id !== "string") continue;
    for (const ep of Array.isArray(r.endpoints) ? r.endpoints : []) {
      if (!isRecord(ep) || typeof ep.subject !== "string") continue;
      out.push({
        name: r.name,
        id: r.id,
        version: str(r.version),
        description: str(r.description),
        subject: ep.subject,
        metadata: stringRecord(ep.metadata),
      });
    }
  }
  return out;
}

/** The instances in STATS replies (the first endpoint of each: a function has exactly one). */
export function parseStats(replies: unknown[]): InstanceStats[] {
  const out: InstanceStats[] = [];
  for (const r of replies) {
    if (!isRecord(r) || typeof r.name !== "string" || typeof r.id !== "string") continue;
    const ep = Array.isArray(r.endpoints) ? r.endpoints.find(isRecord) : undefined;
    if (!ep) continue;
    const data = isRecord(ep.data) ? ep.data : {};
    out.push({
      name: r.name,
      id: r.id,
      version: str(r.version),
      started: str(r.started),
      numRequests: num(ep.num_requests),
      numErrors: num(ep.num_errors),
      processingTimeNs: num(ep.processing_time),
      lastError: str(ep.last_error),
      p50Ns: num(data.p50_ns),
      p99Ns: num(data.p99_ns),
      inFlight: num(data.in_flight),
      rejected: num(data.rejected),
    });
  }
  return out;
}

/** True for a plain JSON object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function str(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function num(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

function stringRecord(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (isRecord(value)) for (const [k, v] of Object.entries(value)) if (typeof v === "string") out[k] = v;
  return out;
}
