/**
 * This runtime's functions as `$SRV.INFO` shows them: which services are ours (service metadata
 * `runtime`), which are public (endpoint metadata `visibility`), and the contract each advertises.
 */
import type { NatsConnection } from "@nats-io/nats-core";
import { type InfoEndpoint, type InfoReply, discoverInfo } from "./discovery.ts";
import { isRecord } from "./json.ts";

/** The service metadata value `runtime` that every function of this runtime advertises. */
export const RUNTIME_NAME = "nats-functions";

/** What a caller needs to send a request to a function and check it first. */
export interface FunctionContract {
  name: string;
  /** Highest version among the instances (there may be more during a rollout). */
  version: string;
  description: string;
  subject: string;
  /** The parsed `request_schema` of the endpoint metadata, when the service advertises one. */
  requestSchema: Record<string, unknown> | undefined;
  responseSchema: Record<string, unknown> | undefined;
  /** Endpoint metadata of the newest instance. */
  metadata: Record<string, string>;
  instances: InfoReply[];
}

/** The endpoint of a function: the one named like the service (ours have exactly one), else the first. */
export function functionEndpoint(info: InfoReply): InfoEndpoint | undefined {
  return info.endpoints.find((e) => e.name === info.name) ?? info.endpoints[0];
}

/** True for an instance of this runtime whose function is public: the only ones served to outside callers. */
export function isPublicFunction(info: InfoReply): boolean {
  // Absent visibility is not public: only what the runtime itself declares public leaves the system.
  return info.metadata.runtime === RUNTIME_NAME && functionEndpoint(info)?.metadata.visibility === "public";
}

/** Parses a schema carried as a string in endpoint metadata; undefined when absent or not an object. */
export function parseSchema(text: string | undefined): Record<string, unknown> | undefined {
  if (!text) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return isRecord(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Compares two semantic versions by their numeric core (enough to pick the newest of a rollout). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/).map(Number);
  const pb = b.split(/[.+-]/).map(Number);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] || 0) - (pb[i] || 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Groups INFO replies by service name into contracts (the newest instance's subject and schemas). */
export function contractsOf(infos: InfoReply[]): Map<string, FunctionContract> {
  const byName = new Map<string, InfoReply[]>();
  for (const info of infos) {
    const list = byName.get(info.name);
    if (list) list.push(info);
    else byName.set(info.name, [info]);
  }
  const out = new Map<string, FunctionContract>();
  for (const [name, instances] of byName) {
    const newest = instances.reduce((a, b) => (compareVersions(b.version, a.version) > 0 ? b : a));
    const endpoint = functionEndpoint(newest);
    if (!endpoint?.subject) continue;
    out.set(name, {
      name,
      version: newest.version,
      description: newest.description,
      subject: endpoint.subject,
      requestSchema: parseSchema(endpoint.metadata.request_schema),
      responseSchema: parseSchema(endpoint.metadata.response_schema),
      metadata: endpoint.metadata,
      instances,
    });
  }
  return out;
}

/** Options of `findFunction`. */
export interface FindOptions {
  timeoutMs: number;
  /** Wait this long after a reply for more instances; 0 (default) returns at the first. */
  stallMs?: number;
  /** Only public functions of this runtime (what an outside caller may reach). */
  publicOnly?: boolean;
}

/** Asks `$SRV.INFO.<name>` for one function's contract; undefined when no instance (or none that qualifies) answers. */
export async function findFunction(nc: NatsConnection, name: string, options: FindOptions): Promise<FunctionContract | undefined> {
  const infos = await discoverInfo(nc, { name, timeoutMs: options.timeoutMs, stallMs: options.stallMs ?? 0 });
  return contractsOf(options.publicOnly ? infos.filter(isPublicFunction) : infos).get(name);
}
