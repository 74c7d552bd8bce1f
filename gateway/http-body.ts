/** Reading request bodies within a limit, and writing replies, on plain node:http (the invocation hot path). */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Msg } from "@nats-io/nats-core";
import { FunctionError, isErrorCode } from "../runtime/errors.ts";
import { SERVICE_ERROR } from "../runtime/headers.ts";
import { replyErrorCode } from "../runtime/client/index.ts";
import { SECURITY_HEADERS } from "./edge-policy.ts";

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
  if (code === undefined) return sendBytes(res, 200, msg.data, traceparent);
  const parsed = Number.parseInt(code, 10);
  // A code outside the contract (another kind of micro service) still maps to an HTTP error status.
  const status = isErrorCode(parsed) || (parsed >= 400 && parsed <= 599) ? parsed : 502;
  if (isJson(msg.data)) return sendBytes(res, status, msg.data, traceparent);
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
  const head = jsonHead(Buffer.byteLength(text), traceparent);
  // After refusing a body we did not read, the connection cannot be reused for the next request.
  if (close) head.push("connection", "close");
  res.writeHead(status, head);
  res.end(text);
  return status;
}

// What every JSON response of the invoke path carries, as the flat [name, value, ...] list that
// writeHead takes as is: no header object is built per response (the security headers included,
// which the invoke path does not set one by one).
const JSON_HEAD: readonly (string | number)[] = [...SECURITY_HEADERS.flat(), "content-type", JSON_TYPE];

function jsonHead(length: number, traceparent: string | undefined): (string | number)[] {
  const head = JSON_HEAD.slice();
  head.push("content-length", length);
  if (traceparent) head.push("traceparent", traceparent);
  return head;
}

// The function's reply bytes go out as they came, never parsed and re-encoded. (Passing them as a
// latin1 string so node:http joins them to the header block measured slower than the buffer.)
function sendBytes(res: ServerResponse, status: number, data: Uint8Array, traceparent: string): number {
  res.writeHead(status, jsonHead(data.length, traceparent));
  res.end(data);
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
