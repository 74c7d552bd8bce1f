/**
 * The reservation sweeper: releases expired reservations, finishes or releases abandoned ones and
 * repairs marks a crash left on a sku. Its work per run is bounded: it takes at most a batch of due
 * reservations from the shared consumer of the reservations bucket (each is looked at again, by any
 * instance, when it next falls due) and looks at a batch of sku records from where the last run stopped.
 */
import type { JsMsg } from "@nats-io/jetstream";
import { changeLine, migrateSku } from "./inventory-store.ts";
import { isLegacySku } from "./stock-legacy.ts";
import { takeOver, work } from "./stock-owner.ts";
import { abandonReservation, expireReservation } from "./stock-settle.ts";
import { DUE_CONSUMER, type StockStore, ensureDueConsumer, leaseOver, readReservation, unsettled } from "./stock-store.ts";
import { DUE_STREAM, INVENTORY_BUCKET, type Reservation, type StockMark, type StockRecord } from "./stock-types.ts";

/** What one sweep did. */
export interface SweepResult {
  expired: number;
  abandoned: number;
  finished: number;
  orphanMarks: number;
}

// Where the sku scan goes on from, per process (every instance scanning a different part is fine).
let skuCursor = 0;
const VISITS_AT_ONCE = 16;
const MARKS_AT_ONCE = 64;

/** One bounded pass: due reservations first, then a batch of skus. */
export async function sweepReservations(store: StockStore): Promise<SweepResult> {
  const result: SweepResult = { expired: 0, abandoned: 0, finished: 0, orphanMarks: 0 };
  await ensureDueConsumer(store);
  const consumer = await store.ctx.js.consumers.get(DUE_STREAM, DUE_CONSUMER);
  const batch = await consumer.fetch({ max_messages: store.settings.sweepBatch, expires: 1000 });
  const msgs: JsMsg[] = [];
  for await (const m of batch) {
    msgs.push(m);
    if (m.info.pending === 0) break;
  }
  for (let i = 0; i < msgs.length; i += VISITS_AT_ONCE) {
    if (store.ctx.signal.aborted) break;
    await Promise.all(msgs.slice(i, i + VISITS_AT_ONCE).map((m) => visitDue(store, m, result)));
  }
  await scanSkus(store, result);
  return result;
}

async function visitDue(store: StockStore, m: JsMsg, result: SweepResult): Promise<void> {
  try {
    const op = m.headers?.get("KV-Operation");
    if (op === "DEL" || op === "PURGE" || m.data.length === 0) {
      m.ack();
      return;
    }
    // The message is a revision of the record; every action below re-checks the latest one.
    const r = m.json<Reservation>();
    // A record written within the last interval is almost surely still with its writer: look next time.
    const young = store.settings.sweepIntervalMs - (Date.now() - m.info.timestampNanos / 1e6);
    const next = young > 0 ? young : await visit(store, r, result);
    if (next === undefined) m.ack();
    else m.nak(Math.max(50, Math.min(next, 86_400_000)));
  } catch (err) {
    store.ctx.log.warn("reservation sweep failed; retried on the next pass", { error: err });
    m.nak(1000);
  }
}

// Looks at one reservation; returns ms until it must be looked at again, or undefined when it needs nothing more.
async function visit(store: StockStore, r: Reservation, result: SweepResult): Promise<number | undefined> {
  const { staleMs, skewMs } = store.settings;
  const now = Date.now();
  const { orderId } = r;
  const leaseEnd = (r.leaseUntil ?? Date.parse(r.updatedAt) + store.settings.leaseMs) + skewMs;
  if (r.status === "pending") {
    const staleAt = Math.max(leaseEnd, Date.parse(r.updatedAt) + staleMs);
    if (now <= staleAt) return staleAt - now + 1;
    if (await abandonReservation(store, orderId, now)) result.abandoned++;
    return 100;
  }
  if (unsettled(r)) {
    if (!leaseOver(store, r, now)) return leaseEnd - now + 1;
    const mine = await takeOver(store, orderId);
    if (mine) {
      await work(store, mine);
      result.finished++;
    }
    return 100;
  }
  if (r.status === "reserved") {
    const expiresAt = Date.parse(r.expiresAt);
    if (now < expiresAt) return expiresAt - now;
    if (await expireReservation(store, orderId, now)) result.expired++;
    return 100;
  }
  return undefined;
}

// A bounded slice of the sku records: a mark older than the stale time is work a crash left behind.
async function scanSkus(store: StockStore, result: SweepResult): Promise<void> {
  const jsm = await store.ctx.js.jetstreamManager(false);
  const subject = `$KV.${INVENTORY_BUCKET}.>`;
  for (let i = 0; i < store.settings.sweepBatch && !store.ctx.signal.aborted; i++) {
    const m = await jsm.direct.getMessage(`KV_${INVENTORY_BUCKET}`, { seq: skuCursor, next_by_subj: subject }).catch(() => null);
    if (!m) {
      skuCursor = 0;
      return;
    }
    skuCursor = m.seq + 1;
    if (m.data.length === 0) continue;
    const rec = m.json<StockRecord>();
    // A record of the previous model: migrated now, its holds (now marks) settled on the next pass.
    if (isLegacySku(rec)) {
      await migrateSku(store.skus, rec.sku);
      continue;
    }
    const now = Date.now();
    const stale = (rec.marks ?? []).filter((mark) => now - mark.at > store.settings.staleMs);
    // Side by side, so the changes to the one sku coalesce into few writes.
    for (let i = 0; i < stale.length && !store.ctx.signal.aborted; i += MARKS_AT_ONCE) {
      await Promise.all(stale.slice(i, i + MARKS_AT_ONCE).map((mark) => repairMark(store, rec.sku, mark, result)));
    }
  }
}

async function repairMark(store: StockStore, sku: string, mark: StockMark, result: SweepResult): Promise<void> {
  const r = await readReservation(store, mark.o);
  if (r && unsettled(r)) {
    // The reservation says what to do: its own path finishes it (and forgets the mark).
    await visit(store, r, result);
    return;
  }
  const leaseUntil = Date.now() + store.settings.leaseMs;
  // A hold of a reservation that is `reserved` is recorded there: the mark is only forgotten.
  if (mark.p === "h" && r?.status !== "reserved") {
    // A hold for an order that is over (or never existed) holds nothing anyone will sell: give it back.
    await changeLine(store.skus, sku, { orderId: mark.o, op: "free", quantity: mark.q, leaseUntil });
    result.orphanMarks++;
  }
  await changeLine(store.skus, sku, { orderId: mark.o, op: "unmark", quantity: 0, leaseUntil });
}
