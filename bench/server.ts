/**
 * One benchmark server, run in its own process by bench/http.ts and bench/refresh.ts:
 *
 *   node --import tsx bench/server.ts <express|fastify|koa|hono> <bare|noop|floor|jwtguard|peer|sessions|jwtguard-rs256|peer-rs256|sessions-memory>
 *
 * Listens on 127.0.0.1 (a free port), prints `BENCH_PORT=<port>` on stdout, and serves
 * GET /api/me: the verified payload (bare: a constant of the same shape). Over the IPC channel it
 * answers `{ type: 'usage' }` with its CPU time and RSS, so the parent can compute CPU per request,
 * and `{ type: 'fast-path', token }` with whether the jwtguard-rs256 guard's node:crypto fast path
 * verifies that token itself (it has learned the key from jose's first verification).
 * It exits when the parent disconnects.
 *
 * `sessions`: the jwtguard guard with `sessionGuardOptions` (bench/common.ts) on
 * `redisStore({ client })`, a node-redis client of BENCH_REDIS_URL, keys under BENCH_REDIS_PREFIX;
 * `sessions-memory`: the same on `memoryStore()`. Both add the login route, POST /api/auth/login?sub=...,
 * which answers `{ sub, role: 'user' }` for the guard to turn into a session's first pair; the
 * guard answers POST /api/auth/refresh and POST /api/auth/logout itself.
 *
 * `jwtguard-rs256` / `peer-rs256` (Express and Fastify only): RS256 tokens verified with the SPKI
 * PEM public key in BENCH_RS256_PUBLIC_KEY: jwtguard with `{ publicKey, algorithm: 'RS256' }`,
 * express-jwt with `{ secret: publicKey, algorithms: ['RS256'] }`, @fastify/jwt with
 * `{ secret: { public: publicKey }, verify: { algorithms: ['RS256'] } }` (verify-only, no signer).
 */
import type { NextFunction, Request, Response } from 'express';
import type { FastifyPluginAsync } from 'fastify';
import type { AddressInfo } from 'node:net';
import type { JwtGuardOptions } from '../src/index.js';
import { CONSTANT_BODY, LOGIN_PATH, RS256_FRAMEWORKS, RS256_PUBLIC_KEY_ENV, SECRET, SERVER_VARIANTS, floorVerifyHeader, loginClaims, sessionGuardOptions, type Framework, type ServerVariant } from './common.js';
import { loadCore, loadExpress, loadFastify, loadHono, loadKoa, loadRedis } from './target.js';

type Start = (variant: ServerVariant) => Promise<number>;

const withSessions = (variant: ServerVariant): boolean => variant === 'sessions' || variant === 'sessions-memory';
/** The login route's subject: `?sub=` of the request. */
const subOf = (value: unknown): string => (typeof value === 'string' && value !== '' ? value : 'user-login');

/** The RS256 variants' public key (SPKI PEM), from the parent. */
function rs256PublicKey(): string {
  const pem = process.env[RS256_PUBLIC_KEY_ENV];
  if (pem === undefined || !pem.includes('BEGIN PUBLIC KEY')) throw new Error(`bench/server.ts RS256 variants: ${RS256_PUBLIC_KEY_ENV} must hold an SPKI PEM public key`);
  return pem;
}

/** The jwtguard-rs256 guard's options object, kept to ask its fast path (see the `fast-path` message below). */
let rs256Options: JwtGuardOptions | undefined;

/** The plain guard's options: HS256 with the bench secret, or RS256 with the public key. */
function guardOptions(variant: ServerVariant): JwtGuardOptions {
  if (variant !== 'jwtguard-rs256') return { secret: SECRET, algorithm: 'HS256' };
  rs256Options = { publicKey: rs256PublicKey(), algorithm: 'RS256' };
  return rs256Options;
}

/** The sessions guard's options, its store connected (Redis: the client must be up before the first request). */
async function sessionOptions(variant: ServerVariant): Promise<JwtGuardOptions> {
  if (variant === 'sessions-memory') return sessionGuardOptions((await loadCore()).memoryStore());
  const url = process.env.BENCH_REDIS_URL;
  const prefix = process.env.BENCH_REDIS_PREFIX;
  if (url === undefined || url === '' || prefix === undefined || prefix === '') throw new Error('bench/server.ts sessions: BENCH_REDIS_URL and BENCH_REDIS_PREFIX must be set');
  const { createClient } = await import('redis');
  const client = createClient({ url });
  client.on('error', (error: Error) => process.stderr.write(`bench server redis client: ${error.message}\n`));
  await client.connect();
  const { redisStore } = await loadRedis();
  return sessionGuardOptions(redisStore({ client, prefix }));
}

