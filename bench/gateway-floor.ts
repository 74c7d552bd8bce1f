/**
 * The floor of `npm run bench:gateway` (BENCH_FLOOR=1): node:http relaying every POST body to one
 * NATS subject through the project's client and the reply bytes back, with the gateway's write
 * batching and nothing else: no edge rules, routing, limits, metrics, traces, retries or request
 * log. What the gateway costs beyond this is what its features cost; what this costs is node:http
 * and the NATS client themselves.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { headers as natsHeaders, type NatsConnection } from "@nats-io/nats-core";
import { muxRequest } from "../runtime/client/reply-mux.ts";
import { TIMEOUT_MS } from "../runtime/headers.ts";
import { sameWrite } from "../gateway/write-batch.ts";

const TIMEOUT = 5500;

/** Listens on a free loopback port and resolves with its URL. */
export async function startFloor(nc: NatsConnection, subject: string): Promise<string> {
  const server = createServer((req, res) => {
    if (req.method !== "POST") {
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on(
      "end",
      () =>
        void sameWrite().then(() => {
          const h = natsHeaders();
          h.set(TIMEOUT_MS, String(TIMEOUT));
          muxRequest(nc, subject, Buffer.concat(chunks), h, TIMEOUT).then(
            (m) => {
              res.writeHead(200, { "content-type": "application/json", "content-length": m.data.length });
              res.end(m.data);
            },
            () => res.writeHead(502).end(),
          );
        }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}
