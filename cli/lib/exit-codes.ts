/** Exit codes of every `nfn` verb, documented in the README's CLI reference. */
export const EXIT = {
  /** The command did what was asked. */
  OK: 0,
  /** The function replied with an error (any contract code), or a bench saw errors. */
  SERVICE_ERROR: 1,
  /** Bad arguments, an unreadable payload, or a payload that fails the request schema locally. */
  USAGE: 2,
  /** Nothing answered: the function is not running (no responders, or unknown to $SRV discovery). */
  NO_RESPONDERS: 3,
  /** The request or discovery ran out of time. */
  TIMEOUT: 4,
  /** NATS could not be reached or refused the credentials. */
  CONNECTION: 5,
  /** A bug or an unexpected failure in the CLI itself. */
  INTERNAL: 10,
} as const;

/** One of the codes above. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
