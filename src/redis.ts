/**
 * `jwtguard/redis`: the Redis session store, for applications that run on several instances.
 * Works with node-redis (`redis` v5+) and ioredis (v5+), both optional peer dependencies.
 *
 * @packageDocumentation
 */
export { redisStore, type IoRedisClientLike, type NodeRedisClientLike, type RedisStoreOptions } from './redis/redis-store.js';
export type { RefreshLookup, RefreshRecord, Revocations, RotateInput, RotateResult, SessionRecord, StoreEvent, TokenStore } from './core/sessions/types.js';
