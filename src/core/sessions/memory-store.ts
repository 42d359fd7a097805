import { JwtGuardError } from '../errors/jwt-guard-error.js';
import { MemoryTokenStore } from './internal/memory-token-store.js';
import type { TokenStore } from './types.js';

/**
 * Options of {@link memoryStore}.
 *
 * @example
 * ```ts
 * const options: MemoryStoreOptions = { maxSessions: 10_000 }
 * const store = memoryStore(options)
 * ```
 */
export interface MemoryStoreOptions {
  /**
   * The most sessions held at once (default 100,000). When full, a new login evicts the oldest
   * session: its refresh token stops working (its user logs in again) and its access tokens live
   * on until they expire, as after a normal session end by expiry.
   */
  maxSessions?: number;
}

const DEFAULT_MAX_SESSIONS = 100_000;

/**
 * The default {@link TokenStore}: sessions, refresh-token hashes and revocations in this
 * process's memory. Right for a single instance; its state is lost on restart (every user logs
 * in again) and is not shared between processes: run several instances with `redisStore` from
 * `jwtguard/redis` instead.
 *
 * Bounded: at most `maxSessions` sessions, each with at most 1000 remembered token records; every
 * entry leaves with its lifetime (sessions at `expiresAt`, kept answers after `reuseIntervalMs`,
 * revocations after their `until`), judged by the `now` the callers pass. No timer runs. Events
 * are delivered to subscribers synchronously, before the operation that caused them resolves.
 *
 * @example
 * ```ts
 * import { memoryStore } from 'jwtguard'
 *
 * const store = memoryStore({ maxSessions: 10_000 })
 * const unsubscribe = await store.subscribe((event) => console.log(event.type))
 * ```
 */
export function memoryStore(options: MemoryStoreOptions = {}): TokenStore {
  const maxSessions = options.maxSessions ?? DEFAULT_MAX_SESSIONS;
  if (!Number.isSafeInteger(maxSessions) || maxSessions < 1) {
    throw new JwtGuardError('invalid_options', `jwtguard: \`maxSessions\` must be a positive integer; got ${String(maxSessions)}.`);
  }
  return new MemoryTokenStore(maxSessions);
}
