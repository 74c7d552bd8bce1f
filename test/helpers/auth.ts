/** Test helpers: `nfn auth init` into a temp dir, and connections under the roles it generated. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/nats-core";
import { type RuntimeConfig, configFromEnv } from "../../runtime/config.ts";
import { connectionOptions } from "../../runtime/connect.ts";
import type { FunctionDefinition } from "../../runtime/define-function.ts";
import { type AuthInitResult, authInit } from "../../deploy/auth/init.ts";
import { DEFAULT_SUBJECTS } from "../../deploy/auth/permissions.ts";
import { ROLES, type Role } from "../../deploy/auth/keys.ts";

type AfterHook = { after(fn: () => Promise<void> | void): void };

/** What auth init wrote, with each role's .env parsed. */
export interface GeneratedAuth extends AuthInitResult {
  conf: string;
  env: Record<Role, Record<string, string>>;
  /** The .env of each named caller. */
  callerEnv: Record<string, Record<string, string>>;
  /** The .env of each worker group. */
  groupEnv: Record<string, Record<string, string>>;
}

/** Parses a .env file as `set -a; . file` would (KEY=value lines, comments skipped). */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m?.[1] !== undefined && m[2] !== undefined) out[m[1]] = m[2];
  }
  return out;
}

/** Runs auth init for `defs` into a temp dir removed after the test. */
export async function generateAuth(
  t: AfterHook,
  defs: FunctionDefinition[],
  dir?: string,
  callers: string[] = [],
  workerGroups: Record<string, string[]> = {},
): Promise<GeneratedAuth> {
  const out = dir ?? mkdtempSync(join(tmpdir(), "nfn-auth-"));
  if (!dir) t.after(() => rmSync(out, { recursive: true, force: true }));
  const result = await authInit({ dir: out, functionsDir: "functions", defs, callers, workerGroups, settings: DEFAULT_SUBJECTS });
  const env = {} as Record<Role, Record<string, string>>;
  for (const role of ROLES) env[role] = parseEnvFile(readFileSync(join(out, `${role}.env`), "utf8"));
  const callerEnv: Record<string, Record<string, string>> = {};
  for (const name of Object.keys(result.callers)) callerEnv[name] = parseEnvFile(readFileSync(join(out, `caller-${name}.env`), "utf8"));
  const groupEnv: Record<string, Record<string, string>> = {};
  for (const name of Object.keys(result.workerGroups)) groupEnv[name] = parseEnvFile(readFileSync(join(out, `worker-${name}.env`), "utf8"));
  return { ...result, conf: join(out, "nats-server.conf"), env, callerEnv, groupEnv };
}

/** The runtime configuration a process started with `<role>.env` and NATS_URL gets. */
export function roleConfig(env: Record<string, string>, url: string, extra: Record<string, string> = {}): RuntimeConfig {
  return configFromEnv({ ...env, NATS_URL: url, LOG_LEVEL: "silent", ...extra });
}

/** A connection under `env`'s identity; closed when `t` ends. */
export async function roleClient(t: AfterHook, env: Record<string, string>, url: string): Promise<NatsConnection> {
  const nc = await connect({ ...connectionOptions(roleConfig(env, url)), maxReconnectAttempts: 0 });
  t.after(async () => {
    if (!nc.isClosed()) await nc.close();
  });
  return nc;
}
