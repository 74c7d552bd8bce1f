/** Liveness and readiness answers shared by runtime processes and the gateway. */
import type { NatsConnection } from "@nats-io/nats-core";

/** A readiness verdict with the reasons an operator needs when it is false. */
export interface Readiness {
  ready: boolean;
  nats: "connected" | "reconnecting" | "closed";
  functions: number;
  reasons: string[];
}

/** Connection state: tracked from status events, since the client has no synchronous "connected" flag. */
export function connectionState(nc: NatsConnection): () => Readiness["nats"] {
  let state: Readiness["nats"] = nc.isClosed() ? "closed" : "connected";
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect" || s.type === "reconnecting") state = "reconnecting";
      else if (s.type === "reconnect") state = "connected";
    }
  })().catch(() => {});
  return () => (nc.isClosed() ? "closed" : state);
}

/** Ready when NATS is connected and at least `minFunctions` functions are registered. */
export function readiness(nats: Readiness["nats"], functions: number, minFunctions: number): Readiness {
  const reasons: string[] = [];
  if (nats !== "connected") reasons.push(`NATS connection is ${nats}`);
  if (functions < minFunctions) reasons.push(`${functions} functions registered, ${minFunctions} needed`);
  return { ready: reasons.length === 0, nats, functions, reasons };
}
