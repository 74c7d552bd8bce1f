/**
 * `nfn auth init`: loads the function definitions, computes each role's permissions and writes the
 * nats-server configuration and one .env file per role (keys kept across runs unless rotated).
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { FunctionDefinition } from "../../runtime/define-function.ts";
import { findFunctionSources, loadFunctionModule } from "../../runtime/loader.ts";
import { type KeyFile, type KeyOptions, type Role, loadOrCreateKeys, publicKeyOf } from "./keys.ts";
import {
  DEPLOYER_INBOX,
  type Permissions,
  type SubjectSettings,
  WORKER_INBOX,
  callerPermissions,
  deployerPermissions,
  gatewayPermissions,
  workerPermissions,
} from "./permissions.ts";
import { ACCOUNTS_FILE, APP_ACCOUNT, type ConfigUser, FUNCTIONS_ACCOUNT, renderServerConfig } from "./server-config.ts";

/** Default output directory. */
export const DEFAULT_AUTH_DIR = ".nfn/auth";

/** Inbox prefix per role: each identity may subscribe only to its own replies. */
export const INBOX_PREFIX: Record<Role, string> = {
  worker: WORKER_INBOX,
  deployer: DEPLOYER_INBOX,
  gateway: "_INBOX.gateway",
  client: "_INBOX.client",
};

/** Options of `authInit`. */
export interface AuthInitOptions extends KeyOptions {
  /** Where to write (created 0700). */
  dir: string;
  /** The functions directory (`<dir>/<name>/index.ts`). */
  functionsDir: string;
  /** Definitions to use instead of loading `functionsDir` (tests, tools). */
  defs?: FunctionDefinition[];
  /** JetStream store written into the config, so `nats-server --signal reload` can apply new permissions. */
  storeDir?: string;
  settings: SubjectSettings;
}

/** One identity: its account, public key and computed permissions. */
export interface RoleIdentity {
  account: string;
  publicKey: string;
  permissions: Permissions;
}

/** Inbox prefix of a named caller. */
export function callerInbox(name: string): string {
  return `_INBOX.caller_${name}`;
}

/** Inbox prefix of a worker group. */
export function workerGroupInbox(name: string): string {
  return `_INBOX.worker_${name}`;
}

/** What `authInit` wrote. */
export interface AuthInitResult {
  dir: string;
  files: string[];
  functions: FunctionDefinition[];
  keysCreated: boolean;
  roles: Record<Role, RoleIdentity>;
  /** Callers with an identity of their own, by name (file `caller-<name>.env`). */
  callers: Record<string, RoleIdentity>;
  /** Workers allowed only some functions, by group name (file `worker-<name>.env`). */
  workerGroups: Record<string, RoleIdentity & { functions: string[] }>;
  trustedSigners: string[];
}

/** Loads every function of `functionsDir`, by name. */
export async function loadFunctions(functionsDir: string): Promise<FunctionDefinition[]> {
  const defs: FunctionDefinition[] = [];
  for (const file of findFunctionSources(functionsDir).values()) defs.push(await loadFunctionModule(file));
  if (defs.length === 0)
    throw new Error(`no functions in ${functionsDir}: add <name>/index.ts exporting defineFunction({...}), or pass --functions`);
  return defs;
}

/** Computes every role's account and permissions for `defs`. */
export function computeRoles(defs: FunctionDefinition[], keys: KeyFile, settings: SubjectSettings): Record<Role, RoleIdentity> {
  const role = (r: Role, account: string, permissions: Permissions): RoleIdentity => ({
    account,
    publicKey: publicKeyOf(keys.users[r]),
    permissions,
  });
  return {
    worker: role("worker", FUNCTIONS_ACCOUNT, workerPermissions(defs, settings)),
    deployer: role("deployer", FUNCTIONS_ACCOUNT, deployerPermissions()),
    gateway: role("gateway", APP_ACCOUNT, gatewayPermissions(defs, INBOX_PREFIX.gateway, settings)),
    client: role("client", APP_ACCOUNT, callerPermissions(defs, INBOX_PREFIX.client, settings)),
  };
}

