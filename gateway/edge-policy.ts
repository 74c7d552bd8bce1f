/**
 * What the gateway accepts at its edge before any route runs: the `Host` of a loopback bind (DNS
 * rebinding), the `Origin` of a browser request (cross-site requests), and the security headers
 * every response carries. Everything here is computed once at start, never per request.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { FunctionError } from "../runtime/errors.ts";

/** Headers on every response: no framing, no sniffing, no referrer, and only the gateway's own scripts and styles. */
export const SECURITY_HEADERS: readonly (readonly [string, string])[] = [
  [
    "content-security-policy",
    // Inline style attributes draw the dashboard's bars; no inline script, nothing from elsewhere.
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  ],
  ["x-content-type-options", "nosniff"],
  ["x-frame-options", "DENY"],
  ["referrer-policy", "no-referrer"],
  ["cross-origin-opener-policy", "same-origin"],
  ["cross-origin-resource-policy", "same-origin"],
];

const LOOPBACK_HOSTS = new Set(["localhost", "127.0.0.1", "::1", "[::1]"]);

/** True when `host` (an address to listen on) is a loopback address or name. */
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host.toLowerCase()) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Settings of the edge. */
export interface EdgePolicyOptions {
  /** The address the server listens on. */
  bindHost: string;
  port: number;
  /** The URL clients use to reach the gateway (NFN_GATEWAY_PUBLIC_URL); default the listen URL. */
  publicUrl?: string;
  /** Further origins allowed to call from a browser (NFN_GATEWAY_ORIGINS). */
  origins?: readonly string[];
}

/** The edge rules of one gateway. */
export class EdgePolicy {
  /** The gateway's own base URL, for links and the OpenAPI `servers` entry. */
  readonly publicUrl: string;
  /** The origin of `publicUrl`. */
  readonly ownOrigin: string;
  private readonly origins: ReadonlySet<string>;
  /** Host header values accepted; undefined when any is (a bind beyond loopback, behind its own DNS). */
  private readonly hosts: ReadonlySet<string> | undefined;

  constructor(options: EdgePolicyOptions) {
    const listenUrl = `http://${options.bindHost.includes(":") ? `[${options.bindHost}]` : options.bindHost}:${options.port}`;
    this.publicUrl = (options.publicUrl ?? listenUrl).replace(/\/+$/, "");
    const own = new URL(this.publicUrl);
    this.ownOrigin = own.origin;
    const origins = new Set<string>([own.origin, new URL(listenUrl).origin]);
    for (const o of options.origins ?? []) origins.add(normaliseOrigin(o));
    if (isLoopbackHost(options.bindHost)) {
      // One laptop: the page may be opened through any loopback name of the same port.
      for (const name of ["localhost", "127.0.0.1", "[::1]"]) origins.add(`http://${name}:${options.port}`);
      const hosts = new Set<string>();
      for (const name of ["localhost", "127.0.0.1", "[::1]", options.bindHost.includes(":") ? `[${options.bindHost}]` : options.bindHost]) {
        hosts.add(name);
        hosts.add(`${name}:${options.port}`);
      }
      hosts.add(own.host);
      this.hosts = hosts;
    }
    this.origins = origins;
  }

  /** The refusal for a request that fails the edge rules, or undefined when it passes. */
  check(req: IncomingMessage): FunctionError | undefined {
    if (this.hosts) {
      const host = req.headers.host?.toLowerCase();
      if (host === undefined || !this.hosts.has(host)) {
        return new FunctionError(403, "this gateway listens on loopback and answers only a loopback Host (localhost, 127.0.0.1, [::1])");
      }
    }
    const origin = req.headers.origin;
    if (origin !== undefined && !this.origins.has(origin.toLowerCase())) {
      return new FunctionError(403, "requests from this origin are not allowed: add it to NFN_GATEWAY_ORIGINS");
    }
    return undefined;
  }
}

const CORS_PREFLIGHT: readonly (readonly [string, string])[] = [
  ["access-control-allow-methods", "POST"],
  ["access-control-allow-headers", "content-type, authorization, idempotency-key, traceparent, nfn-correlation-id, nfn-timeout-ms"],
  ["access-control-expose-headers", "traceparent"],
  ["access-control-max-age", "600"],
];

/**
 * For a request from a configured foreign origin (it passed `check`), the CORS headers that let
 * its page read the reply; answers the preflight itself and returns true when it did.
 */
export function applyCors(req: IncomingMessage, res: ServerResponse, ownOrigin: string): boolean {
  const origin = req.headers.origin;
  if (origin === undefined || origin.toLowerCase() === ownOrigin) return false;
  res.setHeader("access-control-allow-origin", origin);
  res.setHeader("vary", "Origin");
  if (req.method !== "OPTIONS") return false;
  setSecurityHeaders(res);
  for (const [name, value] of CORS_PREFLIGHT) res.setHeader(name, value);
  res.writeHead(204);
  res.end();
  return true;
}

/** Sets the security headers on a response before anything writes it. */
export function setSecurityHeaders(res: ServerResponse): void {
  for (const [name, value] of SECURITY_HEADERS) res.setHeader(name, value);
}

/** The public URL and extra origins from NFN_GATEWAY_PUBLIC_URL and NFN_GATEWAY_ORIGINS; throws, naming the variable, for a malformed value. */
export function edgeSettingsFromEnv(env: NodeJS.ProcessEnv): { publicUrl?: string; origins: string[] } {
  const publicUrl = env.NFN_GATEWAY_PUBLIC_URL || undefined;
  if (publicUrl !== undefined && !URL.canParse(publicUrl)) {
    throw new Error(`NFN_GATEWAY_PUBLIC_URL "${publicUrl.slice(0, 64)}" is not a URL: write it as https://api.example.com`);
  }
  try {
    return { publicUrl, origins: parseOrigins(env.NFN_GATEWAY_ORIGINS) };
  } catch (err) {
    throw new Error(`NFN_GATEWAY_ORIGINS: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Origins from a comma-separated list (NFN_GATEWAY_ORIGINS); throws for an entry that is not an origin. */
export function parseOrigins(text: string | undefined): string[] {
  if (!text) return [];
  return text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map(normaliseOrigin);
}

function normaliseOrigin(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`"${text.slice(0, 64)}" is not an origin: write it as scheme://host[:port], e.g. https://shop.example.com`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new Error(`origin "${text.slice(0, 64)}" must be http or https`);
  return url.origin;
}
