/** Request and response validation with ajv: schemas compiled once, errors as `{path, message}`. */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import type { ErrorDetail } from "./errors.ts";

// ajv-formats ships CommonJS; its default export arrives wrapped under NodeNext.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/** A compiled validator for one schema. */
export interface Validator {
  /** Returns `undefined` when `value` is valid, else the first failure as details. */
  (value: unknown): ErrorDetail[] | undefined;
}

function newAjv(): Ajv {
  // No allErrors and no $data: both let an untrusted payload make validation expensive.
  const ajv = new Ajv({ strict: true, allErrors: false, allowUnionTypes: true });
  addFormats(ajv);
  return ajv;
}

/** Compiles `schema` once; throws at startup (not per request) when the schema is invalid. */
export function compileValidator(schema: object): Validator {
  const validate: ValidateFunction = newAjv().compile(schema);
  return (value) => (validate(value) ? undefined : toDetails(validate.errors ?? []));
}

/** Converts ajv errors into contract details whose paths are JSON Pointers to the offending value. */
export function toDetails(errors: ErrorObject[]): ErrorDetail[] {
  return errors.map((e) => {
    let path = e.instancePath;
    const params = e.params as Record<string, unknown>;
    if (e.keyword === "required" && typeof params.missingProperty === "string") {
      path += `/${escapePointer(params.missingProperty)}`;
    } else if (e.keyword === "additionalProperties" && typeof params.additionalProperty === "string") {
      path += `/${escapePointer(params.additionalProperty)}`;
      return { path, message: "is not allowed" };
    }
    return { path, message: e.message ?? "is invalid" };
  });
}

function escapePointer(key: string): string {
  return key.replace(/~/g, "~0").replace(/\//g, "~1");
}
