/** Long-running verbs (serve, dev, bench, gateway) stop on SIGINT, SIGTERM or SIGHUP (the terminal closed). */

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * Resolves with the name of the first SIGINT, SIGTERM or SIGHUP, so the verb can shut down cleanly.
 * A second signal while it does exits at once with 128 + the signal's number (exit handlers still
 * run, so a nats-server this process started is stopped). After SIGHUP the terminal is gone:
 * writing to it fails, and those failures are ignored rather than crashing the shutdown.
 */
export function waitForSignal(): Promise<string> {
  return new Promise((resolve) => {
    let first: string | undefined;
    const on = (signal: (typeof SIGNALS)[number]) => {
      if (first !== undefined) {
        process.exit(128 + (signal === "SIGINT" ? 2 : signal === "SIGTERM" ? 15 : 1));
      }
      first = signal;
      if (signal === "SIGHUP") ignoreClosedTerminal();
      resolve(signal);
    };
    for (const signal of SIGNALS) process.on(signal, on);
  });
}

function ignoreClosedTerminal(): void {
  const ignore = () => {};
  process.stdout.on("error", ignore);
  process.stderr.on("error", ignore);
}
