/** Reading request bodies within a limit, and turning NATS replies into HTTP statuses. */
import type { Msg } from "@nats-io/nats-core";
import { FunctionError, isErrorCode } from "../runtime/errors.ts";
import { SERVICE_ERROR, SERVICE_ERROR_CODE } from "../runtime/headers.ts";

/**
 * Reads the body, refusing with 413 as soon as it is known to be over `limit` bytes (from
 * Content-Length, or while streaming), so an oversized body never reaches NATS.
 */
export async function readBodyWithin(req: Request, limit: number, fn: string): Promise<Uint8Array> {
  const tooLarge = (size: string) => new FunctionError(413, `request body is ${size} bytes; ${fn} accepts at most ${limit}`);
  const declared = Number(req.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(String(declared));
  if (!req.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = req.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw tooLarge(`more than ${limit}`);
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** The HTTP status and JSON body for a reply: 200 with the body, or the error code with the error body. */
export function decodeReplyStatus(msg: Msg): { status: number; json: string } {
  const code = msg.headers?.get(SERVICE_ERROR_CODE);
  const text = new TextDecoder().decode(msg.data);
  if (!code) return { status: 200, json: text };
  const parsed = Number.parseInt(code, 10);
  // A code outside the contract (another kind of micro service) still maps to an HTTP error status.
  const status = isErrorCode(parsed) || (parsed >= 400 && parsed <= 599) ? parsed : 502;
  if (isJson(text)) return { status, json: text };
  const message = msg.headers?.get(SERVICE_ERROR) || "the function replied with an error";
  return { status, json: JSON.stringify({ error: { code: status, type: "UPSTREAM", message } }) };
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