/**
 * @fastify/jwt's types augment FastifyRequest with a required `user` that clashes with jwtguard's
 * optional one, and tsconfig type-checks bench/ with src/. Loading it through a non-literal
 * specifier keeps its declarations out of the program; this file only needs the plugin itself.
 */
async function importUntyped<T>(specifier: string): Promise<T> {
  return (await import(specifier)) as T;
}

const starters: Record<Framework, Start> = {
  async express(variant) {
    const { default: express } = await import('express');
    const app = express();
    if (variant === 'jwtguard' || variant === 'jwtguard-rs256') {
      const { jwtGuard } = await loadExpress();
      app.use(jwtGuard(guardOptions(variant)));
    } else if (withSessions(variant)) {
      const { jwtGuard } = await loadExpress();
      app.use(jwtGuard(await sessionOptions(variant)));
      app.post(LOGIN_PATH, (req, res) => void res.json(loginClaims(subOf(req.query.sub))));
    } else if (variant === 'peer') {
      const { expressjwt } = await import('express-jwt');
      app.use(expressjwt({ secret: SECRET, algorithms: ['HS256'] }));
    } else if (variant === 'peer-rs256') {
      const { expressjwt } = await import('express-jwt');
      app.use(expressjwt({ secret: rs256PublicKey(), algorithms: ['RS256'] }));
    } else if (variant === 'noop') {
      app.use((_req: Request, _res: Response, next: NextFunction) => next());
    } else if (variant === 'floor') {
      app.use((req: Request, res: Response, next: NextFunction) => {
        try {
          req.auth = floorVerifyHeader(req.headers.authorization);
        } catch {
          return void res.status(401).json({ error: 'unauthorized' });
        }
        next();
      });
    }
    app.get('/api/me', (req, res) => void res.json(variant === 'bare' || variant === 'noop' ? CONSTANT_BODY : req.auth));
    // express-jwt reports failures through next(err): answer them as a plain 401 (not an HTML stack page).
    app.use((err: { status?: number }, _req: Request, res: Response, _next: NextFunction) => {
      void _next;
      res.status(err.status ?? 500).json({ error: 'unauthorized' });
    });
    return new Promise((resolve) => {
      const server = app.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
    });
  },

  async fastify(variant) {
    const { default: Fastify } = await import('fastify');
    const app = Fastify({ logger: false });
    if (variant === 'jwtguard' || variant === 'jwtguard-rs256') {
      const { jwtGuard } = await loadFastify();
      await app.register(jwtGuard, guardOptions(variant));
    } else if (withSessions(variant)) {
      const { jwtGuard } = await loadFastify();
      await app.register(jwtGuard, await sessionOptions(variant));
      app.post(LOGIN_PATH, async (request) => loginClaims(subOf((request.query as { sub?: unknown }).sub)));
    } else if (variant === 'peer') {
      const { default: fastifyJwt } = await importUntyped<{ default: FastifyPluginAsync<{ secret: string; verify: object }> }>('@fastify/jwt');
      await app.register(fastifyJwt, { secret: SECRET, verify: { algorithms: ['HS256'] } });
      app.addHook('onRequest', async (request) => {
        await (request as unknown as { jwtVerify(): Promise<unknown> }).jwtVerify();
      });
    } else if (variant === 'peer-rs256') {
      const { default: fastifyJwt } = await importUntyped<{ default: FastifyPluginAsync<{ secret: { public: string }; verify: object }> }>('@fastify/jwt');
      await app.register(fastifyJwt, { secret: { public: rs256PublicKey() }, verify: { algorithms: ['RS256'] } });
      app.addHook('onRequest', async (request) => {
        await (request as unknown as { jwtVerify(): Promise<unknown> }).jwtVerify();
      });
    } else if (variant === 'noop') {
      app.addHook('onRequest', (_request, _reply, done) => done());
    } else if (variant === 'floor') {
      app.addHook('onRequest', (request, reply, done) => {
        try {
          request.user = floorVerifyHeader(request.headers.authorization);
        } catch {
          return void reply.code(401).send({ error: 'unauthorized' });
        }
        done();
      });
    }
    app.get('/api/me', async (request) => (variant === 'bare' || variant === 'noop' ? CONSTANT_BODY : request.user));
    await app.listen({ port: 0, host: '127.0.0.1' });
    return (app.server.address() as AddressInfo).port;
  },

  async koa(variant) {
    const { default: Koa } = await import('koa');
    const app = new Koa();
    if (variant === 'jwtguard') {
      const { jwtGuard } = await loadKoa();
      app.use(jwtGuard({ secret: SECRET, algorithm: 'HS256' }));
    } else if (withSessions(variant)) {
      const { jwtGuard } = await loadKoa();
      app.use(jwtGuard(await sessionOptions(variant)));
    } else if (variant === 'peer') {
      const { default: koaJwt } = await import('koa-jwt');
      app.use(koaJwt({ secret: SECRET, algorithms: ['HS256'] }));
    } else if (variant === 'noop') {
      app.use((_ctx, next) => next());
    } else if (variant === 'floor') {
      app.use((ctx, next) => {
        try {
          ctx.state.user = floorVerifyHeader(ctx.headers.authorization);
        } catch {
          ctx.status = 401;
          ctx.body = { error: 'unauthorized' };
          return;
        }
        return next();
      });
    }
    app.use(async (ctx) => {
      if (ctx.method === 'GET' && ctx.path === '/api/me') ctx.body = variant === 'bare' || variant === 'noop' ? CONSTANT_BODY : ctx.state.user;
      else if (withSessions(variant) && ctx.method === 'POST' && ctx.path === LOGIN_PATH) ctx.body = loginClaims(subOf(ctx.query.sub));
    });
    return new Promise((resolve) => {
      const server = app.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
    });
  },

  async hono(variant) {
    const { Hono } = await import('hono');
    const { serve } = await import('@hono/node-server');
    const app = new Hono();
    if (variant === 'jwtguard') {
      const { jwtGuard } = await loadHono();
      app.use('*', jwtGuard({ secret: SECRET, algorithm: 'HS256' }));
    } else if (withSessions(variant)) {
      const { jwtGuard } = await loadHono();
      app.use('*', jwtGuard(await sessionOptions(variant)));
      app.post(LOGIN_PATH, (c) => c.json(loginClaims(subOf(c.req.query('sub')))));
    } else if (variant === 'peer') {
      const { jwt } = await import('hono/jwt');
      app.use('*', jwt({ secret: SECRET, alg: 'HS256' }));
    } else if (variant === 'noop') {
      app.use('*', async (_c, next) => {
        await next();
      });
    } else if (variant === 'floor') {
      app.use('*', async (c, next) => {
        try {
          c.set('jwtPayload', floorVerifyHeader(c.req.header('authorization')));
        } catch {
          return c.json({ error: 'unauthorized' }, 401);
        }
        await next();
      });
    }
    app.get('/api/me', (c) => c.json(variant === 'bare' || variant === 'noop' ? CONSTANT_BODY : (c.get('jwtPayload') as object)));
    return new Promise((resolve) => {
      serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve(info.port));
    });
  },
};

