/**
 * Request/reply over one wildcard inbox subscription per connection: what the NATS client's own
 * `request` does, without the two things it costs per call on the hot path (an Error with a stack
 * built for every request that succeeds, and a Promise.race with a timer promise). A reply is
 * matched by its token; the server's no-responders status (503, no body) and the deadline become
 * errors named NoRespondersError and TimeoutError, as the client's own are.
 */
import { createInbox, type Msg, type MsgHdrs, type NatsConnection } from "@nats-io/nats-core";
import { inboxPrefixOf } from "../connect.ts";

interface Pending {
  resolve: (msg: Msg) => void;
  reject: (err: unknown) => void;
  timer: NodeJS.Timeout;
}

/** One connection's reply subscription and its open requests. */
class ReplyMux {
  private readonly prefix: string;
  private readonly pending = new Map<string, Pending>();
  private next = 0;
  /** The subscription ended with an error (a permissions violation, say): the next call makes a new one. */
  dead = false;

  constructor(private readonly nc: NatsConnection) {
    // The connection's inbox prefix, when one is configured (callers in an account that allows only it).
    this.prefix = `${createInbox(inboxPrefixOf(nc))}.`;
    nc.subscribe(`${this.prefix}*`, {
      callback: (err, msg) => {
        if (!err) return this.settle(msg);
        this.dead = true;
        this.failAll(err);
      },
    });
    void nc.closed().then(() => this.failAll(named("RequestError", "the NATS connection is closed")));
  }

  /** Publishes `body` with a reply subject of this inbox and resolves with the reply. */
  request(subject: string, body: Uint8Array | string, headers: MsgHdrs, timeoutMs: number): Promise<Msg> {
    const token = (this.next++).toString(36);
    return new Promise<Msg>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(token);
        reject(named("TimeoutError", "timeout"));
      }, timeoutMs);
      this.pending.set(token, { resolve, reject, timer });
      try {
        this.nc.publish(subject, body, { reply: this.prefix + token, headers });
      } catch (err) {
        clearTimeout(timer);
        this.pending.delete(token);
        reject(err);
      }
    });
  }

  private settle(msg: Msg): void {
    const token = msg.subject.slice(this.prefix.length);
    const open = this.pending.get(token);
    if (!open) return; // late (after its timeout) or not ours
    this.pending.delete(token);
    clearTimeout(open.timer);
    if (msg.data.length === 0 && msg.headers?.code === 503) open.reject(named("NoRespondersError", "no responders"));
    else open.resolve(msg);
  }

  private failAll(err: unknown): void {
    for (const open of this.pending.values()) {
      clearTimeout(open.timer);
      open.reject(err);
    }
    this.pending.clear();
  }
}

const muxes = new WeakMap<NatsConnection, ReplyMux>();

/** Sends a request on `nc` through its reply inbox (made on first use). */
export function muxRequest(
  nc: NatsConnection,
  subject: string,
  body: Uint8Array | string,
  headers: MsgHdrs,
  timeoutMs: number,
): Promise<Msg> {
  let mux = muxes.get(nc);
  if (!mux || mux.dead) muxes.set(nc, (mux = new ReplyMux(nc)));
  return mux.request(subject, body, headers, timeoutMs);
}

function named(name: string, message: string): Error {
  const err = new Error(message);
  err.name = name;
  return err;
}
