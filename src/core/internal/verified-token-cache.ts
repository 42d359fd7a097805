import type { JwtGuardPayload } from '../options/types.js';

/** Default time check: `exp` still ahead, `nbf` reached. */
const timeValid = (payload: JwtGuardPayload, now: number): boolean =>
  !((payload.exp !== undefined && payload.exp <= now) || (payload.nbf !== undefined && payload.nbf > now));

/**
 * @internal A bounded map from token string to the payload it verified to, in two generations:
 * new entries go to `young`; when `young` holds half the capacity it becomes `old` and the
 * previous `old` is dropped whole. A hit in `old` moves the entry back to `young`, so tokens in
 * use survive (LRU-like) while every operation stays O(1) — no per-entry eviction scans.
 * Only successes are stored, so a flood of bad tokens grows nothing. Every hit re-checks `exp`
 * and `nbf` against the current clock, so the cache never extends a token's life.
 */
export class VerifiedTokenCache {
  #young = new Map<string, JwtGuardPayload>();
  #old = new Map<string, JwtGuardPayload>();
  readonly #generation: number;
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
    let payload = this.#young.get(token);
    if (payload === undefined) {
      payload = this.#old.get(token);
      if (payload === undefined) return undefined;
      this.#old.delete(token);
      this.#insert(token, payload);
    }
    // nbf too: a clock stepped backwards (NTP) must not accept what an uncached check would refuse.
    if (!this.#stillValid(payload, now)) {
      this.#young.delete(token);
      return undefined;
    }
    return payload;
  }

  set(token: string, payload: JwtGuardPayload): void {
    this.#insert(token, payload);
  }

  delete(token: string): boolean {
    return this.#young.delete(token) || this.#old.delete(token);
  }

  clear(): void {
    this.#young.clear();
    this.#old.clear();
  }

  #insert(token: string, payload: JwtGuardPayload): void {
    this.#young.set(token, payload);
    if (this.#young.size >= this.#generation) {
      this.#old = this.#young;
      this.#young = new Map();
    }
  }
}
