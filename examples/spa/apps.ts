/**
 * The SPA example's server, on each framework: the page and its script, a login route, /api/me,
 * notes (the state-changing route a forged request would attack), and jwtguard in front of all of
 * it with both tokens in HttpOnly cookies. See docs/browser.md.
 */
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import Koa, { type Context } from 'koa';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JwtGuardOptions } from 'jwtguard';
import { jwtGuard as expressGuard } from 'jwtguard/express';
import { jwtGuard as fastifyGuard } from 'jwtguard/fastify';
import { jwtGuard as honoGuard, type JwtGuardEnv } from 'jwtguard/hono';
import { jwtGuard as koaGuard } from 'jwtguard/koa';

export const FRAMEWORKS = ['express', 'fastify', 'koa', 'hono'] as const;
export type Framework = (typeof FRAMEWORKS)[number];

export interface SpaSettings {
  /** Port on 127.0.0.1 (0: any free one). */
  readonly port: number;
  /** Access-token lifetime in seconds: short, so the page's silent refresh shows. */
  readonly accessSeconds: number;
  readonly onWarning: (message: string) => void;
}

export interface RunningApp {
  /** `http://localhost:<port>`: the page's origin (cookies are set for `localhost`). */
  readonly url: string;
  close(): Promise<void>;
}

const file = (name: string): string => readFileSync(new URL(`./public/${name}`, import.meta.url), 'utf8');
const PAGES: Readonly<Record<string, { type: string; body: string }>> = {
  '/': { type: 'text/html; charset=utf-8', body: file('index.html') },
  '/app.js': { type: 'text/javascript; charset=utf-8', body: file('app.js') },
};

/** The guard's options: the same on every framework. */
export function guardOptions(settings: SpaSettings): JwtGuardOptions {
  return {
    secret: randomBytes(64), // a fresh key per run: restarting the demo logs everyone out
    authPath: '/api/auth/login',
    expiresIn: settings.accessSeconds,
    // http://localhost development: no `Secure` (jwtguard warns once, and keeps `Secure` for any
    // host that is not local). In production, drop `secure: false`: the defaults are
    // __Host-jwtguard and __Secure-jwtguard-refresh, both Secure.
    tokenCookie: { secure: false },
    refresh: { path: '/api/auth/refresh', expiresIn: '1h', cookie: { secure: false } },
    logoutPath: '/api/auth/logout',
    publicPaths: Object.keys(PAGES),
    onWarning: settings.onWarning,
  };
}

/** The app's own login check: it knows nothing about tokens, and answers the user as JSON. */
function checkLogin(body: unknown): { sub: string; name: string } | undefined {
  const { username, password } = (body ?? {}) as { username?: unknown; password?: unknown };
  return username === 'alice' && password === 'wonderland' ? { sub: 'alice', name: 'Alice' } : undefined;
}

/** Notes per user: the side effect a cross-site request would try to cause. */
const notes = new Map<string, string[]>();

function notesOf(sub: unknown): string[] {
  const key = String(sub);
  if (!notes.has(key)) notes.set(key, []);
  return notes.get(key) as string[];
}

function addNote(sub: unknown, body: unknown): string[] {
  const text = String((body as { text?: unknown } | null)?.text ?? '').slice(0, 200);
  const list = notesOf(sub);
  if (text !== '') list.push(text);
  return list;
}

function listening(server: Server): Promise<RunningApp> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', () => {
      const { port } = server.address() as AddressInfo;
      resolve({ url: `http://localhost:${port}`, close: () => new Promise<void>((done) => server.close(() => done())) });
    });
  });
}

async function startExpress(settings: SpaSettings): Promise<RunningApp> {
  const app = express();
  const guard = expressGuard(guardOptions(settings));
  app.use(guard);
  for (const [path, page] of Object.entries(PAGES)) app.get(path, (_req, res) => void res.type(page.type).send(page.body));
  app.post('/api/auth/login', express.json(), (req, res) => {
    const user = checkLogin(req.body);
    if (user === undefined) return void res.status(401).json({ error: 'invalid_credentials' });
    res.json(user); // jwtguard turns this into the token cookies
  });
  app.get('/api/me', (req, res) => void res.json({ user: req.auth }));
  app.get('/api/notes', (req, res) => void res.json({ notes: notesOf(req.auth?.sub) }));
  // Forms are accepted too, as in many apps: exactly what a forged cross-site form would send.
  app.post('/api/notes', express.json(), express.urlencoded({ extended: false }), (req, res) => void res.json({ notes: addNote(req.auth?.sub, req.body) }));
  const running = await listening(app.listen(settings.port, '127.0.0.1'));
  return { url: running.url, close: () => guard.close().then(running.close) };
}

