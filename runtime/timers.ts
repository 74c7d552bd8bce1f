/** Runs a function's timers: once at start (unless told not to), then every `everyMs` after each run ends. */
import type { FunctionDefinition } from "./define-function.ts";
import type { InstanceEnvironment } from "./function-instance.ts";
import { createInternalContext } from "./internal-context.ts";

/** Starts every timer of `def`; returns a function that stops them and waits for a run in progress. */
export function startTimers(def: FunctionDefinition, env: InstanceEnvironment): () => Promise<void> {
  const timers = def.timers ?? [];
  let stopped = false;
  const running = new Set<Promise<void>>();
  const handles = new Set<NodeJS.Timeout>();

  for (const timer of timers) {
    const log = env.log.child({ fn: def.name, timer: timer.name });
    const schedule = (delay: number) => {
      if (stopped) return;
      const handle = setTimeout(() => {
        handles.delete(handle);
        const { ctx, done } = createInternalContext(def, env);
        const run = timer
          .run(ctx)
          .catch((err: unknown) => log.error("timer run failed", { error: err }))
          .finally(() => {
            done();
            running.delete(run);
            schedule(timer.everyMs);
          });
        running.add(run);
      }, delay);
      handle.unref();
      handles.add(handle);
    };
    schedule(timer.runOnStart === false ? timer.everyMs : 0);
  }

  return async () => {
    stopped = true;
    for (const handle of handles) clearTimeout(handle);
    await Promise.allSettled([...running]);
  };
}
