import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import { compress } from 'hono/compress';
import { HTTPException } from 'hono/http-exception';
import { jwtGuard, type JwtGuardEnv } from '../../src/adapters/hono.js';
import defaultExport from '../../src/adapters/hono.js';
import { JwtGuardError, type JwtGuardOptions, type JwtGuardPayload } from '../../src/index.js';
import { decodePayload, hmacToken, STRONG_SECRET } from '../support/tokens.js';

const OPTIONS: JwtGuardOptions = { secret: STRONG_SECRET, authPath: '/api/auth/login' };
const USER = { userId: 7, role: 'admin' };
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

// ---- type-level checks: these lines only compile if `c.get('jwtPayload')` is typed without casts (checked by `tsc`).
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function typeChecks(): void {
  const typed = new Hono<JwtGuardEnv>();
  typed.get('/', (c) => {
    const _payload = c.get('jwtPayload');
    const exact: Equal<typeof _payload, JwtGuardPayload> = true;
    return c.json({ exact });
  });
  // Mounting the middleware on an untyped app also carries the variable through Hono's chaining.
  new Hono().use(jwtGuard(OPTIONS)).get('/', (c) => {
    const _payload = c.get('jwtPayload');
    const exact: Equal<typeof _payload, JwtGuardPayload> = true;
    // @ts-expect-error the payload is an object, not a string
    const wrong: string = c.get('jwtPayload');
    return c.json({ exact, wrong });
  });
  // Non-chained on an untyped app: typed through the ContextVariableMap augmentation.
  const plain = new Hono();
  plain.use('*', jwtGuard(OPTIONS));
  plain.get('/', (c) => {
    const _payload = c.get('jwtPayload');
    const exact: Equal<typeof _payload, JwtGuardPayload> = true;
    return c.json({ exact });
  });
}
void typeChecks;

function bearer(token: string): { headers: Record<string, string> } {
  return { headers: { authorization: `Bearer ${token}` } };
}

