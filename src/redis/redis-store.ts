import { JwtGuardError } from '../core/errors/jwt-guard-error.js';
import type { TokenStore } from '../core/sessions/types.js';
import { connectionOf } from './internal/connection.js';
import { RedisTokenStore } from './internal/redis-token-store.js';

/**
 * A node-redis client: `createClient()` from `redis` (v5 or later), connected (`await client.connect()`).
 * Only what tells it apart is spelled out here, so that `redis` stays an optional dependency.
 *
 * @example
 * ```ts
 * import { createClient } from 'redis'
 *
 * const client: NodeRedisClientLike = await createClient({ url: process.env.REDIS_URL }).connect()
 * ```
 */
export interface NodeRedisClientLike {
  readonly isReady: boolean;
  sendCommand(...args: never[]): unknown;
  duplicate(...args: never[]): unknown;
}

/**
 * An ioredis client: `new Redis()` from `ioredis` (v5 or later); not a `Cluster`. Only what tells
 * it apart is spelled out here, so that `ioredis` stays an optional dependency.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis'
 *
 * const client: IoRedisClientLike = new Redis(process.env.REDIS_URL!)
 * ```
 */
export interface IoRedisClientLike {
  readonly status: string;
  call(...args: never[]): unknown;
  duplicate(...args: never[]): unknown;
}

/**
 * Options of {@link redisStore}.
 *
 * @example
 * ```ts
 * const options: RedisStoreOptions = { client, prefix: 'myapp:auth:', timeout: 1000 }
 * const store = redisStore(options)
 * ```
 */
export interface RedisStoreOptions {
  /**
   * The client commands go through: node-redis or ioredis, told apart by their shape. It stays
   * yours: give it an `'error'` listener (node-redis throws on an unhandled one) and close it
   * yourself. The store opens one more connection per `subscribe` (`client.duplicate()`).
   */
  client: NodeRedisClientLike | IoRedisClientLike;
  /** Prepended to every key and to the events channel (default `'jwtguard:'`): one prefix per application sharing a Redis. */
  prefix?: string;
  /**
   * Longest wait for Redis, in milliseconds (default 2000). A call that gets no answer in time
   * rejects with `session_store_unavailable`; while the client is known to be disconnected,
   * calls reject at once instead of waiting in the client's offline queue.
   */
  timeout?: number;
}

const DEFAULT_TIMEOUT_MS = 2000;

/**
 * A {@link TokenStore} in Redis, shared by every instance of an application: a login on one
 * instance can be refreshed on any other, and revocations are published to all of them.
 *
 * Works with **node-redis** (`redis` v5+) and **ioredis** (v5+); neither is a dependency of
 * jwtguard, install the one you use. Needs a single Redis server or primary: Redis Cluster is
 * not supported, as the scripts derive some keys from stored values. Tested with Redis 7.
 *
 * Each operation is one Lua script, so it runs whole and alone (two instances refreshing the same
 * token at once cannot both succeed), and every key has a TTL: sessions and their token records
 * until the session's `expiresAt`, kept answers for the reuse interval, revocations until they no
 * longer matter. Keys hold hashes of refresh tokens, never tokens. When Redis is unreachable or
 * slower than `timeout`, calls reject with `session_store_unavailable` (HTTP 503).
 *
 * @example node-redis
 * ```ts
 * import { createClient } from 'redis'
 * import { redisStore } from 'jwtguard/redis'
 *
 * const client = createClient({ url: process.env.REDIS_URL })
 * client.on('error', (err) => console.error('redis', err.message))
 * await client.connect()
 * const store = redisStore({ client })
 * ```
 *
 * @example ioredis
 * ```ts
 * import { Redis } from 'ioredis'
 * import { redisStore } from 'jwtguard/redis'
 *
 * const store = redisStore({ client: new Redis(process.env.REDIS_URL!), prefix: 'myapp:auth:', timeout: 1000 })
 * ```
 */
export function redisStore(options: RedisStoreOptions): TokenStore {
  const { client, prefix = 'jwtguard:', timeout = DEFAULT_TIMEOUT_MS } = options ?? {};
  if (typeof prefix !== 'string') throw new JwtGuardError('invalid_options', 'jwtguard: `prefix` must be a string.');
  if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0) {
    throw new JwtGuardError('invalid_options', `jwtguard: \`timeout\` must be a positive number of milliseconds; got ${String(timeout)}.`);
  }
  const connection = connectionOf(client, timeout);
  if (connection === undefined) {
    throw new JwtGuardError('invalid_options', 'jwtguard: `client` must be a node-redis (`redis` v5+) or an ioredis (v5+) client; Redis Cluster clients are not supported.');
  }
  return new RedisTokenStore(connection, prefix);
}
