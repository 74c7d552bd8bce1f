/** Keyed records against a real nats-server: coalesced compare-and-set writes, order, refusal isolation, size limits. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { NatsConnection } from "@nats-io/nats-core";
import { createStateAccess, type StateAccess } from "../../runtime/state.ts";
import { FunctionError, isFunctionError } from "../../runtime/errors.ts";
import { keyedStats } from "../../runtime/keyed.ts";
import { Cleanup, natsClient, natsServer } from "../helpers/nats.ts";

interface Counter {
  n: number;
  last: number[];
}

void describe("keyed records", () => {
  const hooks = new Cleanup();
  after(() => hooks.run());
  let a: StateAccess;
  let b: StateAccess;
  let nc: NatsConnection;

  before(async () => {
    const server = await natsServer(hooks);
    // Two connections: two instances as far as the server can tell.
    nc = await natsClient(hooks, server);
    a = createStateAccess(nc, 1);
    b = createStateAccess(await natsClient(hooks, server), 1);
  });

  const add = (by: number) => (cur: Counter | undefined) => {
    const n = (cur?.n ?? 0) + by;
    return { write: { n, last: [...(cur?.last ?? []), by].slice(-8) }, result: n };
  };

  void it("coalesces 400 concurrent updates from two instances into far fewer writes and loses none", async () => {
    const ka = a.keyed<Counter>("keyed_test");
    const kb = b.keyed<Counter>("keyed_test");
    const results = await Promise.all(Array.from({ length: 400 }, (_, i) => (i % 2 === 0 ? ka : kb).update("hot", add(1))));
    assert.equal((await ka.get("hot"))?.n, 400);
    // Every caller saw its own step of the count: the results are 1..400, each once.
    assert.deepEqual(
      [...results].sort((x, y) => x - y),
      Array.from({ length: 400 }, (_, i) => i + 1),
    );
    const kv = await a.kv("keyed_test");
    const entry = await kv.get("hot");
    assert.ok(entry && entry.revision < 400, `revision ${entry?.revision}: writes were not coalesced`);
  });

  void it("counts what two contending instances did: every update, each write (the key's revisions) and each lost race", async () => {
    const ka = a.keyed<Counter>("keyed_counted");
    const kb = b.keyed<Counter>("keyed_counted");
    await Promise.all(Array.from({ length: 400 }, (_, i) => (i % 2 === 0 ? ka : kb).update("hot", add(1))));
    const counted = keyedStats().keyed_counted;
    const entry = await (await a.kv("keyed_counted")).get("hot");
    assert.equal(counted?.updates, 400);
    // Only this key lives in the bucket: its revision is the number of writes that landed.
    assert.equal(counted?.writes, entry?.revision);
    assert.ok((counted?.conflicts ?? 0) >= 0 && (counted?.reads ?? 0) >= (counted?.conflicts ?? 0), JSON.stringify(counted));
  });

  void it("applies the updates of one instance in the order they were made", async () => {
    const k = a.keyed<Counter>("keyed_test");
    const steps = [1, 2, 3, 4, 5, 6, 7, 8];
    await Promise.all(steps.map((s) => k.update("ordered", add(s))));
    assert.deepEqual((await k.get("ordered"))?.last, steps);
  });

  void it("a refusing update fails alone; the rest of its batch is written", async () => {
    const k = a.keyed<Counter>("keyed_test");
    const refuse = () => {
      throw new FunctionError(409, "not enough");
    };
    const outcomes = await Promise.allSettled([k.update("mixed", add(1)), k.update("mixed", refuse), k.update("mixed", add(10))]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ["fulfilled", "rejected", "fulfilled"],
    );
    const refused = outcomes[1];
    assert.ok(refused?.status === "rejected" && isFunctionError(refused.reason) && refused.reason.code === 409);
    assert.equal((await k.get("mixed"))?.n, 11);
  });

  void it("refuses with 409 an update that would grow a record past its limit, and keeps the record as it was", async () => {
    const k = a.keyed<{ blob: string }>("keyed_small", { maxBytes: 200 });
    await k.update("r", () => ({ write: { blob: "x".repeat(50) }, result: undefined }));
    const outcomes = await Promise.allSettled([
      k.update("r", () => ({ write: { blob: "y".repeat(500) }, result: undefined })),
      k.update("r", (cur) => ({ write: { blob: `${cur?.blob ?? ""}z` }, result: undefined })),
    ]);
    const [big, small] = outcomes;
    assert.ok(big?.status === "rejected" && isFunctionError(big.reason) && big.reason.code === 409, "the growing update is refused");
    assert.match(String((big.reason as Error).message), /over its limit of 200/);
    assert.equal(small?.status, "fulfilled");
    assert.equal((await k.get("r"))?.blob, `${"x".repeat(50)}z`);
  });

  void it("re-applies a batch when another writer changed the record since this instance cached it", async () => {
    const ka = a.keyed<Counter>("keyed_test");
    const kb = b.keyed<Counter>("keyed_test");
    await ka.update("stale", add(1));
    await kb.update("stale", add(100)); // a's cached value is now stale
    assert.equal(await ka.update("stale", add(1)), 102);
  });

  void it("confirms a refusal on the latest value, not on a stale cached one", async () => {
    const ka = a.keyed<Counter>("keyed_test");
    const kb = b.keyed<Counter>("keyed_test");
    await ka.update("gate", add(0));
    await kb.update("gate", add(5));
    // Refuses when n is 0: the cached value says 0, the server says 5.
    const n = await ka.update("gate", (cur) => {
      if (!cur || cur.n === 0) throw new FunctionError(409, "empty");
      return { result: cur.n };
    });
    assert.equal(n, 5);
  });

  void it("ids that are property names of plain objects are ordinary keys", async () => {
    const k = a.keyed<Counter>("keyed_test");
    for (const id of ["__proto__", "toString", "constructor", "a..b", ".x"]) {
      assert.equal(await k.update(id, add(3)), 3, id);
      assert.equal((await k.get(id))?.n, 3, id);
    }
  });
});
