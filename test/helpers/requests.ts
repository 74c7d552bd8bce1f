/** Small request helpers for tests that speak the wire contract directly, as any NATS client would. */
import type { Msg, NatsConnection } from "@nats-io/nats-core";
import { headers as natsHeaders } from "@nats-io/nats-core";

/** A reply decoded: the error code (undefined on success), the error header and the JSON body. */
export interface Reply {
  code: number | undefined;
  errorHeader: string | undefined;
  body: unknown;
  msg: Msg;
}

/** Sends `body` (string, bytes or a value to JSON-encode) to `subject` and decodes the reply. */
export async function send(
  nc: NatsConnection,
  subject: string,
  body: unknown,
  options: { headers?: Record<string, string>; timeout?: number } = {},
): Promise<Reply> {
  const payload = typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body);
  const h = natsHeaders();
  for (const [k, v] of Object.entries(options.headers ?? {})) h.set(k, v);
  const msg = await nc.request(subject, payload, { timeout: options.timeout ?? 5000, headers: h });
  const codeText = msg.headers?.get("Nats-Service-Error-Code");
  return {
    code: codeText ? Number(codeText) : undefined,
    errorHeader: msg.headers?.get("Nats-Service-Error") || undefined,
    body: msg.data.length > 0 ? JSON.parse(msg.string()) : undefined,
    msg,
  };
}
