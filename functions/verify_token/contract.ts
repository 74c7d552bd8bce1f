/** Contract test options (`nfn test`): the input is a token, so send a fresh one signed with the system's key. */
import type { ContractOptions } from "nats-functions/testing";

export default {
  prepare: async (input, sys) => ({ ...(input as object), token: await sys.token("alice", ["orders:write"]) }),
} satisfies ContractOptions;
