/** The development HS256 secret: AUTH_JWT_SECRET, or one generated once into `.nfn/auth-secret`. */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { nfnDir } from "./local-server.ts";

/** Path of the generated secret. */
export function authSecretPath(cwd: string): string {
  return join(nfnDir(cwd), "auth-secret");
}

/** AUTH_JWT_SECRET when set, else the secret in `.nfn/auth-secret`, else undefined. */
export function readAuthSecret(env: NodeJS.ProcessEnv, cwd: string): { secret: string; source: string } | undefined {
  if (env.AUTH_JWT_SECRET) return { secret: env.AUTH_JWT_SECRET, source: "AUTH_JWT_SECRET" };
  const path = authSecretPath(cwd);
  if (!existsSync(path)) return undefined;
  const secret = readFileSync(path, "utf8").trim();
  return secret ? { secret, source: path } : undefined;
}

/** The existing secret, or a new random one written to `.nfn/auth-secret` with mode 0600. */
export function ensureAuthSecret(env: NodeJS.ProcessEnv, cwd: string): { secret: string; source: string; created: boolean } {
  const existing = readAuthSecret(env, cwd);
  if (existing) return { ...existing, created: false };
  const path = authSecretPath(cwd);
  mkdirSync(nfnDir(cwd), { recursive: true });
  const secret = randomBytes(32).toString("base64url");
  writeFileSync(path, `${secret}\n`, { mode: 0o600 });
  chmodSync(path, 0o600); // the mode above is masked by umask
  return { secret, source: path, created: true };
}
