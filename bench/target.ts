/**
 * What the benchmarks measure: the built package in dist/ (as users run it), not src/ through
 * tsx, whose transpiler adds helpers to the hot path. `npm run bench` builds first.
 * Imported by path at run time so the type checker keeps using src/ types (dist/ may not exist yet).
 */
import type * as CoreModule from '../src/index.js';
import type * as ExpressModule from '../src/adapters/express.js';
import type * as FastifyModule from '../src/adapters/fastify.js';
import type * as HonoModule from '../src/adapters/hono.js';
import type * as KoaModule from '../src/adapters/koa.js';
import type * as RedisModule from '../src/redis.js';

type Core = typeof CoreModule;
type Express = typeof ExpressModule;
type Fastify = typeof FastifyModule;
type Koa = typeof KoaModule;
type Hono = typeof HonoModule;
type Redis = typeof RedisModule;

const DIST = new URL('../dist/esm/', import.meta.url).href;
const load = <T>(path: string): Promise<T> => import(`${DIST}${path}`) as Promise<T>;

export const loadCore = (): Promise<Core> => load<Core>('index.js');
export const loadExpress = (): Promise<Express> => load<Express>('adapters/express.js');
export const loadFastify = (): Promise<Fastify> => load<Fastify>('adapters/fastify.js');
export const loadKoa = (): Promise<Koa> => load<Koa>('adapters/koa.js');
export const loadHono = (): Promise<Hono> => load<Hono>('adapters/hono.js');
export const loadRedis = (): Promise<Redis> => load<Redis>('redis.js');
