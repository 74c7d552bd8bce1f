/** `nfn invoke <fn> [payload]`: one request (or `--count` of them) to a function found through `$SRV.INFO`. */
import type { Command } from "commander";
import type { NatsConnection } from "@nats-io/nats-core";
import { isFunctionError, replyError, replyErrorCode, requestFunction } from "../../runtime/client/index.ts";
import { compileValidator } from "../../runtime/validation.ts";
import { type GlobalOptions, withConnection } from "../lib/connection.ts";
import { parsePositiveInt } from "../lib/duration.ts";
import { CliError, usageError } from "../lib/errors.ts";
import { EXIT, type ExitCode } from "../lib/exit-codes.ts";
import { json } from "../lib/format.ts";
import type { CliIo } from "../lib/io.ts";
import { collect, readAuth, requestHeaders, readPayload } from "../lib/payload.ts";
import { verbAction } from "../lib/program.ts";
import { type ResolvedFunction, notRunning, resolveFunction } from "../lib/resolve-function.ts";

/** Options of `nfn invoke`. */
export interface InvokeOptions extends GlobalOptions {
  header?: string[];
  /** JWT sent as `Authorization: Bearer <jwt>` (env NFN_AUTH_TOKEN). */
  auth?: string;
  raw?: boolean;
  count?: string;
  /** False with `--no-validate`. */
  validate?: boolean;
}

/** Sends the request(s) and prints the replies; returns the exit code. */
export async function runInvoke(fn: string, payloadArg: string | undefined, opts: InvokeOptions, io: CliIo): Promise<number> {
  const count = opts.count === undefined ? 1 : parsePositiveInt(opts.count, "--count");
  const headers = requestHeaders(opts.header, await readAuth(opts.auth ?? io.env.NFN_AUTH_TOKEN, io, payloadArg));
  const payload = await readPayload(payloadArg, io);
  return withConnection(opts, io, async (nc, resolved) => {
    const target = await resolveFunction(nc, fn, resolved.timeoutMs, resolved.config.servers);
    if (opts.validate !== false) validateLocally(target, payload.value);
    let exit: ExitCode = EXIT.OK;
    for (let i = 0; i < count; i++) {
      const code = await sendOnce(nc, target, payload.text, headers, resolved.timeoutMs, opts, io, resolved.config.servers);
      if (code !== EXIT.OK) exit = code;
    }
    return exit;
  });
}

/** Throws a usage error with the failing path when `value` fails the advertised request schema. */
export function validateLocally(target: ResolvedFunction, value: unknown): void {
  if (!target.requestSchema) return;
  let validate: ReturnType<typeof compileValidator>;
  try {
    validate = compileValidator(target.requestSchema);
  } catch {
    return; // a schema this ajv cannot compile (another service's dialect): the service still validates
  }
  const details = validate(value);
  if (!details) return;
  const lines = details.map((d) => `  ${String(d.path) || "/"}: ${String(d.message)}`);
  throw usageError(
    `payload does not match the request schema of ${target.name}:\n${lines.join("\n")}\n(see \`npx nfn schema ${target.name} --example\`, or send anyway with --no-validate)`,
  );
}

async function sendOnce(
  nc: NatsConnection,
  target: ResolvedFunction,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
  opts: InvokeOptions,
  io: CliIo,
  servers: string[],
): Promise<ExitCode> {
  let msg;
  try {
    msg = await requestFunction(nc, { subject: target.subject, fn: target.name, body, headers, timeoutMs });
  } catch (err) {
    if (isFunctionError(err) && err.code === 504)
      throw new CliError(EXIT.TIMEOUT, `${err.message}: raise --timeout, or check the function's logs`);
    if (isFunctionError(err) && err.code === 503) throw notRunning(target.name, servers);
    throw err;
  }
  const text = new TextDecoder().decode(msg.data);
  const error = replyError(target.name, msg);
  if (error) {
    // A code outside the contract (another kind of service) is shown as sent, with no contract type.
    const shownCode = Number.parseInt(replyErrorCode(msg) ?? "", 10) || error.code;
    const type = shownCode === error.code ? error.type : "ERROR";
    io.stderr.write(`${shownCode} ${type}: ${error.message}\n`);
    for (const d of error.details ?? []) {
      io.stderr.write(
        typeof d.path === "string" && typeof d.message === "string" ? `  ${d.path || "/"}: ${d.message}\n` : `  ${JSON.stringify(d)}\n`,
      );
    }
    if (opts.raw) io.stdout.write(`${text}\n`);
    return EXIT.SERVICE_ERROR;
  }
  if (opts.raw) io.stdout.write(`${text}\n`);
  else {
    try {
      io.stdout.write(json(JSON.parse(text)));
    } catch {
      io.stdout.write(`${text}\n`);
    }
  }
  return EXIT.OK;
}

/** Defines `nfn invoke`. */
export function register(program: Command): void {
  program
    .command("invoke")
    .description("send a request to a function, found by name through $SRV.INFO, and print the reply")
    .argument("<fn>", "function name")
    .argument("[payload]", "JSON text, @file, or - for stdin (default {})")
    .option("-H, --header <key:value>", "request header, repeatable", collect)
    .option(
      "--auth <@file|->",
      "JWT sent as Authorization: Bearer, read from a file or - (stdin), or given inline (env NFN_AUTH_TOKEN); mint one with `nfn token`",
    )
    .option("--raw", "print the reply body exactly as received")
    .option("--count <n>", "send the request n times, one after the other")
    .option("--no-validate", "do not check the payload against the advertised request_schema first")
    .addHelpText(
      "after",
      `
Examples:
  npx nfn invoke check_inventory '{"items":[{"sku":"AOVE-PICUAL-500ML","quantity":1}]}'
  npx nfn token --sub alice --scope orders:write > .nfn/alice.jwt
  npx nfn invoke create_order @order.json --auth @.nfn/alice.jwt -H Idempotency-Key:o-1
  npx nfn token --sub alice | npx nfn invoke get_order '{"orderId":"o-1"}' --auth - --raw

Exit codes: 0 ok, 1 the function replied with an error, 2 usage or invalid payload,
            3 no responders, 4 timeout, 5 cannot connect to NATS`,
    )
    .action(verbAction<InvokeOptions>((opts, io, args) => runInvoke(args[0] ?? "", args[1], opts, io)));
}
