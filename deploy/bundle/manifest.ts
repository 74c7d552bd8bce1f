/** The manifest written next to every bundle: what it is, what it serves and calls, and its hash. */
import { readFile } from "node:fs/promises";
import type { FunctionDefinition } from "../../runtime/define-function.ts";
import type { FunctionLimits } from "../../runtime/types.ts";

/** Current manifest format; bumped when a field changes meaning. */
export const MANIFEST_FORMAT = 1;

/** `dist/<fn>/manifest.json`. */
export interface BundleManifest {
  format: number;
  name: string;
  version: string;
  description: string;
  /** File name of the bundle inside its folder. */
  entry: string;
  /** Hex sha256 of the bundle bytes. */
  sha256: string;
  sizeBytes: number;
  schemas: { request: object; response: object };
  limits: FunctionLimits;
  auth: { scopes: string[] } | null;
  triggers: { events: string[]; timers: string[] };
  /** Subjects with the default prefix `fn` (NFN_SUBJECT_PREFIX changes them at run time). */
  subjects: { endpoint: string | null; events: string[] };
  calls: string[];
  builtAt: string;
  gitRevision: string;
  /** esbuild target the bundle was built for. */
  target: string;
}

/** Facts about the build that the definition does not know. */
export interface BuildFacts {
  entry: string;
  sha256: string;
  sizeBytes: number;
  builtAt: string;
  gitRevision: string;
  target: string;
}

/** Describes the function `def` as built into a bundle. */
export function manifestFor(def: FunctionDefinition, facts: BuildFacts): BundleManifest {
  const events = def.trigger?.events ?? [];
  return {
    format: MANIFEST_FORMAT,
    name: def.name,
    version: def.version,
    description: def.description,
    entry: facts.entry,
    sha256: facts.sha256,
    sizeBytes: facts.sizeBytes,
    schemas: { request: def.request, response: def.response },
    limits: { ...def.limits },
    auth: def.auth ? { scopes: def.auth.scopes ?? [] } : null,
    triggers: { events, timers: (def.timers ?? []).map((t) => t.name) },
    subjects: { endpoint: def.endpoint === false ? null : `fn.${def.name}`, events: events.map((e) => `events.${e}`) },
    calls: [...(def.calls ?? [])],
    builtAt: facts.builtAt,
    gitRevision: facts.gitRevision,
    target: facts.target,
  };
}

/** Parses a manifest, saying what is wrong when it is not one. */
export function parseManifest(text: string, source: string): BundleManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`${source} is not JSON: rebuild with nfn build`);
  }
  const m = value as Partial<BundleManifest> | null;
  if (
    !m ||
    typeof m !== "object" ||
    typeof m.name !== "string" ||
    typeof m.version !== "string" ||
    typeof m.sha256 !== "string" ||
    typeof m.entry !== "string"
  ) {
    throw new Error(`${source} is not a bundle manifest (needs name, version, entry, sha256): rebuild with nfn build`);
  }
  return m as BundleManifest;
}

/** Reads `dir/manifest.json`. */
export async function readManifest(dir: string): Promise<BundleManifest> {
  const file = `${dir}/manifest.json`;
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new Error(`${file} not found: run nfn build first`);
  }
  return parseManifest(text, file);
}