/** Writes `<dir>/nats-server.conf`, `<dir>/accounts.conf`, `<dir>/<role>.env` and `<dir>/keys.json`. */
export async function authInit(options: AuthInitOptions): Promise<AuthInitResult> {
  const dir = resolve(options.dir);
  const defs = options.defs ?? (await loadFunctions(options.functionsDir));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const keyFile = join(dir, "keys.json");
  const { keys, created } = loadOrCreateKeys(keyFile, options);
  const roles = computeRoles(defs, keys, options.settings);
  const callers: Record<string, RoleIdentity> = {};
  for (const [name, seed] of Object.entries(keys.callers)) {
    callers[name] = {
      account: APP_ACCOUNT,
      publicKey: publicKeyOf(seed),
      permissions: callerPermissions(defs, callerInbox(name), options.settings),
    };
  }
  const workerGroups: AuthInitResult["workerGroups"] = {};
  for (const [name, group] of Object.entries(keys.workerGroups)) {
    const unknown = group.functions.filter((f) => !defs.some((d) => d.name === f));
    if (unknown.length > 0 || group.functions.length === 0) {
      throw new Error(
        `worker group ${name} names ${unknown.length > 0 ? `unknown functions ${unknown.join(", ").slice(0, 200)}` : "no function"}: ` +
          `give it functions that exist, e.g. --worker-group ${name}=${defs[0]?.name ?? "fn"}`,
      );
    }
    const own = defs.filter((d) => group.functions.includes(d.name));
    workerGroups[name] = {
      account: FUNCTIONS_ACCOUNT,
      publicKey: publicKeyOf(group.seed),
      permissions: workerPermissions(own, options.settings, workerGroupInbox(name)),
      functions: group.functions,
    };
  }
  const identities: [string, RoleIdentity][] = [
    ...Object.entries(workerGroups).map(([n, r]) => [`worker-${n}`, r] as [string, RoleIdentity]),
    ...Object.entries(roles),
    ...Object.entries(callers).map(([n, r]) => [`caller-${n}`, r] as [string, RoleIdentity]),
  ];
  const users = (account: string): ConfigUser[] =>
    identities
      .filter(([, r]) => r.account === account)
      .map(([name, r]) => ({ role: name, publicKey: r.publicKey, permissions: r.permissions }));
  const files: string[] = [];
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text, { mode: 0o600 });
    chmodSync(path, 0o600); // an existing file keeps its old mode otherwise
    files.push(path);
  };
  write("keys.json", `${JSON.stringify(keys, null, 2)}\n`);
  const rendered = renderServerConfig({
    defs,
    settings: options.settings,
    functionUsers: users(FUNCTIONS_ACCOUNT),
    appUsers: users(APP_ACCOUNT),
    storeDir: options.storeDir && resolve(options.storeDir),
  });
  write(ACCOUNTS_FILE, rendered.accounts);
  write("nats-server.conf", rendered.server);
  for (const role of Object.keys(roles) as Role[]) write(`${role}.env`, envFile(role, keys));
  for (const [name, seed] of Object.entries(keys.callers)) {
    write(
      `caller-${name}.env`,
      `# caller ${name}: public functions only, its own inbox (account APP). Generated by \`nfn auth init\`; secret.\n` +
        `NATS_NKEY_SEED=${seed}\nNATS_INBOX_PREFIX=${callerInbox(name)}\n`,
    );
  }
  for (const [name, group] of Object.entries(keys.workerGroups)) {
    write(
      `worker-${name}.env`,
      `# worker group ${name}: may serve only ${group.functions.join(", ")} (account FUNCTIONS); run it as\n` +
        `#   nfn worker --only ${group.functions.join(",")}   (or nfn serve ${group.functions.join(" ")})\n` +
        `# Generated by \`nfn auth init\`; secret.\n` +
        `NATS_NKEY_SEED=${group.seed}\nNATS_INBOX_PREFIX=${workerGroupInbox(name)}\nNFN_TRUSTED_SIGNERS=${keys.trustedSigners.join(",")}\n`,
    );
  }
  return { dir, files, functions: defs, keysCreated: created, roles, callers, workerGroups, trustedSigners: keys.trustedSigners };
}

const ROLE_USE: Record<Role, string> = {
  worker: "nfn serve / nfn worker: hosts the functions (account FUNCTIONS)",
  deployer: "nfn deploy / rollback / undeploy / releases / status: writes the release registry (account FUNCTIONS)",
  gateway: "nfn gateway: calls public functions, reads the EVENTS feed, the dead letters (and replays them) and the journal (account APP)",
  client: "nfn invoke / ls / info / stats / ping and other callers: public functions only (account APP)",
};

/** The .env text of `role`: its NATS identity, its inbox prefix, and the release signing variables it needs. */
export function envFile(role: Role, keys: KeyFile): string {
  const lines = [
    `# ${ROLE_USE[role]}`,
    "# Generated by `nfn auth init`; secret: keep it 0600. Use: set -a; . ./" + `${role}.env; set +a`,
    `NATS_NKEY_SEED=${keys.users[role]}`,
    `NATS_INBOX_PREFIX=${INBOX_PREFIX[role]}`,
  ];
  if (role === "worker") lines.push(`NFN_TRUSTED_SIGNERS=${keys.trustedSigners.join(",")}`);
  if (role === "deployer") lines.push(`NFN_SIGNING_KEY=${keys.signing}`);
  return `${lines.join("\n")}\n`;
}
