/** Store failures, classified in one place: what passes (elections, restarts, timeouts) is 503, a lost race is a conflict, anything else 500. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RequestError, TimeoutError } from "@nats-io/nats-core";
import { JetStreamApiError } from "@nats-io/jetstream";
import { JetStreamStatusError } from "@nats-io/jetstream/internal";
import { toFunctionError } from "../../runtime/errors.ts";
import { isRevisionConflict, isStoreUnavailable } from "../../runtime/keyed-errors.ts";
import { storeWithin } from "../../runtime/keyed.ts";

const api = (err_code: number, description: string) => new JetStreamApiError({ code: 503, err_code, description });

describe("store errors", () => {
  for (const [what, err] of [
    ["system temporarily unavailable", api(10008, "JetStream system temporarily unavailable")],
    ["cluster cannot handle the request", api(10009, "JetStream cluster can not handle request")],
    ["not enabled (meta leader not elected)", api(10076, "JetStream not enabled")],
    ["stream offline", api(10118, "stream is offline")],
    ["a status reply without a leader", new JetStreamStatusError("no responders", 503)],
    ["a timeout wrapped by a request", new RequestError("timeout", { cause: new TimeoutError() })],
    [
      "wrapped twice by a function's own code",
      new Error("saving the order failed", { cause: new Error("put", { cause: api(10008, "x") }) }),
    ],
  ] as const) {
    it(`answers ${what} with 503`, () => {
      assert.equal(isStoreUnavailable(err), true);
      assert.equal(toFunctionError(err).code, 503);
    });
  }

  it("keeps a lost compare-and-set a conflict, and a missing stream a 500", () => {
    const lost = api(10071, "wrong last sequence: 41");
    assert.equal(isRevisionConflict(lost), true);
    assert.equal(isStoreUnavailable(lost), false);
    assert.equal(toFunctionError(api(10059, "stream not found")).code, 500);
  });

  it("answers 503 when the store does not answer shortly before the deadline, and passes answers in time through", async () => {
    const hung = new Promise<never>(() => undefined);
    await assert.rejects(storeWithin(hung, Date.now() + 400), { code: 503 });
    assert.equal(await storeWithin(Promise.resolve(7), Date.now() + 400), 7);
    assert.equal(await storeWithin(Promise.resolve(8), undefined), 8);
  });
});
