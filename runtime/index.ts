/**
 * The public entry of the runtime: everything a function module or a tool imports.
 * Functions import only from here.
 */
export { defineFunction, isFunctionDefinition, DEFAULT_LIMITS, type FunctionDefinition } from "./define-function.ts";
export { FunctionError, isFunctionError, ERROR_CODES, clipInput, type ErrorCode, type ErrorType, type ErrorBody } from "./errors.ts";
export type {
  Context,
  FunctionSpec,
  FunctionLimits,
  Caller,
  AuthRequirement,
  EventTrigger,
  DomainEvent,
  CallOptions,
  EmitOptions,
  Visibility,
} from "./types.ts";
export type { Logger } from "./logger.ts";
export { createLogger } from "./logger.ts";
export { configFromEnv, type RuntimeConfig } from "./config.ts";
export { startHost, runFunctions, type Host, type HostOptions } from "./host.ts";
export { kvKey, idFromKvKey } from "./kv-key.ts";
export { kvRetention, retentionFromEnv, type RetentionLimits } from "./retention.ts";
