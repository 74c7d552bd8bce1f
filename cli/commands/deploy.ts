/** `nfn deploy <fn...>`: upload built bundles to the object store and make them the desired releases. */
import { join, resolve } from "node:path";
import type { Command } from "commander";
import type { NatsConnection } from "@nats-io/nats-core";
import type { KeyPair } from "@nats-io/nkeys";
import { deployBundle } from "../../deploy/registry/operations.ts";
import { type Registry, openRegistry } from "../../deploy/registry/registry.ts";
import { signingKeyFromEnv } from "../../deploy/registry/signing.ts";
import { type GlobalOptions, type ResolvedConnection, withConnection } from "../lib/connection.ts";
import { CliError } from "../lib/errors.ts";
import { EXIT } from "../lib/exit-codes.ts";
import type { CliIo } from "../lib/io.ts";
import { verbAction } from "../lib/program.ts";

/** Options of `nfn deploy`. */
export interface DeployVerbOptions extends GlobalOptions {
  dist: string;
}

/**
 * Runs `fn` with the registry on a CLI connection. Registry operations throw errors written for
 * users (what is wrong, what to do), so they are shown as they are, with exit code 1.
 */
export async function withRegistry<T>(
  opts: GlobalOptions,
  io: CliIo,
  fn: (registry: Registry, nc: NatsConnection, resolved: ResolvedConnection) => Promise<T>,
): Promise<T> {
  return withConnection(opts, io, async (nc, resolved) => {
    try {
      return await fn(await openRegistry(nc, resolved.config.replicas), nc, resolved);
    } catch (err) {
      if (err instanceof CliError || !(err instanceof Error)) throw err;
      throw new CliError(EXIT.SERVICE_ERROR, err.message, { cause: err });
    }
  });
}

/** Deploys each named bundle from `<dist>/<fn>`, signed with NFN_SIGNING_KEY; returns the exit code. */
export async function runDeploy(opts: DeployVerbOptions, io: CliIo, names: string[]): Promise<number> {
  // The key is read before connecting: without it nothing is uploaded, since no worker would run the release.
  let signingKey: KeyPair;
  try {
    signingKey = signingKeyFromEnv(io.env);
  } catch (err) {
    throw new CliError(EXIT.USAGE, err instanceof Error ? err.message : String(err));
  }
  return withRegistry(opts, io, async (registry) => {
    for (const name of names) {
      const dir = resolve(io.cwd, join(opts.dist, name));
      let last = -1;
      const { release, uploaded, revision } = await deployBundle(registry, dir, {
        signingKey,
        deployedBy: io.env.NFN_DEPLOYED_BY || undefined,
        onProgress(sent, total) {
          const pct = Math.floor((sent * 100) / Math.max(total, 1));
          // On a terminal the line is redrawn; in logs only the start and the end are written.
          if (io.stderr.isTTY) io.stderr.write(`\r${name}: uploading ${kib(sent)} / ${kib(total)} (${pct}%)`);
          else if (last < 0 || sent === total) io.stderr.write(`${name}: uploading ${kib(sent)} / ${kib(total)} (${pct}%)\n`);
          last = pct;
        },
      });
      if (io.stderr.isTTY) io.stderr.write("\n");
      const how = uploaded ? `uploaded ${kib(release.sizeBytes)}` : "bundle already in the store";
      io.stdout.write(
        `deployed ${release.name}@${release.version} sha256 ${release.sha256.slice(0, 12)} (${how}) as release ${revision} by ${release.deployedBy}, signed by ${release.signer ?? "?"}\n`,
      );
    }
    return EXIT.OK;
  });
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(1)} KiB`;
}

/** Defines `nfn deploy`. */
export function register(program: Command): void {
  program
    .command("deploy")
    .description("upload built bundles (nfn build) to JetStream and make them the release workers run")
    .argument("<fn...>", "functions to deploy, each built in <dist>/<fn>/")
    .option("--dist <dir>", "where nfn build wrote the bundles", "dist")
    .addHelpText(
      "after",
      `
Bundles go to the object store nfn_bundles as <fn>/<sha256>; the release (version, sha256, time, who,
Ed25519 signature and signer) goes to the KV bucket nfn_releases. The release is signed with
NFN_SIGNING_KEY (an nkey user seed, SU...); workers run it only when its signer is in their
NFN_TRUSTED_SIGNERS. Who: NFN_DEPLOYED_BY, else user@host. Replicas: NFN_REPLICAS.

Examples:
  npx nfn build reserve_stock && npx nfn deploy reserve_stock
  NATS_URL=nats://10.0.0.5:4222 npx nfn deploy check_inventory reserve_stock`,
    )
    .action(verbAction<DeployVerbOptions>((opts, io, args) => runDeploy(opts, io, args)));
}
