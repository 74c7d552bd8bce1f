/** Test helpers: a real nats-server per test file, and connections cleaned up with the test. */
import type { TestContext } from "node:test";
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/nats-core";
import { type LocalNatsServer, type NatsServerOptions, startNatsServer } from "../../runtime/nats-server.ts";

type AfterHook = Pick<TestContext, "after"> | { after(fn: () => Promise<void> | void): void };

/** Starts a nats-server with JetStream on a free port; stopped when `t` ends. */
export async function natsServer(t: AfterHook, options?: NatsServerOptions): Promise<LocalNatsServer> {
  const server = await startNatsServer(options);
  t.after(() => server.stop());
  return server;
}

/** A client connection to `server`; closed when `t` ends. */
export async function natsClient(t: AfterHook, server: { url: string }): Promise<NatsConnection> {
  const nc = await connect({ servers: server.url });
  t.after(async () => {
    if (!nc.isClosed()) await nc.close();
  });
  return nc;
}

/** Polls `check` until it returns a value other than undefined/false, or fails after `ms`. */
export async function eventually<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  ms = 5000,
  what = "condition",
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Collects cleanups to run in reverse order from one suite-level `after` hook: node:test runs an
 * `after` registered inside a `before` hook right when that hook ends, which is too early.
 */
export class Cleanup {
  private readonly tasks: Array<() => unknown> = [];
  /** Registers `fn` (same shape as TestContext.after, so helpers accept either). */
  after(fn: () => unknown): void {
    this.tasks.push(fn);
  }
  /** Runs every cleanup, last registered first, even when one fails; then rethrows the first failure. */
  async run(): Promise<void> {
    let first: unknown;
    for (const task of this.tasks.splice(0).reverse()) {
      await Promise.resolve()
        .then(task)
        .catch((err: unknown) => {
          first ??= err;
          console.error("cleanup failed:", err);
        });
    }
    if (first !== undefined) throw first;
  }
}
