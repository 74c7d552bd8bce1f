/** Where the ops HTTP server of a runtime process listens (a separate file so reading it loads nothing else). */

/** The port from NFN_HTTP_PORT, or undefined when the ops endpoint is off. */
export function opsPortFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const raw = env.NFN_HTTP_PORT;
  if (raw === undefined || raw === "") return undefined;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`NFN_HTTP_PORT=${raw} is not a port number (0-65535)`);
  return port;
}
