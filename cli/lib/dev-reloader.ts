/**
 * Hot reload for `nfn dev`: a changed function is imported afresh (tsx `tsImport` loads the module
 * and everything it imports, JSON schemas included, in a new namespace), registered next to the old
 * instance, and only then is the old one stopped, so requests never find no responders.
 */
import { type FSWatcher, existsSync, watch } from "node:fs";
import { basename, join, relative, resolve, sep } from "node:path";
import { tsImport } from "tsx/esm/api";
import { type FunctionDefinition, isFunctionDefinition } from "../../runtime/define-function.ts";
import { findFunctionSources, recordSourceModule } from "../../runtime/loader.ts";
import type { CliIo } from "./io.ts";
import type { ServeSession } from "./serve-session.ts";

/** The outcome of one reload, for logs and tests. */
export interface ReloadResult {
  fn: string;
  ok: boolean;
  version?: string;
  ms: number;
  error?: string;
}

/** A running watcher. */
export interface DevReloader {
  /** Reloads one function now (what a file change triggers). */
  reload(fn: string): Promise<ReloadResult>;
  close(): void;
}

const DEBOUNCE_MS = 80;

/** Imports `file` in a fresh namespace and checks it exports a definition named `fn`. */
export async function importFresh(file: string, fn: string): Promise<FunctionDefinition> {
  const mod = (await tsImport(resolve(file), { parentURL: import.meta.url })) as { default?: unknown };
  const def = mod.default;
  if (!isFunctionDefinition(def)) throw new Error(`${file} does not export default defineFunction({...})`);
  if (def.name !== fn) throw new Error(`${file} defines "${def.name}" but lives in the folder ${fn}/`);
  await recordSourceModule(def, file);
  return def;
}

/** Which functions a changed path affects: its own folder, `<name>.*.json` in schemas/, or all of them. */
export function affectedFunctions(changed: string, functionsDir: string, schemasDir: string, known: string[]): string[] {
  const abs = resolve(changed);
  if (abs.startsWith(resolve(functionsDir) + sep)) {
    const first = relative(functionsDir, abs).split(sep)[0] ?? "";
    return known.includes(first) ? [first] : known; // functions/_shared and the like: everyone may import it
  }
  if (abs.startsWith(resolve(schemasDir) + sep)) {
    const stem = basename(abs).replace(/\.(request|response)?\.?json$/, "");
    return known.includes(stem) ? [stem] : known;
  }
  return [];
}

/** Watches functions/ and schemas/ and reloads what changes; `names` limits which functions are served. */
export function startDevReloader(session: ServeSession, functionsDir: string, io: CliIo, names: string[] = []): DevReloader {
  const schemasDir = join(io.cwd, "schemas");
  const sources = new Map(session.sources);
  const pending = new Map<string, NodeJS.Timeout>();
  const chains = new Map<string, Promise<unknown>>();
  const say = (line: string) => io.stderr.write(`nfn dev: ${line}\n`);

  const reloadNow = async (fn: string): Promise<ReloadResult> => {
    const started = performance.now();
    const file = sources.get(fn);
    if (!file || !existsSync(file)) return { fn, ok: false, ms: 0, error: "its index.ts is gone" };
    try {
      const def = await importFresh(file, fn);
      const old = session.host.functions.get(fn);
      await session.host.add(def); // the new instance is subscribed before the old one drains
      if (old) await old.stop(session.host.config.shutdownGraceMs);
      const ms = Math.round(performance.now() - started);
      say(`reloaded ${fn}@${def.version} in ${ms} ms`);
      return { fn, ok: true, version: def.version, ms };
    } catch (err) {
      const error = err instanceof Error ? err.message : String(err);
      say(`${fn} did not reload, the previous version keeps serving: ${error}`);
      return { fn, ok: false, ms: Math.round(performance.now() - started), error };
    }
  };

  // One reload at a time per function, in order of the changes.
  const reload = (fn: string): Promise<ReloadResult> => {
    const next = (chains.get(fn) ?? Promise.resolve()).then(() => reloadNow(fn));
    chains.set(
      fn,
      next.catch(() => undefined),
    );
    return next;
  };

  const onChange = (dir: string, filename: string | null) => {
    if (!filename) return;
    // a new function folder: serve it too (unless only some were asked for)
    if (dir === functionsDir && names.length === 0) {
      for (const [name, file] of findFunctionSources(functionsDir)) if (!sources.has(name)) sources.set(name, file);
    }
    for (const fn of affectedFunctions(join(dir, filename), functionsDir, schemasDir, [...sources.keys()])) {
      clearTimeout(pending.get(fn));
      pending.set(
        fn,
        setTimeout(() => {
          pending.delete(fn);
          void reload(fn);
        }, DEBOUNCE_MS),
      );
    }
  };

  const watchers: FSWatcher[] = [];
  for (const dir of [functionsDir, schemasDir]) {
    if (!existsSync(dir)) continue;
    const w = watch(dir, { recursive: true }, (_event, filename) => onChange(dir, filename));
    w.on("error", (err) => say(`stopped watching ${dir}: ${err.message}`));
    watchers.push(w);
  }
  say(
    `watching ${[functionsDir, schemasDir]
      .filter(existsSync)
      .map((d) => relative(io.cwd, d) || ".")
      .join(" and ")} for changes`,
  );
  return {
    reload,
    close() {
      for (const w of watchers) w.close();
      for (const t of pending.values()) clearTimeout(t);
    },
  };
}
