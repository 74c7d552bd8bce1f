/**
 * The public client entry, `nats-functions/client`: find a function through `$SRV` discovery, call
 * it, decode the reply or the error. Used by `ctx.call`, the HTTP gateway, the CLI and generated clients.
 */
export { FunctionClient, type FunctionClientOptions, type ClientCallOptions } from "./function-client.ts";
export {
  requestFunction,
  requestWithRetry,
  callFunction,
  decodeReply,
  replyError,
  replyErrorCode,
  type RequestSpec,
  type RetryingRequestSpec,
} from "./request.ts";
export {
  collect,
  discoverInfo,
  discoverPing,
  discoverStats,
  discoverySubject,
  STALL_MS,
  type DiscoveryVerb,
  type DiscoveryOptions,
  type ServiceIdentity,
  type InfoEndpoint,
  type InfoReply,
  type StatsEndpoint,
  type StatsReply,
  type PingReply,
} from "./discovery.ts";
export {
  RUNTIME_NAME,
  contractsOf,
  compareVersions,
  findFunction,
  functionEndpoint,
  isPublicFunction,
  parseSchema,
  type FindOptions,
  type FunctionContract,
} from "./functions.ts";
export { FunctionError, isFunctionError, ERROR_CODES, type ErrorCode, type ErrorType, type ErrorBody } from "../errors.ts";
