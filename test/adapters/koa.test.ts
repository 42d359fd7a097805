// Koa-specific behaviour of jwtguard/koa; the shared HTTP behaviour is in test/conformance.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import Koa, { type Context, type Middleware } from 'koa';
import Koa2 from 'koa2';
import jwtGuardDefault, { jwtGuard } from '../../src/adapters/koa.js';
import { JwtGuardError, type JwtGuardOptions, type JwtGuardPayload } from '../../src/index.js';
import { listening, LOGIN_USER, type RunningServer } from '../conformance/harness.js';
import { createKoaHarness } from '../conformance/servers/koa.js';
import { PRESETS } from '../conformance/scenarios.js';
import { decodePayload, hmacToken, SEED_SECRET, STRONG_SECRET } from '../support/tokens.js';
import { FORWARDING_OPTIONS } from '../support/options.js';

const OPTIONS: JwtGuardOptions = { secret: STRONG_SECRET, authPath: '/login' };
const CREDENTIALS = JSON.stringify({ username: 'alice', password: 'wonderland' });

/** Compile-time check: `ctx.state.user` must be typed by the adapter's augmentation, not `any`. */
type IsAny<T> = 0 extends 1 & T ? true : false;

function serve(app: Koa): Promise<RunningServer> {
  return listening(app.listen(0, '127.0.0.1'));
}

/** A Koa 3 app: an error handler, the guard, then `route`. */
async function appWith(route: Middleware, options: JwtGuardOptions = OPTIONS): Promise<RunningServer> {
  const app = new Koa();
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      ctx.status = 500;
      ctx.body = { error: 'handled', message: (error as Error).message };
    }
  });
  app.use(jwtGuard(options));
  app.use(route);
  return serve(app);
}

/** Starts an app whose auth route answers with `answer(ctx)`, logs in, and returns the response. */
async function loginWith(answer: (ctx: Context) => void): Promise<{ response: Response; text: string }> {
  const server = await appWith(async (ctx) => {
    if (ctx.path === '/login') answer(ctx);
  });
  try {
    const response = await fetch(`${server.url}/login`, { method: 'POST' });
    return { response, text: await response.text() };
  } finally {
    await server.close();
  }
}

function assertTokenResponse(response: Response, text: string, status = 200): Record<string, unknown> {
  assert.equal(response.status, status, text);
  assert.equal(response.headers.get('content-type'), 'application/json; charset=utf-8');
  assert.equal(response.headers.get('content-length'), String(Buffer.byteLength(text)));
  assert.equal(response.headers.get('transfer-encoding'), null);
  const body = JSON.parse(text) as { token: string };
  assert.deepEqual(Object.keys(body), ['token']);
  return decodePayload(body.token);
}

