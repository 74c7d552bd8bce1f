/** The error a non-durable function gets from a durable member of its context. */
import { FunctionError } from "../errors.ts";

/** A 500 (a bug in the function): `ctx.<member>` needs `durable` in the definition. */
export function notDurable(member: string): FunctionError {
  return new FunctionError(500, "internal error", undefined, {
    cause: new Error(`ctx.${member} needs durable: true in the function's definition`),
  });
}
