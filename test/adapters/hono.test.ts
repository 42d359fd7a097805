import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
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
