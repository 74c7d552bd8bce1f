/** `nfn token`: mints a development JWT (HS256) with AUTH_JWT_SECRET or the secret `nfn serve` generated. */
import type { Command } from "commander";
import { readAuthSecret } from "../lib/auth-secret.ts";
import { parseDuration } from "../lib/duration.ts";
import { usageError } from "../lib/errors.ts";
import { EXIT } from "../lib/exit-codes.ts";
import type { CliIo } from "../lib/io.ts";
import { verbAction } from "../lib/program.ts";
import { mintToken } from "../lib/tokens.ts";

/** Options of `nfn token`. */
export interface TokenOptions {
  sub?: string;
  scope?: string;
  ttl?: string;
}

/** Longest lifetime `nfn token` signs: a development token should not outlive the working day. */
export const MAX_TOKEN_TTL_MS = 24 * 3_600_000;

/** Prints a token on stdout; returns the exit code. */
export async function runToken(opts: TokenOptions, io: CliIo): Promise<number> {
  if (!opts.sub) throw usageError("--sub is required: the subject (customer id) of the token, e.g. --sub alice");
  const ttlMs = parseDuration(opts.ttl ?? "1h", "--ttl");
  if (ttlMs > MAX_TOKEN_TTL_MS)
    throw usageError(`--ttl ${opts.ttl ?? ""} is longer than the 24h a development token may live: use 24h or less`);
  const secret = readAuthSecret(io.env, io.cwd);
  if (!secret) {
    throw usageError(
      "no signing secret: set AUTH_JWT_SECRET to the secret verify_token uses, or run `npx nfn serve` once here to generate .nfn/auth-secret",
    );
  }
  const token = await mintToken(secret.secret, {
    sub: opts.sub,
    scopes: (opts.scope ?? "").split(/\s+/).filter(Boolean),
    ttlSeconds: Math.max(1, Math.round(ttlMs / 1000)),
    issuer: io.env.AUTH_ISSUER || undefined,
    audience: io.env.AUTH_AUDIENCE || undefined,
  });
  io.stdout.write(`${token}\n`);
  return EXIT.OK;
}

/** Defines `nfn token`. */
export function register(program: Command): void {
  program
    .command("token")
    .description("mint a development token (HS256) signed with AUTH_JWT_SECRET or .nfn/auth-secret")
    .option("--sub <id>", "subject: the caller's id, e.g. a customer id")
    .option("--scope <scopes>", 'space-separated scopes, e.g. "orders:write inventory:admin"')
    .option("--ttl <duration>", "lifetime: 30m, 1h, at most 24h", "1h")
    .addHelpText(
      "after",
      `
Claims: sub, scope, iat, exp, and iss/aud from AUTH_ISSUER/AUTH_AUDIENCE when set.
The token goes through a file or a pipe, never argv (where \`ps\` shows it to everyone).
Examples:
  npx nfn token --sub alice --scope "orders:write" > .nfn/alice.jwt
  npx nfn invoke create_order @order.json --auth @.nfn/alice.jwt
  npx nfn token --sub alice --scope "orders:write" | npx nfn invoke create_order @order.json --auth -`,
    )
    .action(verbAction<TokenOptions>((opts, io) => runToken(opts, io)));
}
