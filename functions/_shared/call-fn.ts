/**
 * Typed nested calls between the marketplace's functions: the function name, its input and its reply
 * are checked against `schemas/types.ts` (generated from the schemas), so a misspelt name or field
 * is a compile error. The runtime's `ctx.call` stays generic; this is where the marketplace's names live.
 */
import type { CallOptions, Context } from "../../runtime/index.ts";
import type { FunctionTypes } from "../../schemas/types.ts";

/** A marketplace function's name. */
export type FunctionName = keyof FunctionTypes;

/** Calls `fn` with `input` (its request type) and resolves to its reply type; errors as `ctx.call` throws them. */
export function callFn<F extends FunctionName>(
  ctx: Pick<Context, "call">,
  fn: F,
  input: FunctionTypes[F]["request"],
  options?: CallOptions,
): Promise<FunctionTypes[F]["response"]> {
  return ctx.call<FunctionTypes[F]["response"]>(fn, input, options);
}
