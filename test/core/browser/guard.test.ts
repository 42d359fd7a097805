import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createGuard, memoryStore, type AuthResult, type GuardRequest, type HttpResponse, type JwtGuardOptions, type TokenStore } from '../../../src/index.js';
import { decodePayload, hmacToken, STRONG_SECRET } from '../../support/tokens.js';

const base = { secret: STRONG_SECRET, authPath: '/api/auth/login', tokenCookie: true } as const satisfies JwtGuardOptions;
const CROSS_SITE = { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' };

/** Node-style headers whose CSRF headers count their reads: proves what a request paid for. */
function watched(headers: Record<string, string>, csrf: Record<string, string>): { headers: Record<string, string>; reads: () => number } {
  let reads = 0;
  const result = { ...headers };
  for (const [name, value] of Object.entries(csrf)) {
    Object.defineProperty(result, name, {
      enumerable: true,
      get() {
        reads += 1;
        return value;
      },
    });
  }
  return { headers: result, reads: () => reads };
}

const request = (method: string, headers: Record<string, string>, path = '/api/things'): GuardRequest => ({ method, path, url: path, headers });

function refusal(result: AuthResult): HttpResponse {
  assert.equal(result.ok, false);
  if (result.ok) throw new Error('unreachable');
  assert.equal(result.error.code, 'csrf_refused');
  return result.response;
}

describe('guard with cookies: what each request pays, and the endpoints', () => {
  test('a header token is never CSRF-checked: the CSRF headers are not even read, the own origin not computed, no vary', async () => {
    let asked = 0;
    const guard = createGuard(base, { ownOrigin: () => (asked++, 'http://x') });
    const token = await hmacToken({ sub: 'u' });
    const { headers, reads } = watched({ authorization: `Bearer ${token}`, cookie: `__Host-jwtguard=${token}` }, CROSS_SITE);
    const result = await guard.authenticate(request('POST', headers));
    assert.equal(result.ok, true);
    assert.equal(result.ok && result.vary, undefined);
    assert.equal(reads(), 0);
    assert.equal(asked, 0);
  });

  test('a cookie token on a safe method is not checked either', async () => {
    const guard = createGuard(base);
    const token = await hmacToken({ sub: 'u' });
    for (const method of ['GET', 'HEAD', 'OPTIONS']) {
      const { headers, reads } = watched({ cookie: `__Host-jwtguard=${token}` }, CROSS_SITE);
      const result = await guard.authenticate(request(method, headers));
      assert.equal(result.ok, true, method);
      assert.equal(reads(), 0, method);
    }
  });

  test('a guard without cookie sources never looks at the CSRF headers, whatever the method', async () => {
    const guard = createGuard({ secret: STRONG_SECRET });
    const { headers, reads } = watched({}, CROSS_SITE);
    const result = await guard.authenticate(request('POST', headers));
    assert.equal(!result.ok && result.error.code, 'token_missing');
    assert.equal(reads(), 0);
    assert.equal(guard.checkCsrf(request('POST', headers)), undefined);
  });

  test('an unsafe request without a header token is checked first, cookie or not: 403 csrf_refused with Vary, before any token work', async () => {
    const guard = createGuard(base);
    const response = refusal(await guard.authenticate(request('DELETE', { ...CROSS_SITE, cookie: '__Host-jwtguard=not.even.a-token' })));
    assert.equal(response.status, 403);
    assert.equal(response.headers.vary, 'Sec-Fetch-Site, Origin');
    assert.equal(response.headers['www-authenticate'], undefined);
    refusal(await guard.authenticate(request('POST', CROSS_SITE)));
    // A core caller that gives no method is checked as unsafe.
    refusal(await guard.authenticate({ url: '/', headers: CROSS_SITE }));
  });

  test('a checked request that passes carries vary (for the route’s answer); its failures get Vary too', async () => {
    const guard = createGuard(base);
    const token = await hmacToken({ sub: 'u' });
    const ok = await guard.authenticate(request('POST', { cookie: `__Host-jwtguard=${token}`, 'sec-fetch-site': 'same-origin' }));
    assert.equal(ok.ok && ok.vary, 'Sec-Fetch-Site, Origin');
    assert.equal(ok.ok && ok.payload?.sub, 'u');
    const missing = await guard.authenticate(request('POST', { 'sec-fetch-site': 'same-origin' }));
    assert.equal(!missing.ok && missing.error.code, 'token_missing');
    assert.equal(!missing.ok && missing.response.headers.vary, 'Sec-Fetch-Site, Origin');
    assert.equal(!missing.ok && missing.response.headers['www-authenticate'], 'Bearer');
  });

  test('the Origin fallback: the adapter’s ownOrigin hook, else the origin of an absolute url, else Origin host vs Host', async () => {
    const token = await hmacToken({ sub: 'u' });
    const cookie = `__Host-jwtguard=${token}`;
    const hooked = createGuard(base, { ownOrigin: (r) => (r.raw as { origin: string }).origin });
    const withRaw = (origin: string, raw: string): GuardRequest => ({ ...request('POST', { cookie, origin, host: 'app.example' }), raw: { origin: raw } });
    assert.equal((await hooked.authenticate(withRaw('https://app.example', 'https://app.example'))).ok, true);
    refusal(await hooked.authenticate(withRaw('http://app.example', 'https://app.example')));
    const plain = createGuard(base);
    const absolute = (origin: string): GuardRequest => ({ method: 'POST', path: '/x', url: 'https://app.example/x', headers: { cookie, origin, host: 'app.example' } });
    assert.equal((await plain.authenticate(absolute('https://app.example'))).ok, true);
    refusal(await plain.authenticate(absolute('http://app.example')));
    assert.equal((await plain.authenticate(request('POST', { cookie, origin: 'http://app.example', host: 'app.example' }))).ok, true, 'scheme unknown: host compared');
    refusal(await plain.authenticate(request('POST', { cookie, origin: 'https://evil.example', host: 'app.example' })));
  });

  test('a CSRF refusal waits out `delay` like every other failure', async () => {
    const guard = createGuard({ ...base, delay: 80 });
    const started = performance.now();
    refusal(await guard.authenticate(request('POST', CROSS_SITE)));
    assert.ok(performance.now() - started >= 75);
    const login = guard.checkCsrf(request('POST', CROSS_SITE, '/api/auth/login'));
    assert.ok(login instanceof Promise);
    refusal(await login);
  });

  test('checkCsrf (the login path): undefined for same-origin and safe methods, a refusal for cross-site', () => {
    const guard = createGuard(base);
    assert.equal(guard.checkCsrf(request('POST', { 'sec-fetch-site': 'same-origin' }, '/api/auth/login')), undefined);
    assert.equal(guard.checkCsrf(request('GET', CROSS_SITE, '/api/auth/login')), undefined);
    const refused = guard.checkCsrf(request('POST', CROSS_SITE, '/api/auth/login'));
    assert.ok(refused !== undefined && !(refused instanceof Promise));
    refusal(refused);
  });

  test('mint: tokenCookie answers {"expiresIn"} and the cookie; a token without exp gets a session cookie and {}', async () => {
    const guard = createGuard({ ...base, expiresIn: '10m' });
    const answer = (await guard.mint(200, { sub: 'u' }, { requestHeaders: { host: 'app.example' } })) as HttpResponse;
    assert.deepEqual(JSON.parse(answer.body), { expiresIn: 600 });
    assert.equal(answer.cookies?.length, 1);
    assert.match(answer.cookies?.[0] ?? '', /^__Host-jwtguard=[\w-]+\.[\w-]+\.[\w-]+; Max-Age=600; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
    assert.equal(answer.headers.vary, 'Sec-Fetch-Site, Origin');
    const forever = createGuard({ ...base, expiresIn: false });
    const session = (await forever.mint(201, { sub: 'u' })) as HttpResponse;
    assert.equal(session.status, 201);
    assert.deepEqual(JSON.parse(session.body), {});
    assert.doesNotMatch(session.cookies?.[0] ?? '', /Max-Age/);
    // Without cookies the answer is exactly as before: {"token"}, no cookies.
    const plain = (await createGuard({ secret: STRONG_SECRET, authPath: '/login' }).mint(200, { sub: 'u' })) as HttpResponse;
    assert.deepEqual(Object.keys(JSON.parse(plain.body) as object), ['token']);
    assert.equal(plain.cookies, undefined);
    assert.equal(plain.headers.vary, undefined);
  });

  test('mint with secure: false: no Secure for a localhost login, Secure for any other host', async () => {
    const guard = createGuard({ ...base, tokenCookie: { secure: false }, onWarning: () => {} });
    const local = (await guard.mint(200, { sub: 'u' }, { requestHeaders: new Headers({ host: 'localhost:5173' }) })) as HttpResponse;
    assert.doesNotMatch(local.cookies?.[0] ?? '', /Secure/);
    assert.match(local.cookies?.[0] ?? '', /^jwtguard=/);
    const remote = (await guard.mint(200, { sub: 'u' }, { requestHeaders: { host: 'app.example' } })) as HttpResponse;
    assert.match(remote.cookies?.[0] ?? '', /; Secure;/);
  });

  test('sessions + tokenCookie only: the refresh token stays in the body, the access token goes to the cookie; refresh reads the body', async () => {
    const guard = createGuard({ ...base, expiresIn: '15m', refresh: { path: '/api/auth/refresh' } });
    const login = (await guard.mint(200, { sub: 'u' })) as HttpResponse;
    const body = JSON.parse(login.body) as { refreshToken: string; expiresIn: number };
    assert.deepEqual(Object.keys(body), ['refreshToken', 'expiresIn']);
    const refreshed = await guard.refresh(JSON.stringify({ refreshToken: body.refreshToken }), request('POST', { 'sec-fetch-site': 'same-origin' }, '/api/auth/refresh'));
    assert.equal(refreshed.status, 200, refreshed.body);
    assert.deepEqual(Object.keys(JSON.parse(refreshed.body) as object), ['refreshToken', 'expiresIn']);
    assert.equal(decodePayload((refreshed.cookies?.[0] ?? '').split(';')[0]?.split('=')[1] ?? '').sub, 'u');
    await guard.close();
  });

  test('refresh.cookie: Max-Age of the refresh cookie is the session’s remaining life; without a request there is no cookie to read', async () => {
    const guard = createGuard({ ...base, expiresIn: '15m', refresh: { path: '/api/auth/refresh', expiresIn: '2h', cookie: true } });
    const login = (await guard.mint(200, { sub: 'u' })) as HttpResponse;
    assert.match(login.cookies?.[1] ?? '', /^__Secure-jwtguard-refresh=[\w-]{43}; Max-Age=7200; Path=\/api\/auth\/refresh; HttpOnly; Secure; SameSite=Strict$/);
    const refreshToken = (login.cookies?.[1] ?? '').split(';')[0]?.split('=')[1] ?? '';
    const refreshed = await guard.refresh(undefined, request('POST', { cookie: `__Secure-jwtguard-refresh=${refreshToken}` }, '/api/auth/refresh'));
    assert.equal(refreshed.status, 200, refreshed.body);
    const maxAge = Number(/Max-Age=(\d+)/.exec(refreshed.cookies?.[1] ?? '')?.[1]);
    assert.ok(maxAge <= 7200 && maxAge >= 7198, String(maxAge));
    const none = await guard.refresh(undefined);
    assert.equal(none.status, 401);
    assert.equal(none.cookies?.length, 2);
    for (const cleared of none.cookies ?? []) assert.match(cleared, /=; Max-Age=0;/);
    await guard.close();
  });

  test('logout: a store failure (503) clears nothing, so the client can retry', async () => {
    const store = memoryStore();
    const failing: TokenStore = {
      createSession: (session, hash) => store.createSession(session, hash),
      findRefresh: (hash, now) => store.findRefresh(hash, now),
      rotate: (input) => store.rotate(input),
      endSession: () => Promise.reject(new Error('down')),
      revokeSubject: (sub, now, until) => store.revokeSubject(sub, now, until),
      revocations: (now) => store.revocations(now),
      subscribe: (listener) => store.subscribe(listener),
    };
    const guard = createGuard({ ...base, expiresIn: '15m', refresh: { path: '/r', cookie: true }, logoutPath: '/out', store: failing });
    const login = (await guard.mint(200, { sub: 'u' })) as HttpResponse;
    const cookie = (login.cookies?.[0] ?? '').split(';')[0] ?? '';
    const out = request('POST', { cookie, 'sec-fetch-site': 'same-origin' }, '/out');
    const response = await guard.logout(await guard.authenticate(out), out);
    assert.equal(response.status, 503, response.body);
    assert.equal(response.cookies, undefined);
    await guard.close();
  });
});
