/** Finding a function by name through `$SRV.INFO`: its subject and advertised schemas. */
import type { NatsConnection } from "@nats-io/nats-core";
import { CliError } from "./errors.ts";
import { EXIT } from "./exit-codes.ts";
import { type InfoReply, discoverInfo } from "./discovery.ts";

/** What a caller needs to send a request to a function. */
export interface ResolvedFunction {
  name: string;
  subject: string;
  /** The parsed `request_schema` of the endpoint metadata, when the service advertises one. */
  requestSchema: object | undefined;
  responseSchema: object | undefined;
  instances: InfoReply[];
}

/** Parses a schema carried as a string in endpoint metadata; undefined when absent or not an object. */
export function parseSchema(text: string | undefined): object | undefined {
  if (!text) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The "nothing answered" error, with what to check. */
export function notRunning(fn: string, servers: string[]): CliError {
  return new CliError(
    EXIT.NO_RESPONDERS,
    `no responders for ${fn}: is \`nfn serve\` running against ${servers.join(",")}? (\`npx nfn ls\` lists what is running)`,
  );
}

/** The line a read verb prints when no service at all answered discovery. */
export function noServicesLine(servers: string[]): string {
  return `no services answered on ${servers.join(",")}: start some with \`npx nfn serve\`\n`;
}

/** Asks INFO for `fn`; exits 3 when no instance answers. */
export async function resolveFunction(nc: NatsConnection, fn: string, timeoutMs: number, servers: string[]): Promise<ResolvedFunction> {
  // One instance is enough to learn the subject and schema, so do not wait out the 300 ms quiet time.
  const instances = await discoverInfo(nc, { name: fn, timeoutMs, stallMs: 0 });
  const first = instances[0];
  if (!first) throw notRunning(fn, servers);
  // ADR-32 allows several endpoints; ours have one named like the service, so prefer that.
  const endpoint = first.endpoints.find((e) => e.name === fn) ?? first.endpoints[0];
  if (!endpoint?.subject) throw new CliError(EXIT.NO_RESPONDERS, `${fn} answers discovery but advertises no endpoint to send requests to`);
  return {
    name: fn,
    subject: endpoint.subject,
    requestSchema: parseSchema(endpoint.metadata.request_schema),
    responseSchema: parseSchema(endpoint.metadata.response_schema),
    instances,
  };
}