describe('koa adapter', () => {
  test('exports jwtGuard as a named and a default export', () => {
    assert.equal(jwtGuardDefault, jwtGuard);
  });

  test('puts the verified payload on ctx.state.user, typed, before downstream middleware runs', async () => {
    let seen: JwtGuardPayload | undefined;
    const server = await appWith(async (ctx) => {
      const typed: IsAny<typeof ctx.state.user> = false;
      assert.equal(typed, false);
      seen = ctx.state.user;
      ctx.body = { sub: ctx.state.user?.sub };
    });
    try {
      const token = await hmacToken({ ...LOGIN_USER, sub: 'alice' });
      const response = await fetch(`${server.url}/api/me`, { headers: { authorization: `Bearer ${token}` } });
      assert.deepEqual(await response.json(), { sub: 'alice' });
      assert.equal(seen?.sub, 'alice');
      assert.equal(seen?.userId, 123);
      assert.equal(seen?.role, 'admin');
    } finally {
      await server.close();
    }
  });

  test('on a failure answers 401 itself and downstream middleware never runs', async () => {
    let ran = 0;
    const server = await appWith(async (ctx) => {
      ran += 1;
      ctx.body = 'secret';
    });
    try {
      const response = await fetch(`${server.url}/api/me`, { headers: { authorization: 'Bearer abc' } });
      assert.equal(response.status, 401);
      assert.equal((await response.json() as { error: string }).error, 'token_malformed');
      assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token"/);
      assert.equal(ran, 0);
    } finally {
      await server.close();
    }
  });

  test('invalid options throw JwtGuardError invalid_options at construction, not per request', () => {
    const invalid: unknown[] = [{}, { secret: '' }, { secret: STRONG_SECRET, algorithm: 'RS256' }, { secret: STRONG_SECRET, delay: 'soon' }];
    for (const options of invalid) {
      assert.throws(
        () => jwtGuard(options as JwtGuardOptions),
        (error: unknown) => error instanceof JwtGuardError && error.code === 'invalid_options',
        JSON.stringify(options),
      );
    }
  });

  describe('minting from a stream body', () => {
    const json = JSON.stringify(LOGIN_USER);

    test('a Node Readable is read in full; its Content-Type and Content-Length do not leak', async () => {
      const { response, text } = await loginWith((ctx) => {
        ctx.set('content-length', String(Buffer.byteLength(json)));
        ctx.type = 'application/json';
        ctx.body = Readable.from([json.slice(0, 2), json.slice(2, 7), json.slice(7)]);
      });
      assert.equal(assertTokenResponse(response, text).userId, 123);
    });

    test('a binary (Buffer-chunk) stream with the route status 201 is minted with 201', async () => {
      const { response, text } = await loginWith((ctx) => {
        ctx.status = 201;
        ctx.body = Readable.from([Buffer.from(json.slice(0, 4)), Buffer.from(json.slice(4))]);
      });
      assert.equal(assertTokenResponse(response, text, 201).role, 'admin');
    });

    test('Koa 3 web bodies (ReadableStream, Blob) are read in full too', async () => {
      for (const make of [() => new Blob([json]), () => new Response(json).body]) {
        const { response, text } = await loginWith((ctx) => {
          ctx.body = make();
        });
        assert.equal(assertTokenResponse(response, text).userId, 123);
      }
    });

    test('a stream that is not a JSON object yields 500 mint_body_invalid', async () => {
      const { response, text } = await loginWith((ctx) => {
        ctx.body = Readable.from(['welcome ', 'alice']);
      });
      assert.equal(response.status, 500);
      assert.equal((JSON.parse(text) as { error: string }).error, 'mint_body_invalid');
      assert.doesNotMatch(text, /welcome/);
    });

    test('a non-2xx stream passes through with its bytes and headers', async () => {
      const { response, text } = await loginWith((ctx) => {
        ctx.status = 403;
        ctx.type = 'application/json';
        ctx.set('x-reason', 'locked');
        ctx.body = Readable.from(['{"error":', '"locked"}']);
      });
      assert.equal(response.status, 403);
      assert.equal(text, '{"error":"locked"}');
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
      assert.equal(response.headers.get('x-reason'), 'locked');
    });

    test('a stream that fails is refused (500 mint_body_invalid), never a token', async () => {
      const { response, text } = await loginWith((ctx) => {
        ctx.body = new Readable({
          read() {
            this.destroy(new Error('disk on fire'));
          },
        });
      });
      assert.equal(response.status, 500);
      assert.equal(JSON.parse(text).error, 'mint_body_invalid');
      assert.doesNotMatch(text, /disk on fire|"token"/);
    });
  });

  test('headers the auth route set (Set-Cookie, custom) are kept on the minted answer', async () => {
    const { response, text } = await loginWith((ctx) => {
      ctx.set({ 'set-cookie': 'sid=abc', 'x-login': 'yes', etag: '"v1"', 'last-modified': new Date(0).toUTCString() });
      ctx.body = LOGIN_USER;
    });
    assertTokenResponse(response, text);
    assert.equal(response.headers.get('set-cookie'), 'sid=abc');
    assert.equal(response.headers.get('x-login'), 'yes');
    assert.equal(response.headers.get('etag'), null);
    assert.equal(response.headers.get('last-modified'), null);
  });

  test('a route that bypasses Koa (ctx.respond = false) is passed through as it is', async () => {
    const { response, text } = await loginWith((ctx) => {
      ctx.respond = false;
      ctx.res.writeHead(200, { 'content-type': 'text/plain' });
      ctx.res.end('raw');
    });
    assert.equal(response.status, 200);
    assert.equal(text, 'raw');
  });
});

