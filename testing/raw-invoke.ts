/** One request as a contract test sees it: the error code header (none on success) and the JSON body. */
import { headers as natsHeaders } from "@nats-io/nats-core";
import { subjectFor } from "../runtime/config.ts";
import { AUTHORIZATION, SERVICE_ERROR_CODE } from "../runtime/headers.ts";
import type { TestSystem } from "./test-system.ts";

/** A reply: `code` from `Nats-Service-Error-Code` (undefined on success) and the parsed body. */
export interface RawReply {
  code: number | undefined;
  body: unknown;
}

/** Sends `input` JSON-encoded (bytes as they are) to `fn` with an optional bearer token. */
export async function rawInvoke(system: TestSystem, fn: string, input: unknown, token?: string): Promise<RawReply> {
  const h = natsHeaders();
  if (token !== undefined) h.set(AUTHORIZATION, `Bearer ${token}`);
  const body = input instanceof Uint8Array ? input : JSON.stringify(input);
  const msg = await system.nc.request(subjectFor(system.host.config, fn), body, { timeout: 15_000, headers: h });
  const code = msg.headers?.get(SERVICE_ERROR_CODE);
  let parsed: unknown;
  try {
    parsed = msg.data.length > 0 ? JSON.parse(new TextDecoder().decode(msg.data)) : undefined;
  } catch {
    parsed = `(not JSON) ${new TextDecoder().decode(msg.data).slice(0, 200)}`;
  }
  return { code: code ? Number(code) : undefined, body: parsed };
}
