/**
 * Starts the durable machinery of one function on one instance: opens the journal, wraps the
 * handler so each request runs as an invocation, and runs the recovery loop that takes over open
 * invocations whose lease expired or whose sleep or wait ended.
 */
import type { FunctionDefinition } from "../define-function.ts";
import type { DispatchEnvironment } from "../dispatcher.ts";
import type { Context } from "../types.ts";
import { Journal } from "./journal.ts";
import { resolveDurableOptions } from "./options.ts";
import { DurableRunner } from "./runner.ts";
import { startEventWaits } from "./event-waits.ts";

/** A durable function as the instance serves it. */
export interface DurableFunction {
  /** `def` with its handler running through the journal. */
  definition: FunctionDefinition;
  runner: DurableRunner;
  /** Stops the recovery loop and waits (at most `graceMs`) for runs in progress. */
  stop(graceMs?: number): Promise<void>;
}

/** Sets `def` up to run durably; `def.durable` must be set. */
export async function startDurable(def: FunctionDefinition, env: DispatchEnvironment): Promise<DurableFunction> {
  const options = resolveDurableOptions(def.name, def.durable ?? true);
  const journal = await Journal.open(env.nc, env.state);
  const runner = new DurableRunner(def, env, journal, options);
  const log = env.log.child({ fn: def.name, loop: "durable-recovery" });
  const stopWaits = await startEventWaits(def, env, runner, options.events);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<void> | undefined;

  // One pass reads the open index of this function only: its cost grows with what is open, not with history.
  const recover = async () => {
    for (const { id } of await journal.openIds(def.name)) {
      if (stopped) return;
      await runner.tryResume(id).catch((err: unknown) => log.warn("could not take over an invocation", { invocationId: id, error: err }));
    }
  };
  const schedule = (delay: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      pass = recover()
        .catch((err: unknown) => log.warn("durable recovery pass failed; next pass retries", { error: err }))
        .finally(() => {
          pass = undefined;
          schedule(options.pollMs);
        });
    }, delay);
    timer.unref();
  };
  schedule(options.pollMs);

  return {
    definition: Object.freeze({ ...def, handler: (input: unknown, ctx: Context) => runner.handle(input, ctx) }),
    runner,
    async stop(graceMs = 5_000) {
      stopped = true;
      clearTimeout(timer);
      await Promise.all([pass, stopWaits()]);
      await runner.stop(graceMs);
    },
  };
}
