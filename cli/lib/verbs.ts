/** The verbs of `nfn`, each imported only when it runs, so one verb never loads another's dependencies. */
import type { Command } from "commander";

/** What a verb module exports. */
export interface VerbModule {
  register(program: Command): void;
}

/** Verb name → its module. Literal import() calls, so the CLI build splits one chunk per verb. */
export const VERBS: Readonly<Record<string, () => Promise<VerbModule>>> = {
  serve: () => import("../commands/serve.ts"),
  dev: () => import("../commands/dev.ts"),
  test: () => import("../commands/test.ts"),
  invoke: () => import("../commands/invoke.ts"),
  ls: () => import("../commands/ls.ts"),
  info: () => import("../commands/info.ts"),
  stats: () => import("../commands/stats.ts"),
  ping: () => import("../commands/ping.ts"),
  schema: () => import("../commands/schema.ts"),
  token: () => import("../commands/token.ts"),
  server: () => import("../commands/server.ts"),
  bench: () => import("../commands/bench.ts"),
  build: () => import("../commands/build.ts"),
  deploy: () => import("../commands/deploy.ts"),
  releases: () => import("../commands/releases.ts"),
  rollback: () => import("../commands/rollback.ts"),
  undeploy: () => import("../commands/undeploy.ts"),
  worker: () => import("../commands/worker.ts"),
  status: () => import("../commands/status.ts"),
  gateway: () => import("../commands/gateway.ts"),
  dashboard: () => import("../commands/dashboard.ts"),
  auth: () => import("../commands/auth.ts"),
  gen: () => import("../commands/gen.ts"),
  runs: () => import("../commands/runs.ts"),
};

/** One line of the root help: the verb's usage term and its description. */
export interface VerbSummary {
  name: string;
  term: string;
  description: string;
}

/** Registers every verb, in table order (what root help and an unknown verb need). */
export async function registerAll(program: Command): Promise<Command> {
  const modules = await Promise.all(Object.values(VERBS).map((load) => load()));
  for (const mod of modules) mod.register(program);
  return program;
}

/** The root help's verb lines of a program with every verb registered (the CLI build records them). */
export function verbSummaries(program: Command): VerbSummary[] {
  const help = program.createHelp();
  return program.commands.map((cmd) => ({
    name: cmd.name(),
    term: help.subcommandTerm(cmd),
    description: help.subcommandDescription(cmd),
  }));
}

/** Adds placeholder verbs that print exactly as the real ones in the root help, without importing them. */
export function registerSummaries(program: Command, summaries: VerbSummary[]): void {
  const terms = new Map(summaries.map((s) => [s.name, s.term]));
  for (const s of summaries) program.command(s.name).description(s.description);
  const help = program.createHelp();
  program.configureHelp({ subcommandTerm: (cmd) => terms.get(cmd.name()) ?? help.subcommandTerm(cmd) });
}

/**
 * The verb `argv` names (`nfn [global options] <verb> ...`, or `nfn help <verb>`), skipping the
 * values of global options; undefined when there is none.
 */
export function findVerb(program: Command, argv: readonly string[]): string | undefined {
  const takesValue = new Set<string>();
  for (const opt of program.options) {
    if (!opt.required && !opt.optional) continue;
    if (opt.short) takesValue.add(opt.short);
    if (opt.long) takesValue.add(opt.long);
  }
  let helpVerb = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--") return undefined;
    if (arg.startsWith("-")) {
      if (!arg.includes("=") && takesValue.has(arg)) i++;
      continue;
    }
    if (arg === "help" && !helpVerb) {
      helpVerb = true;
      continue;
    }
    return arg;
  }
  return undefined;
}
