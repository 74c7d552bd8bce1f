/** Reading request bodies within a limit, and writing replies, on plain node:http (the invocation hot path). */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Msg } from "@nats-io/nats-core";
import { FunctionError, isErrorCode } from "../runtime/errors.ts";
import { SERVICE_ERROR } from "../runtime/headers.ts";
import { replyErrorCode } from "../runtime/client/index.ts";

const JSON_TYPE = "application/json; charset=utf-8";
const EMPTY = Buffer.alloc(0);

/**
 * Reads the body, refusing with 413 as soon as it is known to be over `limit` bytes (from
 * Content-Length, or while streaming), so an oversized body never reaches NATS.
 */
export function readBodyWithin(req: IncomingMessage, limit: number, fn: string): Promise<Buffer> {
  const tooLarge = (size: string) => new FunctionError(413, `request body is ${size} bytes; ${fn} accepts at most ${limit}`);
  const declared = Number(req.headers["content-length"]);
  if (declared > limit) return Promise.reject(tooLarge(String(declared)));
  return new Promise((resolve, reject) => {
    let first: Buffer | undefined;
    let chunks: Buffer[] | undefined;
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        // Stop reading; the connection is closed after the 413 so the rest is never buffered.
        req.pause();
        reject(tooLarge(`more than ${limit}`));
        return;
      }
      if (first === undefined) first = chunk;
      else (chunks ??= [first]).push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks ? Buffer.concat(chunks, size) : (first ?? EMPTY));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new FunctionError(400, "the request body could not be read", undefined, { cause: err }));
    };
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
  });
}

/** Writes a reply: 200 with the body as received, or the error code with the error body. */
export function sendReply(res: ServerResponse, msg: Msg, traceparent: string): number {
  const code = replyErrorCode(msg);
  if (code === undefined) {
    res.writeHead(200, { "content-type": JSON_TYPE, "content-length": msg.data.length, traceparent });
    res.end(msg.data);
    return 200;
  }
  const parsed = Number.parseInt(code, 10);
  // A code outside the contract (another kind of micro service) still maps to an HTTP error status.
  const status = isErrorCode(parsed) || (parsed >= 400 && parsed <= 599) ? parsed : 502;
  if (isJson(msg.data)) {
    res.writeHead(status, { "content-type": JSON_TYPE, "content-length": msg.data.length, traceparent });
    res.end(msg.data);
    return status;
  }
  const message = msg.headers?.get(SERVICE_ERROR) || "the function replied with an error";
  return sendJson(res, status, { error: { code: status, type: "UPSTREAM", message } }, traceparent);
}

/** Writes an error as the contract's JSON body with its status. */
export function sendError(res: ServerResponse, err: FunctionError, traceparent?: string, close = false): number {
  return sendJson(res, err.code, err.toBody(), traceparent, close);
}

/** Writes `body` as JSON with `status`. */
export function sendJson(res: ServerResponse, status: number, body: unknown, traceparent?: string, close = false): number {
  const text = JSON.stringify(body);
  const headers: Record<string, string | number> = { "content-type": JSON_TYPE, "content-length": Buffer.byteLength(text) };
  if (traceparent) headers.traceparent = traceparent;
  // After refusing a body we did not read, the connection cannot be reused for the next request.
  if (close) headers.connection = "close";
  res.writeHead(status, headers);
  res.end(text);
  return status;
}

function isJson(data: Uint8Array): boolean {
  try {
    JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("utf8"));
    return true;
  } catch {
    return false;
  }
}
