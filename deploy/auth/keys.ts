/** The generated identities: one nkey user per role and the release signing key, kept across runs. */
import { existsSync, readFileSync } from "node:fs";
import { createUser, fromSeed } from "@nats-io/nkeys";

/** The roles `nfn auth init` makes an identity for. */
export const ROLES = ["worker", "deployer", "gateway", "client"] as const;
/** One of ROLES. */
export type Role = (typeof ROLES)[number];

/** What `<dir>/keys.json` holds (mode 0600): seeds only; public keys are derived. */
export interface KeyFile {
  /** nkey user seed (`SU...`) per role. */
  users: Record<Role, string>;
  /** The release signing key in use (nkey user seed). */
  signing: string;
  /** Public keys (`U...`) workers accept releases from: the current signer, and earlier ones until retired. */
  trustedSigners: string[];
  /** Callers with an identity of their own (`caller-<name>.env`), by name: seed. */
  callers: Record<string, string>;
  /** Workers allowed only some functions (`worker-<name>.env`), by name. */
  workerGroups: Record<string, { seed: string; functions: string[] }>;
}

/** A caller's name: it becomes part of a file name and of a subject. */
export const CALLER_NAME = /^[a-z0-9_-]{1,32}$/;

/** Options of `loadOrCreateKeys`. */
export interface KeyOptions {
  /** New seeds for every role and a new signing key; the old signer stays trusted until retired. */
  rotate?: boolean;
  /** Trust only the current signing key from now on. */
  retireOldSigners?: boolean;
  /** Callers to give an identity of their own (kept with the earlier ones). */
  callers?: string[];
  /** Worker groups to create or change: name → the functions its identity may serve (earlier groups are kept). */
  workerGroups?: Record<string, string[]>;
}

/** The public key (`U...`) of an nkey user seed. */
export function publicKeyOf(seed: string): string {
  return fromSeed(new TextEncoder().encode(seed)).getPublicKey();
}

function newSeed(): string {
  return new TextDecoder().decode(createUser().getSeed());
}

/** Reads `file` when it exists (keeping its keys unless told to rotate), filling in what is missing. */
export function loadOrCreateKeys(file: string, options: KeyOptions = {}): { keys: KeyFile; created: boolean } {
  const previous = existsSync(file) ? parseKeyFile(readFileSync(file, "utf8"), file) : undefined;
  const users = {} as Record<Role, string>;
  for (const role of ROLES) users[role] = !options.rotate && previous?.users[role] ? previous.users[role] : newSeed();
  const signing = !options.rotate && previous?.signing ? previous.signing : newSeed();
  const current = publicKeyOf(signing);
  const earlier = options.retireOldSigners ? [] : (previous?.trustedSigners ?? []);
  const trustedSigners = [...new Set([...earlier, current])];
  const callers: Record<string, string> = {};
  for (const name of [...Object.keys(previous?.callers ?? {}), ...(options.callers ?? [])].sort()) {
    if (!CALLER_NAME.test(name)) throw new Error(`caller name "${name.slice(0, 64)}" must be 1-32 of a-z, 0-9, "_" and "-"`);
    callers[name] = !options.rotate && previous?.callers[name] ? previous.callers[name] : (callers[name] ?? newSeed());
  }
  const workerGroups: KeyFile["workerGroups"] = {};
  const groupNames = [...new Set([...Object.keys(previous?.workerGroups ?? {}), ...Object.keys(options.workerGroups ?? {})])].sort();
  for (const name of groupNames) {
    if (!CALLER_NAME.test(name)) throw new Error(`worker group name "${name.slice(0, 64)}" must be 1-32 of a-z, 0-9, "_" and "-"`);
    const earlier = previous?.workerGroups[name];
    const functions = options.workerGroups?.[name] ?? earlier?.functions ?? [];
    workerGroups[name] = { seed: !options.rotate && earlier ? earlier.seed : newSeed(), functions: [...new Set(functions)].sort() };
  }
  return { keys: { users, signing, trustedSigners, callers, workerGroups }, created: previous === undefined };
}

function parseKeyFile(text: string, file: string): KeyFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${file} is not valid JSON: restore it from a backup, or delete it and run nfn auth init --rotate`);
  }
  const o = (typeof parsed === "object" && parsed !== null ? parsed : {}) as Record<string, unknown>;
  const usersIn = (typeof o.users === "object" && o.users !== null ? o.users : {}) as Record<string, unknown>;
  const users = {} as Record<Role, string>;
  for (const role of ROLES) {
    const seed = usersIn[role];
    if (typeof seed === "string" && seed.startsWith("SU")) users[role] = seed;
  }
  const signing = typeof o.signing === "string" && o.signing.startsWith("SU") ? o.signing : "";
  const trustedSigners = Array.isArray(o.trustedSigners)
    ? o.trustedSigners.filter((k): k is string => typeof k === "string" && /^U[A-Z2-7]{55}$/.test(k))
    : [];
  const callersIn = (typeof o.callers === "object" && o.callers !== null ? o.callers : {}) as Record<string, unknown>;
  const callers: Record<string, string> = {};
  for (const [name, seed] of Object.entries(callersIn)) {
    if (CALLER_NAME.test(name) && typeof seed === "string" && seed.startsWith("SU")) callers[name] = seed;
  }
  const groupsIn = (typeof o.workerGroups === "object" && o.workerGroups !== null ? o.workerGroups : {}) as Record<string, unknown>;
  const workerGroups: KeyFile["workerGroups"] = {};
  for (const [name, group] of Object.entries(groupsIn)) {
    const g = (typeof group === "object" && group !== null ? group : {}) as Record<string, unknown>;
    const functions = Array.isArray(g.functions) ? g.functions.filter((f): f is string => typeof f === "string") : [];
    if (CALLER_NAME.test(name) && typeof g.seed === "string" && g.seed.startsWith("SU")) workerGroups[name] = { seed: g.seed, functions };
  }
  return { users, signing, trustedSigners, callers, workerGroups };
}
