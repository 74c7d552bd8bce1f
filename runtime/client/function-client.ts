/** `FunctionClient`: call functions by name from any application; subjects come from `$SRV.INFO` and are cached. */
import type { NatsConnection } from "@nats-io/nats-core";
import { FunctionError, isFunctionError } from "../errors.ts";
import { findFunction } from "./functions.ts";
import { callFunction } from "./request.ts";

/** Options of a client. */
export interface FunctionClientOptions {
  /** Deadline of one call in ms (default 5000). */
  timeoutMs?: number;
  /** Headers sent with every call (for example `Authorization: Bearer <jwt>`). */
  headers?: Record<string, string>;
  /** How long discovery waits for the first INFO reply (default 2000 ms). */
  discoveryTimeoutMs?: number;
}

/** Per-call options. */
export interface ClientCallOptions {
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/** Calls functions by name over one NATS connection; errors are FunctionError with the contract's codes. */
export class FunctionClient {
  private readonly subjects = new Map<string, Promise<string>>();

  constructor(
    readonly nc: NatsConnection,
    private readonly options: FunctionClientOptions = {},
  ) {}

  /** Calls `fn` with `input` and returns its decoded reply; throws FunctionError (503 when nothing serves it). */
  async call<T = unknown>(fn: string, input: unknown, options: ClientCallOptions = {}): Promise<T> {
    const subject = await this.subjectOf(fn);
    try {
      return await callFunction<T>(this.nc, {
        subject,
        fn,
        body: JSON.stringify(input),
        headers: { ...this.options.headers, ...options.headers },
        deadline: Date.now() + (options.timeoutMs ?? this.options.timeoutMs ?? 5000),
      });
    } catch (err) {
      // The function may have moved (a redeploy with another prefix): look it up again next time.
      if (isFunctionError(err) && err.code === 503) this.subjects.delete(fn);
      throw err;
    }
  }

  private subjectOf(fn: string): Promise<string> {
    let subject = this.subjects.get(fn);
    if (!subject) {
      subject = findFunction(this.nc, fn, { timeoutMs: this.options.discoveryTimeoutMs ?? 2000 }).then((found) => {
        if (!found) {
          this.subjects.delete(fn);
          throw new FunctionError(503, `${fn} is not running: no instance answers $SRV.INFO.${fn}`);
        }
        return found.subject;
      });
      this.subjects.set(fn, subject);
    }
    return subject;
  }
}
