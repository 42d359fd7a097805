import Koa2 from 'koa2';
import Koa, { type Context, type Next } from 'koa';
import { Readable } from 'node:stream';
import * as koaApi from '../../../src/adapters/koa.js';
import { jwtGuard } from '../../../src/adapters/koa.js';
import { AUTHZ_PREFIX, authzGuards } from '../authz-routes.js';
import type { JwtGuardOptions } from '../../../src/index.js';
import { chunksOf, encodedLogin, HANDLER_HEADER, isValidLogin, listening, LOGIN_USER, loginBody, recordEffect, SECOND_ANSWER, UNROUTED_METHOD_PATHS, type AdapterHarness, type HandledError, type HarnessSetup, type RunningServer } from '../harness.js';

/** The JSON request body, read from the Node stream (no body-parser); `null` when it is not JSON. */
async function readJson(ctx: Context): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of ctx.req) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return null;
  }
}

async function login(ctx: Context): Promise<void> {
  const parsed = (ctx.request as { body?: unknown }).body;
  if (!isValidLogin(parsed === undefined ? await readJson(ctx) : parsed)) {
    ctx.status = 401;
    ctx.body = { error: 'invalid_credentials' };
    return;
  }
  const query = new URLSearchParams(ctx.querystring);
  recordEffect(query.get('effect'));
  const mode = query.get('mode') ?? 'json';
  const json = JSON.stringify(loginBody(mode, query));
  switch (mode) {
    case 'string':
      ctx.type = 'application/json';
      ctx.body = json;
      return;
    case 'buffer':
      ctx.type = 'application/json';
      ctx.body = Buffer.from(json);
      return;
    case 'chunked':
      ctx.type = 'application/json';
      ctx.body = Readable.from([json.slice(0, 5), json.slice(5)]);
      return;
    case 'stream':
      ctx.type = 'application/json';
      ctx.body = Readable.from([json.slice(0, 3), json.slice(3, 9), json.slice(9)]);
      return;
    case 'created':
      ctx.status = 201;
      ctx.body = loginBody(mode, query);
      return;
    case 'headers':
      ctx.body = json;
      ctx.set({ 'x-login': 'yes', 'set-cookie': 'sid=abc', etag: '"v1"', 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(json)) });
      return;
    case 'text':
      ctx.type = 'text/plain';
      ctx.body = 'welcome alice';
      return;
    case 'empty':
      // `ctx.body = null` would turn into 204 in Koa; an empty string keeps the 200.
      ctx.status = 200;
      ctx.body = '';
      return;
    case 'broken':
      ctx.type = 'application/json';
      ctx.body = '{"userId":';
      return;
    case 'twice':
      // Koa's answer is the last body set.
      ctx.body = SECOND_ANSWER;
      ctx.body = LOGIN_USER;
      return;
    case 'nocontent':
      ctx.status = 204;
      ctx.body = LOGIN_USER;
      return;
    case 'bigstream':
      ctx.type = 'application/json';
      ctx.body = Readable.from(chunksOf(json));
      return;
    case 'encoded': {
      const { coding, bytes } = encodedLogin(json, query);
      ctx.body = bytes;
      ctx.set({ 'content-type': 'application/json', 'content-encoding': coding });
      return;
    }
    default:
      ctx.body = loginBody(mode, query);
  }
}

/** A request-target route's answer (see harness.ts): it names its handler, in the body and in X-Handler. */
function named(ctx: Context, handler: string, status: number, body: Record<string, string>): void {
  ctx.set(HANDLER_HEADER, handler);
  ctx.status = status;
  ctx.body = body;
}

/** Authorization routes (authz-routes.ts): each route's guards, run as Koa middleware before its answer. */
const AUTHZ = authzGuards(koaApi);

/**
 * Runs the guards in order, as a router would, then the route's answer, which comes a tick later
 * as a real route's would (after a database call): a guard that did not wait for `next()` would
 * let Koa answer 404 first.
 */
function guarded(ctx: Context, guards: readonly koaApi.RouteGuard[], answer: () => void): Promise<void> {
  const dispatch = async (i: number): Promise<void> => {
    const guard = guards[i];
    if (guard === undefined) {
      await new Promise((resolve) => setImmediate(resolve));
      return answer();
    }
    await guard(ctx, () => dispatch(i + 1));
  };
  return dispatch(0);
}

/** The routes of the harness app, by method and path (no koa-router). Unknown routes reach the catch-all. */
async function routes(ctx: Context): Promise<void> {
  const route = `${ctx.method} ${ctx.path}`;
  const authz = ctx.method === 'GET' && ctx.path.startsWith(AUTHZ_PREFIX) ? AUTHZ.get(ctx.path.slice(AUTHZ_PREFIX.length)) : undefined;
  if (authz !== undefined) return guarded(ctx, authz, () => void (ctx.body = { authorized: ctx.path.slice(AUTHZ_PREFIX.length) }));
  if (route === 'POST /api/auth/login') return login(ctx);
  if (route === 'GET /api/me') ctx.body = { user: ctx.state.user };
  else if (route === 'POST /api/effects') {
    const id = new URLSearchParams(ctx.querystring).get('id');
    recordEffect(id);
    ctx.body = { done: id, user: ctx.state.user };
  } else if (route === 'GET /api/auth/login/x') ctx.body = { ok: true };
  else if (route === 'GET /api/boom') throw new Error('boom');
  // Request-target routes; HEAD runs the GET route, as in Express, Fastify and Hono.
  else if (route === 'GET /api/health' || route === 'HEAD /api/health') named(ctx, 'health', 200, { handler: 'health' });
  else if (ctx.path === '/') named(ctx, 'root', 200, { handler: 'root' });
  else if (route === 'OPTIONS /api/auth/login') {
    ctx.set('access-control-allow-origin', '*');
    ctx.status = 204;
  } else if (UNROUTED_METHOD_PATHS.includes(ctx.path)) named(ctx, 'method-not-allowed', 405, { error: 'method_not_allowed' });
  else named(ctx, 'catchall', 200, { handler: 'catchall' });
}

/** The harness app on a given Koa class, so the same app runs on Koa 3 (`koa`) and Koa 2 (`koa2`). */
export function createKoaHarness(name: string, KoaClass: typeof Koa): AdapterHarness {
  return {
    name,
    async start(options: JwtGuardOptions, setup: HarnessSetup = {}): Promise<RunningServer> {
      const app = new KoaClass();
      // The app's error handler comes first, so errors thrown after the guard reach it.
      app.use(async (ctx: Context, next: Next) => {
        try {
          await next();
        } catch (thrown) {
          // Reveals what reached it: a forwarded JwtGuardError keeps its status and code; a plain Error is a 500.
          const error = thrown as HandledError;
          ctx.status = error.status ?? error.statusCode ?? 500;
          ctx.body = { error: 'handled', code: error.code };
        }
      });
      // What koa-bodyparser does: the parsed JSON on ctx.request.body, the stream consumed.
      if (setup.bodyParserFirst === true) app.use(async (ctx: Context, next: Next) => {
        if (ctx.method === 'POST') (ctx.request as { body?: unknown }).body = await readJson(ctx);
        await next();
      });
      const guard = jwtGuard(options);
      app.use(guard);
      app.use(routes);

      const server = await listening(app.listen(0, '127.0.0.1'));
      return { ...server, sessions: guard.sessions, close: () => guard.close().then(() => server.close()) };
    },
  };
}

export const koaHarness: AdapterHarness = createKoaHarness('koa', Koa);
export const koa2Harness: AdapterHarness = createKoaHarness('koa2', Koa2);