describe('hono adapter', () => {
  test('the default export is jwtGuard', () => {
    assert.equal(defaultExport, jwtGuard);
  });

  test('mounted on a sub-path, it guards only that path', async () => {
    const app = new Hono<JwtGuardEnv>();
    app.use('/api/*', jwtGuard(OPTIONS));
    app.get('/public', (c) => c.text('open'));
    app.get('/api/me', (c) => c.json({ user: c.get('jwtPayload') }));

    const open = await app.request('/public');
    assert.equal(open.status, 200);
    assert.equal(await open.text(), 'open');

    const guarded = await app.request('/api/me');
    assert.equal(guarded.status, 401);
    assert.equal(guarded.headers.get('www-authenticate'), 'Bearer');
    assert.equal(((await guarded.json()) as { error: string }).error, 'token_missing');
  });

  test('a verified payload is available as c.get("jwtPayload")', async () => {
    const app = new Hono<JwtGuardEnv>();
    app.use('*', jwtGuard(OPTIONS));
    app.get('/api/me', (c) => c.json({ user: c.get('jwtPayload') }));

    const response = await app.request('/api/me', bearer(await hmacToken(USER)));
    assert.equal(response.status, 200);
    const { user } = (await response.json()) as { user: Record<string, unknown> };
    assert.equal(user.userId, 7);
    assert.equal(user.role, 'admin');
  });

  test('a failure goes through outer middleware, which can add headers after await next()', async () => {
    const app = new Hono<JwtGuardEnv>();
    let seenStatus: number | undefined;
    app.use('*', async (c, next) => {
      c.header('x-before', 'kept');
      await next();
      seenStatus = c.res.status;
      c.header('x-after', 'added');
    });
    app.use('*', jwtGuard(OPTIONS));
    let routeRan = false;
    app.get('/api/me', (c) => {
      routeRan = true;
      return c.text('secret');
    });

    const response = await app.request('/api/me', bearer('abc.def'));
    assert.equal(response.status, 401);
    assert.equal(seenStatus, 401);
    assert.equal(routeRan, false);
    assert.equal(response.headers.get('x-before'), 'kept');
    assert.equal(response.headers.get('x-after'), 'added');
    assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token"/);
    assert.equal(((await response.json()) as { error: string }).error, 'token_malformed');
  });

  test('an error thrown after the guard reaches app.onError', async () => {
    const app = new Hono<JwtGuardEnv>();
    app.use('*', jwtGuard(OPTIONS));
    app.get('/api/boom', () => {
      throw new Error('boom');
    });
    app.onError((_error, c) => c.json({ error: 'handled' }, 500));

    const response = await app.request('/api/boom', bearer(await hmacToken(USER)));
    assert.equal(response.status, 500);
    assert.deepEqual(await response.json(), { error: 'handled' });
  });

  test('minting keeps the route headers (Set-Cookie, X-Login) but drops its body headers', async () => {
    const app = new Hono<JwtGuardEnv>();
    app.use('/api/*', jwtGuard(OPTIONS));
    app.post('/api/auth/login', (c) =>
      c.body(JSON.stringify(USER), 200, {
        'x-login': 'yes',
        'set-cookie': ['sid=abc', 'theme=dark'],
        etag: '"v1"',
        'last-modified': 'Wed, 21 Oct 2015 07:28:00 GMT',
        'content-type': 'application/json',
        'content-length': '5',
      }),
    );

    const response = await app.request('/api/auth/login?x=1', { method: 'POST' });
    const text = await response.text();
    assert.equal(response.status, 200, text);
    assert.equal(response.headers.get('x-login'), 'yes');
    assert.deepEqual(response.headers.getSetCookie(), ['sid=abc', 'theme=dark']);
    assert.equal(response.headers.get('etag'), null);
    assert.equal(response.headers.get('last-modified'), null);
    assert.equal(response.headers.get('content-length'), String(new TextEncoder().encode(text).byteLength));
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    const { token } = JSON.parse(text) as { token: string };
    assert.equal(decodePayload(token).userId, 7);
  });

  test('a non-2xx login answer passes through untouched', async () => {
    const app = new Hono<JwtGuardEnv>();
    app.use('*', jwtGuard(OPTIONS));
    app.post('/api/auth/login', (c) => c.json({ error: 'invalid_credentials' }, 401, { etag: '"e"' }));

    const response = await app.request('/api/auth/login', { method: 'POST' });
    assert.equal(response.status, 401);
    assert.equal(response.headers.get('etag'), '"e"');
    assert.deepEqual(await response.json(), { error: 'invalid_credentials' });
  });

  test('invalid options throw JwtGuardError invalid_options at construction', () => {
    const invalid = (error: unknown) => error instanceof JwtGuardError && error.code === 'invalid_options';
    assert.throws(() => jwtGuard({ secret: '' }), invalid);
    assert.throws(() => jwtGuard({ secret: STRONG_SECRET, algorithm: 'RS256' as never }), invalid);
    assert.throws(() => jwtGuard({ secret: STRONG_SECRET, authPath: 'login' }), invalid);
    assert.throws(() => jwtGuard(undefined as never), invalid);
  });

  test('the Hono adapter and the core it imports stay Web-standard (no node: imports)', () => {
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
        entry.isDirectory() ? files(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
      );
    const checked = [join(ROOT, 'src/adapters/hono.ts'), ...files(join(ROOT, 'src/core'))];
    assert.ok(checked.length > 5, 'expected to find the core sources');
    const nodeImport = /\bfrom\s+['"]node:|\bimport\s*\(\s*['"]node:|\brequire\s*\(\s*['"]node:/;
    for (const file of checked) {
      // `import type` is erased at build time, so it may name node: modules for typing only.
      const runtime = readFileSync(file, 'utf8').replace(/^import type .*$/gm, '');
      assert.doesNotMatch(runtime, nodeImport, `${file} imports a node: module`);
    }
    // No Node globals in the adapter's code (comments stripped).
    const code = readFileSync(join(ROOT, 'src/adapters/hono.ts'), 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
    assert.doesNotMatch(code, /\bBuffer\b|\bprocess\b|\b__dirname\b|\brequire\(/);
  });
});

describe('hono adapter: credentialsRequired, publicPaths, isRevoked, forwardErrors', () => {
  const FORWARD: JwtGuardOptions = {
    secret: STRONG_SECRET,
    forwardErrors: true,
    isRevoked: (payload) => {
      if (payload.sub === 'store-down') throw new Error('store down');
      return payload.sub === 'revoked-user';
    },
  };

  /** An app with the forwarding guard and a route that counts its runs. */
  function forwardingApp(): { app: Hono<JwtGuardEnv>; runs: () => number } {
    const app = new Hono<JwtGuardEnv>();
    let runs = 0;
    app.use('*', jwtGuard(FORWARD));
    app.get('/api/me', (c) => {
      runs += 1;
      return c.json({ user: c.get('jwtPayload') });
    });
    return { app, runs: () => runs };
  }

  test('forwardErrors without app.onError: Hono answers the HTTPException’s own response, the ready 401 JSON with its challenge', async () => {
    const { app, runs } = forwardingApp();

    const missing = await app.request('/api/me');
    assert.equal(missing.status, 401);
    assert.equal(missing.headers.get('www-authenticate'), 'Bearer');
    assert.equal(missing.headers.get('cache-control'), 'no-store');
    assert.match(missing.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(await missing.json(), { error: 'token_missing', message: 'No token was provided.' });

    const malformed = await app.request('/api/me', bearer('abc.def'));
    assert.equal(malformed.status, 401);
    assert.match(malformed.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token"/);
    assert.equal(((await malformed.json()) as { error: string }).error, 'token_malformed');

    const unavailable = await app.request('/api/me', bearer(await hmacToken({ sub: 'store-down' })));
    assert.equal(unavailable.status, 503);
    assert.equal(unavailable.headers.get('www-authenticate'), null);
    assert.equal(((await unavailable.json()) as { error: string }).error, 'revocation_unavailable');
    assert.equal(runs(), 0);
  });

  test('forwardErrors: app.onError gets an HTTPException carrying the ready response, with the JwtGuardError as cause', async () => {
    const { app, runs } = forwardingApp();
    const seen: unknown[] = [];
    app.onError((error, c) => {
      seen.push(error);
      return error instanceof HTTPException ? error.getResponse() : c.text('unexpected', 500);
    });

    const response = await app.request('/api/me', bearer(await hmacToken({ sub: 'revoked-user' })));
    assert.equal(response.status, 401);
    assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token"/);
    assert.equal(((await response.json()) as { error: string }).error, 'token_revoked');

    const [error] = seen;
    assert.ok(error instanceof HTTPException);
    assert.equal(error.status, 401);
    assert.ok(error.cause instanceof JwtGuardError);
    assert.equal(error.cause.code, 'token_revoked');
    assert.equal(error.cause.statusCode, 401);
    assert.equal(error.cause.expose, true);
    assert.equal(error.message, error.cause.message);

    await app.request('/api/me', bearer(await hmacToken({ sub: 'store-down' })));
    const failed = seen[1] as HTTPException;
    assert.equal(failed.status, 503);
    const cause = failed.cause as JwtGuardError;
    assert.equal(cause.code, 'revocation_unavailable');
    assert.equal(cause.expose, false);
    assert.equal((cause.cause as Error).message, 'store down', 'the hook’s error is kept as the cause, for logs');
    assert.equal(runs(), 0);
  });

  test('forwardErrors: outer middleware sees the handled failure as c.error and c.res, and a valid token still reaches the route', async () => {
    const app = new Hono<JwtGuardEnv>();
    let outerError: unknown;
    let outerStatus: number | undefined;
    app.use('*', async (c, next) => {
      await next();
      outerError = c.error;
      outerStatus = c.res.status;
    });
    app.use('*', jwtGuard(FORWARD));
    app.get('/api/me', (c) => c.json({ user: c.get('jwtPayload') }));

    assert.equal((await app.request('/api/me', bearer('abc.def'))).status, 401);
    assert.ok(outerError instanceof HTTPException);
    assert.equal(outerStatus, 401);

    const ok = await app.request('/api/me', bearer(await hmacToken({ ...USER, sub: 'alice' })));
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { user: { sub: string } }).user.sub, 'alice');
    assert.equal(outerError, undefined);
  });

  test('credentialsRequired: false leaves c.get("jwtPayload") unset for an anonymous request, set for a valid token', async () => {
    const app = new Hono<JwtGuardEnv>();
    app.use('*', jwtGuard({ secret: STRONG_SECRET, credentialsRequired: false }));
    app.get('/api/me', (c) => c.json({ anonymous: c.get('jwtPayload') === undefined, user: c.get('jwtPayload') }));

    assert.deepEqual(await (await app.request('/api/me')).json(), { anonymous: true });
    const signedIn = (await (await app.request('/api/me', bearer(await hmacToken(USER)))).json()) as { anonymous: boolean; user: Record<string, unknown> };
    assert.equal(signedIn.anonymous, false);
    assert.equal(signedIn.user.userId, 7);
    assert.equal((await app.request('/api/me', bearer('abc.def'))).status, 401);
  });

  test('publicPaths are matched against the full path of the absolute request URL, also when mounted on a sub-path', async () => {
    const app = new Hono<JwtGuardEnv>();
    app.use('/api/*', jwtGuard({ secret: STRONG_SECRET, publicPaths: ['/api/health', '/api/docs/*'] }));
    app.get('/api/health', (c) => c.text('up'));
    app.get('/api/docs/intro', (c) => c.text('docs'));
    app.get('/api/me', (c) => c.json({ user: c.get('jwtPayload') }));

    const health = await app.request('http://example.test/api/health?verbose=1');
    assert.equal(health.status, 200);
    assert.equal(await health.text(), 'up');
    assert.equal((await app.request('/api/docs/intro')).status, 200);
    assert.equal((await app.request('/api/me')).status, 401);
    assert.equal((await app.request('/health')).status, 404);
  });

  test('isRevoked gets the verified payload and the exact token', async () => {
    const calls: Array<[JwtGuardPayload, string]> = [];
    const app = new Hono<JwtGuardEnv>();
    app.use('*', jwtGuard({ secret: STRONG_SECRET, isRevoked: async (payload, token) => (calls.push([payload, token]), false) }));
    app.get('/api/me', (c) => c.json({ user: c.get('jwtPayload') }));

    const token = await hmacToken({ ...USER, sub: 'alice' });
    assert.equal((await app.request('/api/me', bearer(token))).status, 200);
    assert.equal(calls.length, 1);
    assert.equal(calls[0]?.[0].sub, 'alice');
    assert.equal(calls[0]?.[1], token);
  });

  test('compress() mounted after the guard: the gzip login answer is decoded and minted, the token answer is not compressed', async () => {
    const app = new Hono<JwtGuardEnv>();
    app.use('*', jwtGuard(OPTIONS));
    app.use('*', compress({ threshold: 0 }));
    app.post('/api/auth/login', (c) => c.json({ ...USER, bio: 'x'.repeat(4000) }));

    const control = new Hono();
    control.use('*', compress({ threshold: 0 }));
    control.post('/api/auth/login', (c) => c.json(USER));
    const compressed = await control.request('/api/auth/login', { method: 'POST', headers: { 'accept-encoding': 'gzip' } });
    assert.equal(compressed.headers.get('content-encoding'), 'gzip', 'without the guard the answer is compressed');

    const response = await app.request('/api/auth/login', { method: 'POST', headers: { 'accept-encoding': 'gzip' } });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-encoding'), null);
    const { token } = (await response.json()) as { token: string };
    assert.equal(decodePayload(token).bio, 'x'.repeat(4000));
  });
});