async function startFastify(settings: SpaSettings): Promise<RunningApp> {
  const app = Fastify();
  await app.register(fastifyGuard, guardOptions(settings));
  // Forms are accepted too, as in many apps: exactly what a forged cross-site form would send.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(String(body)))));
  for (const [path, page] of Object.entries(PAGES)) app.get(path, (_request, reply) => reply.type(page.type).send(page.body));
  app.post('/api/auth/login', async (request, reply) => checkLogin(request.body) ?? reply.code(401).send({ error: 'invalid_credentials' }));
  app.get('/api/me', async (request) => ({ user: request.user }));
  app.get('/api/notes', async (request) => ({ notes: notesOf(request.user?.sub) }));
  app.post('/api/notes', async (request) => ({ notes: addNote(request.user?.sub, request.body) }));
  await app.listen({ port: settings.port, host: '127.0.0.1' });
  return { url: `http://localhost:${(app.server.address() as AddressInfo).port}`, close: () => app.close() };
}

/** A JSON or form request body for Koa (no body-parser dependency in this example). */
async function requestBody(ctx: Context): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (ctx.is('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(text));
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function startKoa(settings: SpaSettings): Promise<RunningApp> {
  const app = new Koa();
  const guard = koaGuard(guardOptions(settings));
  app.use(guard);
  app.use(async (ctx) => {
    const page = ctx.method === 'GET' ? PAGES[ctx.path] : undefined;
    const route = `${ctx.method} ${ctx.path}`;
    if (page !== undefined) {
      ctx.type = page.type;
      ctx.body = page.body;
    } else if (route === 'POST /api/auth/login') {
      const user = checkLogin(await requestBody(ctx));
      ctx.status = user === undefined ? 401 : 200;
      ctx.body = user ?? { error: 'invalid_credentials' };
    } else if (route === 'GET /api/me') ctx.body = { user: ctx.state.user };
    else if (route === 'GET /api/notes') ctx.body = { notes: notesOf(ctx.state.user?.sub) };
    // Forms are accepted too, as in many apps: exactly what a forged cross-site form would send.
    else if (route === 'POST /api/notes') ctx.body = { notes: addNote(ctx.state.user?.sub, await requestBody(ctx)) };
  });
  const running = await listening(app.listen(settings.port, '127.0.0.1'));
  return { url: running.url, close: () => guard.close().then(running.close) };
}

async function startHono(settings: SpaSettings): Promise<RunningApp> {
  const app = new Hono<JwtGuardEnv>();
  const guard = honoGuard(guardOptions(settings));
  app.use('*', guard);
  for (const [path, page] of Object.entries(PAGES)) app.get(path, (c) => c.body(page.body, 200, { 'content-type': page.type }));
  app.post('/api/auth/login', async (c) => {
    const user = checkLogin(await c.req.json().catch(() => undefined));
    return user === undefined ? c.json({ error: 'invalid_credentials' }, 401) : c.json(user);
  });
  app.get('/api/me', (c) => c.json({ user: c.get('jwtPayload') }));
  app.get('/api/notes', (c) => c.json({ notes: notesOf(c.get('jwtPayload').sub) }));
  // Forms are accepted too, as in many apps: exactly what a forged cross-site form would send.
  app.post('/api/notes', async (c) => {
    const form = (c.req.header('content-type') ?? '').startsWith('application/x-www-form-urlencoded');
    const body: unknown = form ? await c.req.parseBody() : await c.req.json().catch(() => undefined);
    return c.json({ notes: addNote(c.get('jwtPayload').sub, body) });
  });
  const server = serve({ fetch: app.fetch, port: settings.port, hostname: '127.0.0.1' }) as Server;
  const running = await listening(server);
  return {
    url: running.url,
    close: () => {
      server.closeAllConnections();
      return guard.close().then(running.close);
    },
  };
}

/** Starts the example on one framework, listening on 127.0.0.1. */
export function startApp(framework: Framework, settings: SpaSettings): Promise<RunningApp> {
  switch (framework) {
    case 'express':
      return startExpress(settings);
    case 'fastify':
      return startFastify(settings);
    case 'koa':
      return startKoa(settings);
    case 'hono':
      return startHono(settings);
  }
}
