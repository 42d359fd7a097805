// An application as a user writes it with sessions on Redis: jwtGuard with `refresh`, `logoutPath`
// and `store: redisStore({ client })`, a login route that answers JSON, and one guarded route, on
// Express or Fastify, listening on its own port. The end-to-end tests in guard-sessions.test.ts run
// it in their own process (faults) and in child processes (guard-app-process.ts).
import express, { type Request, type Response } from 'express';
import Fastify from 'fastify';
import type { AddressInfo } from 'node:net';
import { jwtGuard as expressGuard } from '../../../src/adapters/express.js';
import { jwtGuard as fastifyGuard } from '../../../src/adapters/fastify.js';
import type { JwtGuardOptions, SessionManager } from '../../../src/index.js';
import { redisStore, type IoRedisClientLike, type NodeRedisClientLike } from '../../../src/redis.js';

export const SECRET = 'a-64-byte-test-secret-0123456789abcdef0123456789abcdef0123456789';
export const LOGIN_PATH = '/api/auth/login';
export const REFRESH_PATH = '/api/auth/refresh';
export const LOGOUT_PATH = '/api/auth/logout';
/** The guarded route: answers 200 `{ user: <verified payload> }`. */
export const ME_PATH = '/api/me';

export type Framework = 'express' | 'fastify';

/** How one application instance is configured (what differs between the tests' instances). */
export interface GuardAppConfig {
  readonly framework: Framework;
  /** Key prefix in Redis: instances of one application share it. */
  readonly prefix: string;
  /** `refresh.reuseInterval`, e.g. '10s', or 0 (grace off). */
  readonly reuseInterval: string | number;
  /** `maxStaleness`, e.g. '500ms'. */
  readonly maxStaleness: string;
  /** redisStore's `timeout`, ms. */
  readonly timeout: number;
}

export interface GuardApp {
  readonly url: string;
  readonly sessions: SessionManager;
  close(): Promise<void>;
}

/** The guard options of the example, on this Redis client. */
export function guardOptions(config: GuardAppConfig, client: NodeRedisClientLike | IoRedisClientLike): JwtGuardOptions {
  return {
    secret: SECRET,
    authPath: LOGIN_PATH,
    expiresIn: '15m',
    refresh: { path: REFRESH_PATH, reuseInterval: config.reuseInterval },
    logoutPath: LOGOUT_PATH,
    store: redisStore({ client, prefix: config.prefix, timeout: config.timeout }),
    maxStaleness: config.maxStaleness,
  };
}

/** The login route's answer for a body `{ "user": "<name>" }`: the claims to sign. */
function loginClaims(body: unknown): { sub: string; role: string } | undefined {
  const user = typeof body === 'object' && body !== null ? (body as { user?: unknown }).user : undefined;
  return typeof user === 'string' && user !== '' ? { sub: user, role: 'member' } : undefined;
}

/** Starts the application on a free port of 127.0.0.1. The Redis client stays the caller's. */
export async function startGuardApp(config: GuardAppConfig, client: NodeRedisClientLike | IoRedisClientLike): Promise<GuardApp> {
  const options = guardOptions(config, client);
  if (config.framework === 'fastify') {
    const app = Fastify();
    await app.register(fastifyGuard, options);
    app.post(LOGIN_PATH, async (request, reply) => loginClaims(request.body) ?? reply.code(401).send({ error: 'invalid_credentials' }));
    app.get(ME_PATH, async (request) => ({ user: request.user }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const sessions = app.jwtSessions;
    if (sessions === undefined) throw new Error('fastify: no app.jwtSessions');
    return { url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, sessions, close: () => app.close() };
  }
  const app = express();
  const guard = expressGuard(options);
  app.use(guard);
  app.post(LOGIN_PATH, express.json(), (req: Request, res: Response) => {
    const claims = loginClaims(req.body);
    if (claims === undefined) return void res.status(401).json({ error: 'invalid_credentials' });
    res.json(claims);
  });
  app.get(ME_PATH, (req: Request, res: Response) => void res.json({ user: req.auth }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const sessions = guard.sessions;
  if (sessions === undefined) throw new Error('express: no guard.sessions');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    sessions,
    async close() {
      await guard.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
