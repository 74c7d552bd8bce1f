/** Request payloads from the command line: JSON text, `@file`, or `-` for stdin. */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { usageError } from "./errors.ts";
import type { CliIo } from "./io.ts";

/** The payload text and its parsed value; `{}` when no payload is given. */
export async function readPayload(arg: string | undefined, io: CliIo): Promise<{ text: string; value: unknown }> {
  let text: string;
  let from: string;
  if (arg === undefined) {
    text = "{}";
    from = "the default payload";
  } else if (arg === "-") {
    text = await io.readStdin();
    from = "stdin";
  } else if (arg.startsWith("@")) {
    const file = resolve(io.cwd, arg.slice(1));
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      throw usageError(`cannot read the payload file ${arg.slice(1)}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    from = arg.slice(1);
  } else {
    text = arg;
    from = "the payload";
  }
  try {
    return { text, value: JSON.parse(text) };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw usageError(
      `${from} is not JSON (${reason}): quote it for the shell, e.g. '{"items":[{"sku":"AOVE-PICUAL-500ML","quantity":1}]}'`,
    );
  }
}

/**
 * The caller's JWT from `--auth`: `@file` reads it from a file and `-` from stdin, so the token
 * never has to sit in argv (visible to every user in `ps`) or shell history; anything else is the
 * token itself. Surrounding whitespace is dropped. `payloadArg` is the payload argument: stdin can
 * feed only one of the two.
 */
export async function readAuth(arg: string | undefined, io: CliIo, payloadArg?: string): Promise<string | undefined> {
  if (arg === undefined || arg === "") return undefined;
  let token: string;
  if (arg === "-") {
    if (payloadArg === "-") throw usageError("--auth - and a payload of - both want stdin: give the payload as @file or JSON text");
    token = await io.readStdin();
  } else if (arg.startsWith("@")) {
    const file = resolve(io.cwd, arg.slice(1));
    try {
      token = readFileSync(file, "utf8");
    } catch (err) {
      throw usageError(`cannot read the token file ${arg.slice(1)}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  } else token = arg;
  token = token.trim();
  if (token === "" || /\s/.test(token.replace(/^Bearer\s+/i, ""))) {
    throw usageError(
      `--auth ${arg.startsWith("@") || arg === "-" ? arg : "<jwt>"} holds no single token: expect one JWT (header.payload.signature)`,
    );
  }
  return token;
}

/** Parses repeatable `-H key:value` options into a header map. */
export function parseHeaders(values: string[] | undefined): Record<string, string> {
  // A Map, then fromEntries: a header named __proto__ becomes a header, not the object's prototype.
  const out = new Map<string, string>();
  for (const value of values ?? []) {
    const at = value.indexOf(":");
    const key = at > 0 ? value.slice(0, at).trim() : "";
    if (!key) throw usageError(`header "${value}" must look like key:value, e.g. -H Idempotency-Key:order-42`);
    out.set(key, value.slice(at + 1).trim());
  }
  return Object.fromEntries(out);
}

/**
 * The headers of a call from `-H key:value` options plus the caller's JWT (`--auth`, else
 * NFN_AUTH_TOKEN), sent as `Authorization: Bearer <jwt>`.
 */
export function requestHeaders(values: string[] | undefined, auth: string | undefined): Record<string, string> {
  const headers = parseHeaders(values);
  if (auth) headers.Authorization = /^Bearer\s/i.test(auth) ? auth : `Bearer ${auth}`;
  return headers;
}

/** Commander helper that collects a repeatable option into an array. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
