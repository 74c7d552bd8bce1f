/** Contexts for work that no request started: timers, and events that trigger functions. */
import { randomUUID } from "node:crypto";
import type { FunctionDefinition } from "./define-function.ts";
import { Cancellation, RequestContext } from "./context.ts";
import type { InstanceEnvironment } from "./function-instance.ts";
import { subjectFor } from "./config.ts";
import { continueTrace } from "./trace.ts";

/** Where internal work comes from: an event (its id, correlation and trace) or nothing. */
export interface InternalOrigin {
  requestId?: string;
  correlationId?: string;
  traceparent?: string;
}

/** A context for internal work of `def`, with the function's timeout as deadline. */
export function createInternalContext(
  def: FunctionDefinition,
  env: InstanceEnvironment,
  origin: InternalOrigin = {},
): { ctx: RequestContext; done(): void } {
  const cancel = new Cancellation();
  const timer = setTimeout(
    () => cancel.abort(new Error(`${def.name} internal work ran past ${def.limits.timeoutMs} ms`)),
    def.limits.timeoutMs,
  );
  const ctx = new RequestContext({
    nc: env.nc,
    state: env.state,
    subjectFor: (fn) => subjectFor(env, fn),
    fn: { name: def.name, version: def.version },
    headers: undefined,
    trace: continueTrace(origin.traceparent),
    correlationId: origin.correlationId ?? randomUUID(),
    requestId: origin.requestId ?? randomUUID(),
    deadline: Date.now() + def.limits.timeoutMs,
    cancel,
    log: env.log.child({ fn: def.name, version: def.version }),
  });
  return { ctx, done: () => clearTimeout(timer) };
}
