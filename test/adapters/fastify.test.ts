import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import fastify4 from 'fastify4';
import { jwtGuard } from '../../src/adapters/fastify.js';
import { JwtGuardError } from '../../src/index.js';
import { LOGIN_USER } from '../conformance/harness.js';
import { decodePayload, hmacToken, STRONG_SECRET } from '../support/tokens.js';
import { FORWARDING_OPTIONS } from '../support/options.js';

const OPTIONS = { secret: STRONG_SECRET, authPath: '/login' };

function isInvalidOptions(error: unknown): boolean {
  return error instanceof JwtGuardError && error.code === 'invalid_options';
}

/** An app guarded at the root with a login route whose answer the test picks. */
async function loginApp(answer: () => unknown, status = 200): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(jwtGuard, OPTIONS);
  app.post('/login', async (_request, reply) => reply.code(status).send(answer()));
  app.get('/me', async (request) => ({ user: request.user }));
  return app;
}

describe('fastify adapter', () => {
  test('registered inside an encapsulated plugin, it guards only that plugin’s routes', async () => {
    const app = Fastify();
    app.get('/before', async () => ({ open: true }));
    await app.register(async (child) => {
      await child.register(jwtGuard, OPTIONS);
      child.get('/private', async (request) => ({ user: request.user }));
    });
    await app.register(async (sibling) => {
      sibling.get('/sibling', async () => ({ open: true }));
    });
    app.get('/after', async () => ({ open: true }));

    for (const url of ['/before', '/sibling', '/after']) {
      const response = await app.inject({ url });
      assert.equal(response.statusCode, 200, url);
      assert.deepEqual(response.json(), { open: true });
    }
    const denied = await app.inject({ url: '/private' });
    assert.equal(denied.statusCode, 401);
    assert.equal(denied.json().error, 'token_missing');
    assert.equal(denied.headers['www-authenticate'], 'Bearer');

    const token = await hmacToken(LOGIN_USER);
    const allowed = await app.inject({ url: '/private', headers: { authorization: `Bearer ${token}` } });
    assert.equal(allowed.statusCode, 200);
    assert.deepEqual(allowed.json().user, LOGIN_USER);
    await app.close();
  });

  test('request.user holds the verified payload, and is unset on unguarded routes', async () => {
    const app = Fastify();
    let seen: unknown = 'not called';
    await app.register(async (child) => {
      await child.register(jwtGuard, OPTIONS);
      child.get('/private', async (request) => {
        seen = request.user;
        return { ok: true };
      });
    });
    let open: unknown = 'not called';
    app.get('/open', async (request) => {
      open = request.user;
      return { ok: true };
    });

    const token = await hmacToken({ ...LOGIN_USER, sub: 'alice' });
    assert.equal((await app.inject({ url: '/private', headers: { authorization: `Bearer ${token}` } })).statusCode, 200);
    assert.equal((seen as { sub?: unknown }).sub, 'alice');
    assert.equal((seen as { userId?: unknown }).userId, LOGIN_USER.userId);
    assert.equal((await app.inject({ url: '/open' })).statusCode, 200);
    assert.equal(open, undefined);
    await app.close();
  });

  test('a failed check answers from onRequest: the route and the body parser never run', async () => {
    const app = Fastify();
    await app.register(jwtGuard, OPTIONS);
    let calls = 0;
    app.post('/things', async () => {
      calls += 1;
      return { ok: true };
    });
    const response = await app.inject({ method: 'POST', url: '/things', headers: { 'content-type': 'application/json' }, payload: '{not json' });
    assert.equal(response.statusCode, 401);
    assert.equal(response.json().error, 'token_missing');
    assert.equal(response.headers['cache-control'], 'no-store');
    assert.equal(calls, 0);
    await app.close();
  });

  test('invalid options make register reject with invalid_options', async () => {
    const app = Fastify();
    await assert.rejects(async () => {
      await app.register(jwtGuard, { secret: '' });
    }, isInvalidOptions);
    await app.close().catch(() => {});
  });

  test('invalid options make ready reject with invalid_options', async () => {
    const app = Fastify();
    void app.register(jwtGuard, { secret: STRONG_SECRET, algorithm: 'RS256' as never });
    await assert.rejects(async () => {
      await app.ready();
    }, isInvalidOptions);
    await app.close().catch(() => {});
  });

  test('registering in a context that already has the guard (nested) does not clash', async () => {
    const app = Fastify();
    await app.register(jwtGuard, OPTIONS);
    await app.register(async (child) => {
      await child.register(jwtGuard, { secret: STRONG_SECRET, header: 'X-Token' });
      child.get('/both', async (request) => ({ user: request.user }));
    });
    await app.ready();
    const token = await hmacToken(LOGIN_USER);
    assert.equal((await app.inject({ url: '/both', headers: { authorization: `Bearer ${token}` } })).statusCode, 401);
    const response = await app.inject({ url: '/both', headers: { authorization: `Bearer ${token}`, 'x-token': token } });
    assert.equal(response.statusCode, 200);
    await app.close();
  });

  test('a web ReadableStream or a Response from the login route is minted too (Fastify 5)', async () => {
    const json = JSON.stringify(LOGIN_USER);
    const answers: Array<() => unknown> = [
      () => new Blob([json.slice(0, 4), json.slice(4)]).stream(),
      () => new Response(json, { status: 201, headers: { 'content-type': 'application/json', 'x-login': 'yes', etag: '"v1"' } }),
    ];
    for (const answer of answers) {
      const app = await loginApp(answer);
      const response = await app.inject({ method: 'POST', url: '/login' });
      const body = response.json() as { token: string };
      assert.deepEqual(Object.keys(body), ['token']);
      assert.equal(decodePayload(body.token).userId, LOGIN_USER.userId);
      assert.equal(response.headers['content-length'], String(Buffer.byteLength(response.body)));
      if (answer === answers[1]) {
        assert.equal(response.statusCode, 201);
        assert.equal(response.headers['x-login'], 'yes');
        assert.equal(response.headers.etag, undefined);
      }
      await app.close();
    }
  });

  test('a non-2xx stream from the login route passes through untouched', async () => {
    const app = await loginApp(() => Readable.from(['no ', 'entry']), 403);
    const response = await app.inject({ method: 'POST', url: '/login' });
    assert.equal(response.statusCode, 403);
    assert.equal(response.body, 'no entry');
    await app.close();
  });

  test('Fastify 4: login → token → /api/me', async () => {
    const app = fastify4();
    // The plugin is typed against Fastify 5's types; at runtime it supports 4.x too.
    await app.register(jwtGuard as never, { secret: STRONG_SECRET, authPath: '/api/auth/login' });
    app.post('/api/auth/login', async (request, reply) => {
      const { username } = request.body as { username?: string };
      if (username !== 'alice') return reply.code(401).send({ error: 'invalid_credentials' });
      return LOGIN_USER;
    });
    app.get('/api/me', async (request) => ({ user: (request as { user?: unknown }).user }));

    const denied = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'bob' } });
    assert.equal(denied.statusCode, 401);
    assert.deepEqual(denied.json(), { error: 'invalid_credentials' });

    const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { username: 'alice' } });
    assert.equal(login.statusCode, 200);
    const { token } = login.json() as { token: string };
    assert.equal(login.headers['content-length'], String(Buffer.byteLength(login.body)));

    assert.equal((await app.inject({ url: '/api/me' })).statusCode, 401);
    const me = await app.inject({ url: '/api/me', headers: { authorization: `Bearer ${token}` } });
    assert.equal(me.statusCode, 200);
    assert.equal((me.json() as { user: { userId: number } }).user.userId, LOGIN_USER.userId);
    await app.close();
  });

  test('Fastify 4: a streamed login answer is minted, over real HTTP', async () => {
    const app = fastify4();
    await app.register(jwtGuard as never, OPTIONS);
    app.post('/login', async (_request, reply) => reply.type('application/json').send(Readable.from(['{"userId":', '123}'])));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as { port: number };
    const response = await fetch(`http://127.0.0.1:${port}/login`, { method: 'POST' });
    const { token } = (await response.json()) as { token: string };
    assert.equal(response.status, 200);
    assert.equal(decodePayload(token).userId, 123);
    await app.close();
  });
});

