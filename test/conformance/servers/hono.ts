import { serve } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { AddressInfo } from 'node:net';
import * as honoApi from '../../../src/adapters/hono.js';
import { jwtGuard, type JwtGuardEnv } from '../../../src/adapters/hono.js';
import { AUTHZ_PREFIX, authzGuards } from '../authz-routes.js';
import { chunksOf, encodedLogin, HANDLER_HEADER, isValidLogin, LOGIN_USER, loginBody, recordEffect, SECOND_ANSWER, UNROUTED_METHOD_PATHS, type AdapterHarness, type HandledError } from '../harness.js';

const encoder = new TextEncoder();

/** A web ReadableStream that yields each string as its own chunk. */
function streamOf(parts: string[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (const part of parts) controller.enqueue(encoder.encode(part));
      controller.close();
    },
  });
}

const JSON_TYPE = { 'content-type': 'application/json' };

async function login(c: Context<JwtGuardEnv>): Promise<Response> {
  const credentials: unknown = await c.req.json().catch(() => null);
  if (!isValidLogin(credentials)) return c.json({ error: 'invalid_credentials' }, 401);
  const query = new URL(c.req.url).searchParams;
  recordEffect(query.get('effect'));
  const mode = query.get('mode') ?? 'json';
  const json = JSON.stringify(loginBody(mode, query));
  switch (mode) {
    case 'string':
      return c.body(json, 200, JSON_TYPE);
    case 'buffer':
      return c.body(encoder.encode(json), 200, JSON_TYPE);
    case 'chunked':
      return c.body(streamOf([json.slice(0, 5), json.slice(5)]), 200, JSON_TYPE);
    case 'stream':
      return c.body(streamOf([json.slice(0, 3), json.slice(3, 9), json.slice(9)]), 200, JSON_TYPE);
    case 'created':
      return c.json(loginBody(mode, query), 201);
    case 'headers':
      return c.body(json, 200, {
        'x-login': 'yes',
        'set-cookie': 'sid=abc',
        etag: '"v1"',
        'content-type': 'application/json',
        'content-length': String(encoder.encode(json).byteLength),
      });
    case 'text':
      return c.text('welcome alice');
    case 'empty':
      return c.body(null, 200);
    case 'broken':
      return c.body('{"userId":', 200, JSON_TYPE);
    case 'twice':
      // Hono's answer is the Response the handler returns.
      void c.json(SECOND_ANSWER);
      return c.json(LOGIN_USER);
    case 'nocontent':
      return c.json(LOGIN_USER, 204 as ContentfulStatusCode);
    case 'bigstream':
      return c.body(streamOf(chunksOf(json)), 200, JSON_TYPE);
    case 'encoded': {
      const { coding, bytes } = encodedLogin(json, query);
      return c.body(new Uint8Array(bytes), 200, { ...JSON_TYPE, 'content-encoding': coding });
    }
    default:
      return c.json(loginBody(mode, query));
  }
}

export const honoHarness: AdapterHarness = {
  name: 'hono',
  async start(options, setup = {}) {
    const app = new Hono<JwtGuardEnv>();
    // A middleware that reads the JSON body first; Hono caches it for later readers.
    if (setup.bodyParserFirst === true) app.use('*', async (c, next) => {
      if (c.req.method === 'POST') await c.req.json().catch(() => undefined);
      await next();
    });
    const guard = jwtGuard(options);
    app.use('*', guard);
    app.post('/api/auth/login', login);
    app.get('/api/me', (c) => c.json({ user: c.get('jwtPayload') }));
    app.post('/api/effects', (c) => {
      const id = c.req.query('id') ?? null;
      recordEffect(id);
      return c.json({ done: id, user: c.get('jwtPayload') });
    });
    // Authorization routes (authz-routes.ts): the route guards as route middleware, chained as arguments.
    for (const [name, guards] of authzGuards(honoApi)) {
      app.get(AUTHZ_PREFIX + name, ...(guards as [honoApi.RouteGuard]), (c) => c.json({ authorized: name }));
    }
    app.get('/api/auth/login/x', (c) => c.json({ ok: true }));
    app.get('/api/boom', () => {
      throw new Error('boom');
    });
    // Request-target routes (see harness.ts): each answer names its handler, in the body and in X-Handler.
    app.get('/api/health', (c) => c.json({ handler: 'health' }, 200, { [HANDLER_HEADER]: 'health' }));
    app.all('/', (c) => c.json({ handler: 'root' }, 200, { [HANDLER_HEADER]: 'root' }));
    app.options('/api/auth/login', (c) => c.body(null, 204, { 'access-control-allow-origin': '*' }));
    for (const path of UNROUTED_METHOD_PATHS) app.all(path, (c) => c.json({ error: 'method_not_allowed' }, 405, { [HANDLER_HEADER]: 'method-not-allowed' }));
    app.all('*', (c) => c.json({ handler: 'catchall' }, 200, { [HANDLER_HEADER]: 'catchall' }));
    // Reveals what reached it. A forwarded failure is an HTTPException carrying the ready response
    // (whose status it reports) and the JwtGuardError as `cause`; a plain Error is a 500.
    app.onError((error, c) => {
      if (error instanceof HTTPException) {
        return c.json({ error: 'handled', code: (error.cause as HandledError | undefined)?.code }, error.getResponse().status as ContentfulStatusCode);
      }
      const { status, statusCode, code } = error as HandledError;
      return c.json({ error: 'handled', code }, (status ?? statusCode ?? 500) as ContentfulStatusCode);
    });

    const { server, port } = await new Promise<{ server: ReturnType<typeof serve>; port: number }>((resolve) => {
      const started = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info: AddressInfo) => resolve({ server: started, port: info.port }));
    });
    return {
      url: `http://127.0.0.1:${port}`,
      sessions: guard.sessions,
      close: () =>
        new Promise<void>((resolve, reject) => {
          // Keep-alive sockets from fetch would hold close() open; drop them explicitly.
          void guard.close();
          if ('closeAllConnections' in server) server.closeAllConnections();
          server.close((error) => (error ? reject(error) : resolve()));
        }),
    };
  },
};
