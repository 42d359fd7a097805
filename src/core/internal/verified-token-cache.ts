import type { JwtGuardPayload } from '../options/types.js';

/** Default time check: `exp` still ahead, `nbf` reached. */
const timeValid = (payload: JwtGuardPayload, now: number): boolean =>
  !((payload.exp !== undefined && payload.exp <= now) || (payload.nbf !== undefined && payload.nbf > now));

/**
 * Characters of the token the maps are keyed by: its last 16, which are signature (at least 90
 * random bits for every supported algorithm). A token arrives as a new string on every request,
 * and hashing the whole of it for a Map lookup costs more than the rest of a cache hit put
 * together; hashing 16 characters does not. The full token is then compared, so keys that happen
 * to collide only evict each other and are never mistaken for one another.
 */
const KEY_CHARS = 16;

/**
 * Admission: a token is stored on its second verification, not its first (the "doorkeeper" of
 * TinyLFU). A first sighting only sets one bit of SEEN_BITS (32 KB), picked from signature
 * characters; the bits are cleared after SEEN_WINDOW first sightings, so at most 1 in 32 is set
 * and under 2% of single-use tokens get in by a collision. A stream of unique tokens therefore
 * costs no allocation and no garbage collection for entries that would never be hit; a repeated
 * token pays one extra verification before its hits begin, and must come back within the window.
 * Only verified tokens reach the table, so forged ones cannot clear it.
 */
const SEEN_LOG2 = 18;
const SEEN_BITS = 1 << SEEN_LOG2;
const SEEN_WINDOW = SEEN_BITS / 32;

/** A number from five signature characters (30 random bits), computed without allocating. */
function fingerprint(token: string): number {
  const end = token.length - 1; // the last character may carry fewer bits; start before it
  let hash = 0;
  for (let i = 1; i <= 5; i++) hash = Math.imul(hash ^ token.charCodeAt(end - i), 0x9e3779b1);
  return hash >>> (32 - SEEN_LOG2); // the top bits, the best mixed: one bit of SEEN_BITS
}

interface Entry {
  readonly token: string;
  readonly payload: JwtGuardPayload;
}

/**
 * @internal A bounded map from token string to the payload it verified to, in two generations:
 * new entries go to `young`; when `young` holds half the capacity it becomes `old` and the
 * previous `old` is dropped whole. A hit in `old` moves the entry back to `young`, so tokens in
 * use survive (LRU-like) while every operation stays O(1) — no per-entry eviction scans.
 * Only successes are stored, and only from their second verification on (see SEEN_BITS), so a
 * flood of bad or single-use tokens grows nothing. Every hit re-checks `exp` and `nbf` against
 * the current clock, so the cache never extends a token's life.
 */
export class VerifiedTokenCache {
  #young = new Map<string, Entry>();
  #old = new Map<string, Entry>();
  readonly #generation: number;
  readonly #seen = new Uint32Array(SEEN_BITS / 32);
  #seenCount = 0;
  readonly #stillValid: (payload: JwtGuardPayload, now: number) => boolean;

  /**
   * @param max the most entries held at once.
   * @param stillValid the time-dependent claim checks, re-run on every hit (exp, nbf, maxTokenAge, with tolerance).
   */
  constructor(max: number, stillValid: (payload: JwtGuardPayload, now: number) => boolean = timeValid) {
    this.#generation = Math.max(1, Math.floor(max / 2));
    this.#stillValid = stillValid;
  }

  get size(): number {
    return this.#young.size + this.#old.size;
  }

  /** The cached payload, or `undefined` when absent or no longer valid at `now` (seconds since the epoch). */
  get(token: string, now: number): JwtGuardPayload | undefined {
    const key = token.slice(-KEY_CHARS);
    let entry = this.#young.get(key);
    if (entry === undefined) {
      entry = this.#old.get(key);
      if (entry === undefined || entry.token !== token) return undefined;
      this.#old.delete(key);
      this.#insert(key, entry);
    } else if (entry.token !== token) {
      return undefined;
    }
    // nbf too: a clock stepped backwards (NTP) must not accept what an uncached check would refuse.
    if (!this.#stillValid(entry.payload, now)) {
      this.#young.delete(key);
      return undefined;
    }
    return entry.payload;
  }

  /** Stores a verified token's payload, if the token was verified before (recently); a first sighting is only noted. */
  set(token: string, payload: JwtGuardPayload): void {
    if (this.#admits(token)) this.#insert(token.slice(-KEY_CHARS), { token, payload });
  }

  delete(token: string): boolean {
    const key = token.slice(-KEY_CHARS);
    if (this.#young.get(key)?.token === token) return this.#young.delete(key);
    if (this.#old.get(key)?.token === token) return this.#old.delete(key);
    return false;
  }

  clear(): void {
    this.#young.clear();
    this.#old.clear();
    this.#seen.fill(0);
    this.#seenCount = 0;
  }

  #admits(token: string): boolean {
    const bit = fingerprint(token);
    const word = bit >>> 5;
    const mask = 1 << (bit & 31);
    if ((this.#seen[word] as number) & mask) return true;
    this.#seen[word] = (this.#seen[word] as number) | mask;
    if (++this.#seenCount >= SEEN_WINDOW) {
      this.#seen.fill(0);
      this.#seenCount = 0;
    }
    return false;
  }

  #insert(key: string, entry: Entry): void {
    this.#young.set(key, entry);
    if (this.#young.size >= this.#generation) {
      this.#old = this.#young;
      this.#young = new Map();
    }
  }
}
