/** Finding a function by name through `$SRV.INFO`: its subject and advertised schemas. */
import type { NatsConnection } from "@nats-io/nats-core";
import { CliError } from "./errors.ts";
import { EXIT } from "./exit-codes.ts";
import { type FunctionContract, discoverInfo, findFunction } from "../../runtime/client/index.ts";

/** What a caller needs to send a request to a function: the client's contract. */
export type ResolvedFunction = FunctionContract;

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
  const found = await findFunction(nc, fn, { timeoutMs });
  if (found) return found;
  // Something answered but advertised no endpoint, or nothing answered at all.
  const answered = (await discoverInfo(nc, { name: fn, timeoutMs: Math.min(timeoutMs, 500), stallMs: 0 })).length > 0;
  if (answered) throw new CliError(EXIT.NO_RESPONDERS, `${fn} answers discovery but advertises no endpoint to send requests to`);
  throw notRunning(fn, servers);
}
