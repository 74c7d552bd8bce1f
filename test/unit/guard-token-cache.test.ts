import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MAX_CACHED_TOKENS, TokenCache } from "../../runtime/auth/token-cache.ts";

describe("the verified-token cache", () => {
  it("holds at most its bound, dropping the least recently used first", () => {
    const cache = new TokenCache<number>();
    const now = 1_000_000;
    const exp = now / 1000 + 3600;
    cache.set("token-0", 0, exp, now);
    for (let i = 1; i < MAX_CACHED_TOKENS; i++) cache.set(`token-${i}`, i, exp, now);
    assert.equal(cache.get("token-0", now), 0); // used: now the youngest
    for (let i = 0; i < 500; i++) cache.set(`extra-${i}`, i, exp, now);
    assert.equal(cache.size, MAX_CACHED_TOKENS);
    assert.equal(cache.get("token-0", now), 0);
    assert.equal(cache.get("token-1", now), undefined);
    assert.equal(cache.get("token-500", now), undefined);
    assert.equal(cache.get("token-501", now), 501);
  });

  it("never keeps a verdict past the token's exp, nor past its own ttl", () => {
    const cache = new TokenCache<string>(10, 30_000);
    const now = 5_000_000;
    cache.set("soon", "a", now / 1000 + 2, now);
    cache.set("later", "b", now / 1000 + 3600, now);
    cache.set("expired", "c", now / 1000 - 1, now);
    assert.equal(cache.get("soon", now + 1999), "a");
    assert.equal(cache.get("soon", now + 2000), undefined);
    assert.equal(cache.get("expired", now), undefined);
    assert.equal(cache.get("later", now + 29_999), "b");
    assert.equal(cache.get("later", now + 30_000), undefined);
    assert.equal(cache.size, 0);
  });
});