describe('koa adapter on Koa 2 (koa2)', () => {
  const harness = createKoaHarness('koa2', Koa2);

  describe('login → /api/me', () => {
    let server: RunningServer;
    before(async () => {
      server = await harness.start(PRESETS.seed);
    });
    after(() => server.close());

    test('the login route answer becomes a token that opens /api/me, with the payload on ctx.state.user', async () => {
      for (const mode of ['json', 'stream']) {
        const login = await fetch(`${server.url}/api/auth/login?mode=${mode}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: CREDENTIALS });
        const text = await login.text();
        const payload = assertTokenResponse(login, text);
        assert.equal(payload.userId, 123);
        const token = (JSON.parse(text) as { token: string }).token;
        const me = await fetch(`${server.url}/api/me`, { headers: { authorization: `Bearer ${token}` } });
        assert.equal(me.status, 200);
        const { user } = (await me.json()) as { user: Record<string, unknown> };
        assert.equal(user.userId, 123);
        assert.equal(user.role, 'admin');
      }
      const denied = await fetch(`${server.url}/api/me`, { headers: { authorization: `Bearer ${await hmacToken(LOGIN_USER, SEED_SECRET, 'HS256')}` } });
      assert.equal(denied.status, 401);
    });
  });
});

describe('koa adapter: forwardErrors and credentialsRequired', () => {
  const FORWARD = FORWARDING_OPTIONS;
  const bearer = async (sub: string) => ({ authorization: `Bearer ${await hmacToken({ sub })}` });

  test('forwardErrors: the JwtGuardError is thrown to upstream middleware with status and expose; downstream never runs', async () => {
    const app = new Koa();
    const seen: unknown[] = [];
    app.use(async (ctx, next) => {
      try {
        await next();
      } catch (error) {
        seen.push(error);
        ctx.status = (error as JwtGuardError).status;
        ctx.body = { handled: (error as JwtGuardError).code };
      }
    });
    app.use(jwtGuard(FORWARD));
    let runs = 0;
    app.use(async (ctx) => {
      runs += 1;
      ctx.body = { user: ctx.state.user };
    });
    const server = await serve(app);
    try {
      const missing = await fetch(`${server.url}/api/me`);
      assert.equal(missing.status, 401);
      assert.deepEqual(await missing.json(), { handled: 'token_missing' });
      const revoked = await fetch(`${server.url}/api/me`, { headers: await bearer('revoked-user') });
      assert.equal(revoked.status, 401);
      assert.deepEqual(await revoked.json(), { handled: 'token_revoked' });
      const down = await fetch(`${server.url}/api/me`, { headers: await bearer('store-down') });
      assert.equal(down.status, 503);
      assert.deepEqual(await down.json(), { handled: 'revocation_unavailable' });
      assert.equal(runs, 0);

      assert.equal(seen.length, 3);
      for (const error of seen) assert.ok(error instanceof JwtGuardError);
      const [first, , last] = seen as JwtGuardError[];
      assert.equal(first?.expose, true);
      assert.equal(last?.status, 503);
      assert.equal(last?.expose, false);

      const ok = await fetch(`${server.url}/api/me`, { headers: await bearer('alice') });
      assert.equal(ok.status, 200);
      assert.equal(((await ok.json()) as { user: { sub: string } }).user.sub, 'alice');
      assert.equal(runs, 1);
    } finally {
      await server.close();
    }
  });

  for (const [name, KoaClass] of [['Koa 3', Koa], ['Koa 2', Koa2 as typeof Koa]] as const) {
    test(`forwardErrors without an error-handling middleware (${name}): Koa’s own handler uses err.status, and shows the message only when err.expose`, async () => {
      const app = new KoaClass();
      const emitted: unknown[] = [];
      app.on('error', (error: unknown) => emitted.push(error));
      app.use(jwtGuard(FORWARD));
      app.use(async (ctx) => {
        ctx.body = 'secret';
      });
      const server = await serve(app);
      try {
        const missing = await fetch(`${server.url}/api/me`);
        assert.equal(missing.status, 401);
        assert.equal(await missing.text(), 'No token was provided.');
        const down = await fetch(`${server.url}/api/me`, { headers: await bearer('store-down') });
        assert.equal(down.status, 503);
        assert.equal(await down.text(), 'Service Unavailable');
        assert.deepEqual(
          emitted.map((error) => (error as JwtGuardError).code),
          ['token_missing', 'revocation_unavailable'],
        );
      } finally {
        await server.close();
      }
    });
  }

  test('credentialsRequired: false leaves ctx.state.user undefined for an anonymous request, and still refuses a bad token', async () => {
    let seen: unknown = 'not called';
    const server = await appWith(
      async (ctx) => {
        seen = ctx.state.user;
        ctx.body = { anonymous: ctx.state.user === undefined };
      },
      { secret: STRONG_SECRET, credentialsRequired: false },
    );
    try {
      const anonymous = await fetch(`${server.url}/api/me`);
      assert.deepEqual(await anonymous.json(), { anonymous: true });
      assert.equal(seen, undefined);
      const bad = await fetch(`${server.url}/api/me`, { headers: { authorization: 'Bearer abc.def' } });
      assert.equal(bad.status, 401);
      assert.equal(((await bad.json()) as { error: string }).error, 'token_malformed');
    } finally {
      await server.close();
    }
  });
});
