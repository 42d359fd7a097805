import type { JwtGuardPayload } from '../options/types.js';

/**
 * @internal A bounded map from token string to the payload it verified to. Only successes are
 * stored, so a flood of bad tokens grows nothing. When full, the oldest entry is evicted (Map
 * keeps insertion order), which bounds memory without per-hit bookkeeping. Every hit re-checks
 * `exp` against the current clock, so the cache never extends a token's life.
 */
export class VerifiedTokenCache {
  readonly #entries = new Map<string, JwtGuardPayload>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The cached payload, or `undefined` when absent or expired by now (seconds since the epoch). */
  get(token: string, now: number): JwtGuardPayload | undefined {
    const payload = this.#entries.get(token);
    if (payload === undefined) return undefined;
    // nbf too: a clock stepped backwards (NTP) must not accept what an uncached check would refuse.
    if ((payload.exp !== undefined && payload.exp <= now) || (payload.nbf !== undefined && payload.nbf > now)) {
      this.#entries.delete(token);
      return undefined;
    }
    return payload;
  }

  set(token: string, payload: JwtGuardPayload): void {
    if (this.#entries.size >= this.#max) this.#entries.delete(this.#entries.keys().next().value as string);
    this.#entries.set(token, payload);
  }

  delete(token: string): boolean {
    return this.#entries.delete(token);
  }

  clear(): void {
    this.#entries.clear();
  }
}
