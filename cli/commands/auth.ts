/** `nfn auth init` and `nfn auth show <fn>`: NATS identities and least-privilege permissions computed from the functions. */
import { relative } from "node:path";
import type { Command } from "commander";
import { configFromEnv } from "../../runtime/config.ts";
import { DEFAULT_AUTH_DIR, authInit, loadFunctions } from "../../deploy/auth/init.ts";
import { type SubjectSettings, functionPermissions } from "../../deploy/auth/permissions.ts";
import { usageError } from "../lib/errors.ts";
import { EXIT } from "../lib/exit-codes.ts";
import { json } from "../lib/format.ts";
import type { CliIo } from "../lib/io.ts";
import { verbAction } from "../lib/program.ts";

/** Options of `nfn auth init`. */
export interface AuthInitVerbOptions {
  dir: string;
  functions: string;
  store?: string;
  rotate?: boolean;
  retireOldSigners?: boolean;
  caller?: string[];
  workerGroup?: string[];
  json?: boolean;
}

/** `stock=reserve_stock,release_stock` → { stock: ["reserve_stock", "release_stock"] }. */
export function parseWorkerGroups(specs: string[] | undefined): Record<string, string[]> | undefined {
  if (!specs) return undefined;
  const out: Record<string, string[]> = {};
  for (const spec of specs) {
    const [name, list] = spec.split("=", 2);
    if (!name || !list) throw usageError(`--worker-group takes name=fn1,fn2 (got "${spec.slice(0, 64)}")`);
    out[name] = list
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
  }
  return out;
}

function settingsFrom(io: Pick<CliIo, "env">): SubjectSettings {
  const config = configFromEnv(io.env);
  return { subjectPrefix: config.subjectPrefix, queue: config.queue };
}

/** Writes the server config and the role .env files; prints what it wrote and how to start each part. */
export async function runAuthInit(opts: AuthInitVerbOptions, io: CliIo): Promise<number> {
  const result = await authInit({
    dir: opts.dir,
    functionsDir: opts.functions,
    storeDir: opts.store,
    rotate: opts.rotate,
    retireOldSigners: opts.retireOldSigners,
    callers: opts.caller,
    workerGroups: parseWorkerGroups(opts.workerGroup),
    settings: settingsFrom(io),
  });
  if (opts.json) {
    io.stdout.write(
      json({
        dir: result.dir,
        files: result.files,
        roles: result.roles,
        callers: result.callers,
        workerGroups: result.workerGroups,
        trustedSigners: result.trustedSigners,
      }),
    );
    return EXIT.OK;
  }
  const shown = (path: string) => (relative(io.cwd, path).startsWith("..") ? path : relative(io.cwd, path) || ".");
  const dir = shown(result.dir);
  const names = result.functions.map((d) => `${d.name}${d.visibility === "internal" ? " (internal)" : ""}`).join(", ");
  io.stdout.write(
    `${result.keysCreated ? "generated new identities" : opts.rotate ? "rotated every identity and the signing key" : "kept the existing identities"}; permissions computed for ${result.functions.length} functions: ${names}\n` +
      `wrote ${result.files.map(shown).join(", ")} (secret: mode 0600)\n\n` +
      `start the server:   nats-server -c ${dir}/nats-server.conf -a HOST -p PORT${opts.store ? "" : " -sd STORE"}\n` +
      `   (running already: ${opts.store ? "nats-server --signal reload" : "restart it (or use --store, then nats-server --signal reload)"} to apply new permissions)\n` +
      `functions:          set -a; . ${dir}/worker.env; set +a; NATS_URL=nats://HOST:PORT npx nfn worker   (or nfn serve)\n` +
      `deploy:             set -a; . ${dir}/deployer.env; set +a; NATS_URL=nats://HOST:PORT npx nfn deploy\n` +
      `gateway:            set -a; . ${dir}/gateway.env; set +a; NATS_URL=nats://HOST:PORT npx nfn gateway\n` +
      `callers:            set -a; . ${dir}/client.env; set +a; NATS_URL=nats://HOST:PORT npx nfn invoke check_inventory '{...}'\n`,
  );
  return EXIT.OK;
}

/** Options of `nfn auth show`. */
export interface AuthShowVerbOptions {
  functions: string;
  json?: boolean;
}

/** Prints one function's computed permissions. */
export async function runAuthShow(fn: string, opts: AuthShowVerbOptions, io: CliIo): Promise<number> {
  const defs = await loadFunctions(opts.functions);
  const def = defs.find((d) => d.name === fn);
  if (!def) throw usageError(`no function ${fn.slice(0, 64)} in ${opts.functions}: available are ${defs.map((d) => d.name).join(", ")}`);
  const permissions = functionPermissions(def, settingsFrom(io));
  if (opts.json) {
    io.stdout.write(
      json({ name: def.name, visibility: def.visibility, exported: def.visibility === "public" && def.endpoint !== false, ...permissions }),
    );
    return EXIT.OK;
  }
  const list = (items: string[]) => items.map((s) => `  ${s}\n`).join("");
  io.stdout.write(
    `${def.name}@${def.version} (${def.visibility}${def.visibility === "public" && def.endpoint !== false ? ": exported to account APP" : ": never exported"})\n` +
      `publish:\n${list(permissions.publish)}subscribe:\n${list(permissions.subscribe)}`,
  );
  return EXIT.OK;
}

/** Defines `nfn auth init` and `nfn auth show`. */
export function register(program: Command): void {
  const auth = program.command("auth").description("NATS accounts, identities and least-privilege permissions computed from the functions");
  auth
    .command("init")
    .description("write <dir>/nats-server.conf and worker/gateway/deployer/client .env files (keys kept unless --rotate)")
    .option("--dir <path>", "where to write", DEFAULT_AUTH_DIR)
    .option("--functions <path>", "the functions directory", "functions")
    .option("--store <dir>", "JetStream store to write into the config (lets `nats-server --signal reload` apply new permissions)")
    .option("--rotate", "new keys for every role and a new release signing key (the old signer stays trusted)")
    .option("--retire-old-signers", "trust only the current release signing key")
    .option(
      "--worker-group <name=fns...>",
      "also a worker identity that may serve only these functions (worker-<name>.env); kept on later runs",
    )
    .option("--caller <name...>", "also an identity of its own for this caller (caller-<name>.env, own inbox); kept on later runs")
    .option("--json", "print the roles and their permissions as JSON")
    .addHelpText(
      "after",
      `
Examples:
  npx nfn auth init                      # .nfn/auth/{nats-server.conf,worker.env,gateway.env,deployer.env,client.env}
  npx nfn auth init --dir /etc/nfn       # after adding a function: same keys, new permissions
  npx nfn auth init --rotate             # new identities and signing key; then --retire-old-signers after redeploying`,
    )
    .action(verbAction<AuthInitVerbOptions>((opts, io) => runAuthInit(opts, io)));
  auth
    .command("show")
    .description("print one function's computed NATS permissions")
    .argument("<fn>", "function name")
    .option("--functions <path>", "the functions directory", "functions")
    .option("--json", "print JSON")
    .action(verbAction<AuthShowVerbOptions>((opts, io, args) => runAuthShow(args[0] ?? "", opts, io)));
}
