/** Deploy, rollback and undeploy: what the CLI verbs do, as plain functions on a registry. */
import { readFile } from "node:fs/promises";
import { hostname, userInfo } from "node:os";
import { join } from "node:path";
import { sha256Hex } from "../../runtime/hash.ts";
import type { KeyPair } from "@nats-io/nkeys";
import { readManifest } from "../bundle/manifest.ts";
import type { Registry } from "./registry.ts";
import { type Release, bundleObjectName } from "./release.ts";
import { signRelease, signingKeyFromEnv } from "./signing.ts";

/** Who a release is recorded as: NFN_DEPLOYED_BY, else user@host. */
export function defaultDeployer(env: NodeJS.ProcessEnv = process.env): string {
  if (env.NFN_DEPLOYED_BY) return env.NFN_DEPLOYED_BY;
  let user = "unknown";
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers): keep "unknown"
  }
  return `${user}@${hostname()}`;
}

/** Options of `deployBundle`. */
export interface DeployOptions {
  deployedBy?: string;
  /** The key that signs the release. Default NFN_SIGNING_KEY. */
  signingKey?: KeyPair;
  onProgress?: (sent: number, total: number) => void;
}

/** What a deploy did. */
export interface DeployResult {
  release: Release;
  uploaded: boolean;
  revision: number;
}

/**
 * Uploads the bundle in `dir` (dist/<fn>), signs the release and makes it the desired one. Refuses a
 * bundle whose bytes no longer match its manifest, so what is recorded is exactly what was built.
 */
export async function deployBundle(registry: Registry, dir: string, options: DeployOptions = {}): Promise<DeployResult> {
  // The key first: without one nothing is uploaded, since no worker would run it.
  const signingKey = options.signingKey ?? signingKeyFromEnv();
  const manifest = await readManifest(dir);
  const bytes = await readFile(join(dir, manifest.entry));
  const actual = sha256Hex(bytes);
  if (actual !== manifest.sha256) {
    throw new Error(
      `${join(dir, manifest.entry)} does not match its manifest (sha256 ${actual.slice(0, 12)}, manifest ${manifest.sha256.slice(0, 12)}): rebuild with nfn build`,
    );
  }
  const object = bundleObjectName(manifest.name, manifest.sha256);
  const identity = { name: manifest.name, version: manifest.version, sha256: manifest.sha256, sizeBytes: bytes.length, object };
  const signature = signRelease(identity, signingKey);
  const uploaded = await registry.putBundle(object, bytes, options.onProgress);
  const release: Release = {
    ...identity,
    ...signature,
    deployedAt: new Date().toISOString(),
    deployedBy: options.deployedBy ?? defaultDeployer(),
    builtAt: manifest.builtAt,
    gitRevision: manifest.gitRevision,
  };
  const revision = await registry.record(release);
  return { release, uploaded, revision };
}

/**
 * Makes an earlier release desired again: the one of `version` when given, else the latest release
 * before the current one that has a different bundle (after an undeploy: the last release). The
 * signature covers the code, not the time of recording, so the old release's signature still holds.
 */
export async function rollbackRelease(
  registry: Registry,
  name: string,
  version?: string,
  deployedBy = defaultDeployer(),
): Promise<Release> {
  const history = await registry.history(name);
  const releases = history.flatMap((h) => (h.release ? [h.release] : []));
  if (releases.length === 0) throw new Error(`${name} has never been deployed: nfn deploy ${name} first`);
  const current = await registry.current(name);
  const candidates = releases.filter((r) => (version === undefined ? r.sha256 !== current?.sha256 : r.version === version));
  const target = candidates.at(-1);
  if (!target) {
    const known = [...new Set(releases.map((r) => r.version))].join(", ");
    throw new Error(
      version === undefined
        ? `${name} has no earlier release to roll back to (releases: ${known})`
        : `${name} has no release ${version} in its history (releases: ${known})`,
    );
  }
  if (current && current.sha256 === target.sha256) throw new Error(`${name}@${target.version} is already the current release`);
  if ((await registry.bundles.info(target.object)) === null) {
    throw new Error(`the bundle of ${name}@${target.version} is no longer in the object store: rebuild and nfn deploy it`);
  }
  const release: Release = { ...target, deployedAt: new Date().toISOString(), deployedBy, rollbackFrom: current?.version ?? "undeployed" };
  await registry.record(release);
  return release;
}