const [framework, variant] = process.argv.slice(2) as [Framework, ServerVariant];
if (!Object.hasOwn(starters, framework) || !SERVER_VARIANTS.includes(variant)) {
  console.error(`usage: bench/server.ts <express|fastify|koa|hono> <${SERVER_VARIANTS.join('|')}>`);
  process.exit(2);
}

if ((variant === 'jwtguard-rs256' || variant === 'peer-rs256') && !RS256_FRAMEWORKS.includes(framework)) {
  console.error(`bench/server.ts: ${variant} runs on ${RS256_FRAMEWORKS.join(' and ')} only`);
  process.exit(2);
}

const port = await starters[framework](variant);
const { normalizeOptions } = await loadCore();
process.on('message', (message: { type?: string; token?: string }) => {
  if (message?.type === 'usage') process.send?.({ type: 'usage', cpu: process.cpuUsage(), rss: process.memoryUsage.rss() });
  if (message?.type === 'fast-path') {
    // Would the guard's node:crypto fast path verify this token itself (i.e. has it learned the key)?
    let answered = false;
    if (rs256Options !== undefined && typeof message.token === 'string') {
      const config = normalizeOptions(rs256Options);
      const verdict = config.asymmetricFastPath?.verify(message.token, config.claims.now());
      answered = typeof verdict === 'object' && verdict !== null && !(verdict instanceof Error);
    }
    process.send?.({ type: 'fast-path', answered });
  }
});
process.on('disconnect', () => process.exit(0));
process.stdout.write(`BENCH_PORT=${port}\n`);
