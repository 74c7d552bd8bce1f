/** The verified-token cache: bounded in entries (least recently used goes first), never past a token's `exp`. */
import { createHash } from "node:crypto";

/** Most tokens kept; one entry is a few hundred bytes whatever the token's size (keys are hashes). */
export const MAX_CACHED_TOKENS = 10_000;
/** Longest time an accepted token is trusted without verifying it again (never past its `exp`). */
export const VERIFIED_TOKEN_TTL_MS = 30_000;

/** An LRU of verdicts by token hash; a hit moves the entry to the young end. */
export class TokenCache<T> {
  private readonly entries = new Map<string, { value: T; until: number }>();

  constructor(
    readonly maxEntries = MAX_CACHED_TOKENS,
    readonly ttlMs = VERIFIED_TOKEN_TTL_MS,
  ) {}

  /** Entries held now (expired ones are dropped as they are met). */
  get size(): number {
    return this.entries.size;
  }

  /** The verdict for `token`, when one is cached and still valid at `now`. */
  get(token: string, now = Date.now()): T | undefined {
    const key = keyOf(token);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.until <= now) return undefined;
    this.entries.set(key, entry);
    return entry.value;
  }

  /** Keeps `value` for `token` until the earlier of `expSec` (JWT seconds) and `now + ttlMs`. */
  set(token: string, value: T, expSec: number, now = Date.now()): void {
    const until = Math.min(expSec * 1000, now + this.ttlMs);
    if (!(until > now)) return;
    const key = keyOf(token);
    this.entries.delete(key);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, until });
  }

  /** Forgets everything (the keys changed). */
  clear(): void {
    this.entries.clear();
  }
}

// A token may be 8 KiB; its hash is 43 characters, so the bound in entries is also a bound in bytes.
function keyOf(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}
