/** Request and response validation with ajv: schemas compiled once, errors as `{path, message}`. */
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import { type ErrorDetail, MAX_ECHO, clipInput } from "./errors.ts";

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

// A path names at most this many levels; deeper ones are elided in the middle.
const MAX_PATH_SEGMENTS = 8;

/**
 * Converts ajv errors into contract details whose paths are JSON Pointers to the offending value.
 * A property name from the request appears cut to MAX_ECHO characters (marked `…`), so a detail
 * never echoes a long key; ajv's messages name the schema, never the value.
 */
export function toDetails(errors: ErrorObject[]): ErrorDetail[] {
  return errors.map((e) => {
    const segments = e.instancePath === "" ? [] : e.instancePath.slice(1).split("/");
    const params = e.params as Record<string, unknown>;
    let message = e.message ?? "is invalid";
    if (e.keyword === "required" && typeof params.missingProperty === "string") {
      segments.push(escapePointer(params.missingProperty));
    } else if (e.keyword === "additionalProperties" && typeof params.additionalProperty === "string") {
      segments.push(escapePointer(params.additionalProperty));
      message = "is not allowed";
    }
    return { path: boundedPointer(segments), message: clipInput(message, 256) };
  });
}

/** A JSON Pointer from escaped segments, each cut to MAX_ECHO characters, with at most MAX_PATH_SEGMENTS levels. */
function boundedPointer(segments: string[]): string {
  const clipped = segments.map((s) => clipInput(s, MAX_ECHO));
  const kept =
    clipped.length <= MAX_PATH_SEGMENTS
      ? clipped
      : [...clipped.slice(0, MAX_PATH_SEGMENTS / 2), "…", ...clipped.slice(-MAX_PATH_SEGMENTS / 2)];
  return kept.map((s) => `/${s}`).join("");
}

function escapePointer(key: string): string {
  return key.replace(/~/g, "~0").replace(/\//g, "~1");
}
