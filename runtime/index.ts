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
export { RunsAdmin, RunLookupError, type RunSummary, type RunDetail } from "./durable/admin.ts";
export { isDurableSignal } from "./durable/signals.ts";
export type { DurableOptions, StepOptions, StepRun, WaitOptions, EventMatch } from "./durable/types.ts";
export type { RunStatus, StepRecord } from "./durable/records.ts";
export type { Keyed, KeyedChange, KeyedUpdate, KeyedOptions, KeyedRecord, UpdateOptions } from "./keyed.ts";
export { isRevisionConflict, isStoreUnavailable } from "./keyed-errors.ts";
export { asStoreError } from "./keyed.ts";
export type { View, ViewLag, ViewReadOptions } from "./view.ts";
export { verifyJwt, MAX_TOKEN_LENGTH, CLOCK_TOLERANCE_SEC, type VerifiedToken } from "./auth/verify-jwt.ts";
export { authKeys, checkAuthConfig, hasAnyKey, MIN_SECRET_BYTES, NO_KEY_MESSAGE, type AuthKeys } from "./auth/keys.ts";
export { kvRetention, retentionFromEnv, type RetentionLimits } from "./retention.ts";