describe('fastify adapter: credentialsRequired, publicPaths, isRevoked, forwardErrors', () => {
  const FORWARD = FORWARDING_OPTIONS;

  test('forwardErrors: the error handler receives the JwtGuardError (statusCode, code); neither the body parser nor the route runs', async () => {
    const app = Fastify();
    await app.register(jwtGuard, FORWARD);
    const seen: unknown[] = [];
    app.setErrorHandler((error, _request, reply) => {
      seen.push(error);
      const { statusCode, code } = error as JwtGuardError;
      return reply.code(statusCode).send({ handled: code });
    });
    let runs = 0;
    app.post('/things', async () => {
      runs += 1;
      return { ok: true };
    });

    const missing = await app.inject({ method: 'POST', url: '/things', headers: { 'content-type': 'application/json' }, payload: '{not json' });
    assert.equal(missing.statusCode, 401);
    assert.deepEqual(missing.json(), { handled: 'token_missing' });
    const [error] = seen;
    assert.ok(error instanceof JwtGuardError);
    assert.equal(error.statusCode, 401);
    assert.equal(error.status, 401);
    assert.equal(error.code, 'token_missing');

    const revoked = await app.inject({ method: 'POST', url: '/things', headers: { authorization: `Bearer ${await hmacToken({ sub: 'revoked-user' })}` }, payload: {} });
    assert.equal(revoked.statusCode, 401);
    assert.deepEqual(revoked.json(), { handled: 'token_revoked' });

    const down = await app.inject({ method: 'POST', url: '/things', headers: { authorization: `Bearer ${await hmacToken({ sub: 'store-down' })}` }, payload: {} });
    assert.equal(down.statusCode, 503);
    assert.deepEqual(down.json(), { handled: 'revocation_unavailable' });
    assert.equal((seen[2] as JwtGuardError).statusCode, 503);
    assert.equal(runs, 0);

    const ok = await app.inject({ method: 'POST', url: '/things', headers: { authorization: `Bearer ${await hmacToken({ sub: 'alice' })}` }, payload: {} });
    assert.equal(ok.statusCode, 200);
    assert.equal(runs, 1);
    await app.close();
  });

  test('forwardErrors without a custom error handler: Fastify’s default one answers with the error’s statusCode and code', async () => {
    const app = Fastify();
    await app.register(jwtGuard, FORWARD);
    app.get('/me', async (request) => ({ user: request.user }));

    const missing = await app.inject({ url: '/me' });
    assert.equal(missing.statusCode, 401);
    assert.deepEqual(missing.json(), { statusCode: 401, code: 'token_missing', error: 'Unauthorized', message: 'No token was provided.' });

    const down = await app.inject({ url: '/me', headers: { authorization: `Bearer ${await hmacToken({ sub: 'store-down' })}` } });
    assert.equal(down.statusCode, 503);
    assert.equal(down.json().code, 'revocation_unavailable');
    assert.doesNotMatch(down.body, /store down/);
    await app.close();
  });

  test('forwardErrors on Fastify 4: the error handler receives the JwtGuardError too', async () => {
    const app = fastify4();
    await app.register(jwtGuard as never, FORWARD);
    app.setErrorHandler((error, _request, reply) => {
      const { statusCode, code } = error as unknown as JwtGuardError;
      return reply.code(statusCode).send({ handled: code, isJwtGuardError: error instanceof JwtGuardError });
    });
    app.get('/me', async () => ({ ok: true }));
    const response = await app.inject({ url: '/me', headers: { authorization: 'Bearer abc.def' } });
    assert.equal(response.statusCode, 401);
    assert.deepEqual(response.json(), { handled: 'token_malformed', isJwtGuardError: true });
    await app.close();
  });

  test('credentialsRequired: false leaves request.user undefined for an anonymous request, and still refuses a bad token', async () => {
    const app = Fastify();
    await app.register(jwtGuard, { secret: STRONG_SECRET, credentialsRequired: false });
    let seen: unknown = 'not called';
    app.get('/me', async (request) => {
      seen = request.user;
      return { anonymous: request.user === undefined };
    });
    const anonymous = await app.inject({ url: '/me' });
    assert.equal(anonymous.statusCode, 200);
    assert.deepEqual(anonymous.json(), { anonymous: true });
    assert.equal(seen, undefined);
    const bad = await app.inject({ url: '/me', headers: { authorization: 'Bearer abc.def' } });
    assert.equal(bad.statusCode, 401);
    assert.equal(bad.json().error, 'token_malformed');
    await app.close();
  });

  test('publicPaths are matched against the full path, including the prefix of the plugin the guard is registered in', async () => {
    const app = Fastify();
    await app.register(
      async (v1) => {
        await v1.register(jwtGuard, { secret: STRONG_SECRET, publicPaths: ['/v1/health'] });
        v1.get('/health', async () => ({ up: true }));
        v1.get('/me', async (request) => ({ user: request.user }));
      },
      { prefix: '/v1' },
    );
    const health = await app.inject({ url: '/v1/health?verbose=1' });
    assert.equal(health.statusCode, 200);
    assert.deepEqual(health.json(), { up: true });
    assert.equal((await app.inject({ url: '/v1/me' })).statusCode, 401);
    await app.close();
  });
});
