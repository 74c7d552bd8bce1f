/**
 * Inside a bundle this replaces runtime/validation.ts: the validators were generated at build time
 * (deploy/bundle/precompile.ts), so neither ajv's compiler nor a compile step ships or runs.
 */
import type { ErrorDetail } from "./errors.ts";
import type { Validator } from "./validation.ts";
// Served by the build's plugin: the function's validators keyed by their schema's JSON.
// @ts-expect-error -- a virtual module that exists only while esbuild builds a bundle
import { validators } from "nfn:validators";

/** The ajv error fields the details need (ajv's ErrorObject, without importing ajv). */
interface AjvError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

type StandaloneValidate = ((value: unknown) => boolean) & { errors?: AjvError[] | null };

/** The precompiled validator of `schema`; throws at start when the bundle was built without it. */
export function compileValidator(schema: object): Validator {
  const validate = (validators as Map<string, StandaloneValidate>).get(JSON.stringify(schema));
  if (!validate) throw new Error("this bundle has no precompiled validator for a schema of its function: rebuild it with nfn build");
  return (value) => (validate(value) ? undefined : toDetails(validate.errors ?? []));
}

/** Same mapping as runtime/validation.ts toDetails (JSON Pointer paths); the bundles e2e test compares the two. */
export function toDetails(errors: AjvError[]): ErrorDetail[] {
  return errors.map((e) => {
    let path = e.instancePath;
    if (e.keyword === "required" && typeof e.params.missingProperty === "string") {
      path += `/${escapePointer(e.params.missingProperty)}`;
    } else if (e.keyword === "additionalProperties" && typeof e.params.additionalProperty === "string") {
      return { path: `${path}/${escapePointer(e.params.additionalProperty)}`, message: "is not allowed" };
    }
    return { path, message: e.message ?? "is invalid" };
  });
}

function escapePointer(key: string): string {
  return key.replace(/~/g, "~0").replace(/\//g, "~1");
}
