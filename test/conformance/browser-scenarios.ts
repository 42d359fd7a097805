import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { parseSetCookie, type SetCookie } from 'cookie';
import { decodePayload, hmacToken, now } from '../support/tokens.js';
import { EFFECTS, LOGIN_USER } from './harness.js';
import type { Scenario, ScenarioContext } from './scenarios.js';

/** The origin the `browserTrusted` preset trusts. */
export const TRUSTED_ORIGIN = 'https://admin.example.test';

const CREDENTIALS = JSON.stringify({ username: 'alice', password: 'wonderland' });
const ACCESS_COOKIE = '__Host-jwtguard';
const REFRESH_COOKIE = '__Secure-jwtguard-refresh';
const CSRF_VARY = ['sec-fetch-site', 'origin'];

/** A `Set-Cookie` line as `cookie` parses it, with its value ('' when empty) and the line itself. */
type ReceivedCookie = SetCookie & { readonly value: string; readonly line: string };

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly text: string;
  /** Every `Set-Cookie` line, parsed, by cookie name. */
  readonly cookies: Map<string, ReceivedCookie>;
}

/**
 * One request with exactly these headers, over node:http: `fetch` would not send `Host` or the
 * browser-only `Sec-Fetch-*` headers as given, and hides `Set-Cookie` lines from each other.
 */
function send(ctx: ScenarioContext, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(`${ctx.url}${path}`, { method, headers: body === undefined ? headers : { 'content-length': String(Buffer.byteLength(body)), ...headers } }, (incoming) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('error', reject);
      incoming.on('end', () => {
        const cookies = new Map<string, ReceivedCookie>();
        for (const line of incoming.headers['set-cookie'] ?? []) {
          const parsed = parseSetCookie(line);
          cookies.set(parsed.name, { ...parsed, value: parsed.value ?? '', line });
        }
        resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, text: Buffer.concat(chunks).toString('utf8'), cookies });
      });
    });
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

/** This harness server's own origin, as a browser on it would send it in `Origin`. */
const ownOrigin = (ctx: ScenarioContext): string => new URL(ctx.url).origin;

function login(ctx: ScenarioContext, headers: Record<string, string> = {}, query = ''): Promise<Answer> {
  return send(ctx, 'POST', `/api/auth/login${query}`, { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin', ...headers }, CREDENTIALS);
}

/** The `Vary` header names, lower case. */
function varies(answer: Answer): string[] {
  const vary = answer.headers.vary;
  return (Array.isArray(vary) ? vary.join(',') : (vary ?? '')).split(',').map((name) => name.trim().toLowerCase()).filter(Boolean);
}

function expectVary(answer: Answer): void {
  for (const name of CSRF_VARY) assert.ok(varies(answer).includes(name), `Vary names ${name}: ${String(answer.headers.vary)}`);
}

/** A cookie as jwtguard sets it: HttpOnly, its Path and SameSite, Secure unless said otherwise, no Domain. */
function expectCookie(answer: Answer, name: string, expected: { path: string; sameSite: 'lax' | 'strict'; secure?: boolean; maxAge?: number }): ReceivedCookie {
  const cookie = answer.cookies.get(name);
  assert.ok(cookie, `Set-Cookie ${name} among ${[...answer.cookies.keys()].join(', ')}`);
  assert.equal(cookie.httpOnly, true, cookie.line);
  assert.equal(cookie.secure === true, expected.secure ?? true, cookie.line);
  assert.equal(cookie.path, expected.path, cookie.line);
  assert.equal(String(cookie.sameSite).toLowerCase(), expected.sameSite, cookie.line);
  assert.equal(cookie.domain, undefined, cookie.line);
  if (expected.maxAge !== undefined) assert.ok(cookie.maxAge !== undefined && Math.abs(cookie.maxAge - expected.maxAge) <= 1, `Max-Age ≈ ${expected.maxAge}: ${cookie.line}`);
  return cookie;
}

/** The answer clears the cookie: same name, path and attributes, empty, Max-Age=0. */
function expectCleared(answer: Answer, name: string, path: string, sameSite: 'lax' | 'strict'): void {
  const cookie = expectCookie(answer, name, { path, sameSite });
  assert.equal(cookie.value, '', cookie.line);
  assert.equal(cookie.maxAge, 0, cookie.line);
}

/** A 403 `csrf_refused`: JSON `{ error, message }`, no challenge (no token was at fault), not cacheable, varying on the CSRF headers, no cookies set. */
function expectCsrfRefused(answer: Answer): void {
  assert.equal(answer.status, 403, answer.text);
  const body = JSON.parse(answer.text) as { error: string; message: string };
  assert.deepEqual(Object.keys(body), ['error', 'message']);
  assert.equal(body.error, 'csrf_refused');
  assert.match(answer.headers['content-type'] ?? '', /^application\/json/);
  assert.equal(answer.headers['cache-control'], 'no-store');
  assert.equal(answer.headers['www-authenticate'], undefined);
  assert.equal(answer.cookies.size, 0, 'a refused request sets and clears no cookie');
  expectVary(answer);
}

/** The route ran: 200 `{ done: id, user }` with the token's payload. */
function expectDone(answer: Answer, id: string, user: Record<string, unknown> = LOGIN_USER): void {
  assert.equal(answer.status, 200, answer.text);
  const body = JSON.parse(answer.text) as { done: string; user: Record<string, unknown> };
  assert.equal(body.done, id);
  for (const [key, value] of Object.entries(user)) assert.deepEqual(body.user[key], value, `payload.${key}`);
  assert.ok(EFFECTS.has(id), 'the route’s side effect happened');
}

/** `POST /api/effects?id=<new id>` with these headers; returns the id, to check whether the effect happened. */
async function effect(ctx: ScenarioContext, headers: Record<string, string>): Promise<{ id: string; answer: Answer }> {
  const id = randomUUID();
  const answer = await send(ctx, 'POST', `/api/effects?id=${id}`, headers);
  return { id, answer };
}

/** Refused, and the protected route never ran. */
async function expectEffectRefused(ctx: ScenarioContext, headers: Record<string, string>): Promise<void> {
  const { id, answer } = await effect(ctx, headers);
  expectCsrfRefused(answer);
  assert.equal(EFFECTS.has(id), false, 'the route’s side effect did not happen');
}

async function expectEffectDone(ctx: ScenarioContext, headers: Record<string, string>): Promise<Answer> {
  const { id, answer } = await effect(ctx, headers);
  expectDone(answer, id);
  return answer;
}

/** A fresh token (STRONG_SECRET, as every browser preset verifies) in the default access cookie. */
async function cookieOf(claims: Record<string, unknown> = {}, name = ACCESS_COOKIE): Promise<string> {
  return `${name}=${await hmacToken({ ...LOGIN_USER, jti: randomUUID(), ...claims })}`;
}

/** Logs in (same-origin) on a preset with both cookies; returns the two `Cookie` pairs. */
async function sessionLogin(ctx: ScenarioContext): Promise<{ access: string; refresh: string; answer: Answer }> {
  const answer = await login(ctx);
  assert.equal(answer.status, 200, answer.text);
  const access = answer.cookies.get(ACCESS_COOKIE)?.value;
  const refresh = answer.cookies.get(REFRESH_COOKIE)?.value;
  assert.ok(access && refresh, answer.headers['set-cookie']?.join(' | '));
  return { access: `${ACCESS_COOKIE}=${access}`, refresh: `${REFRESH_COOKIE}=${refresh}`, answer };
}

function refresh(ctx: ScenarioContext, cookie: string | undefined, headers: Record<string, string> = { 'sec-fetch-site': 'same-origin' }, body?: string): Promise<Answer> {
  return send(ctx, 'POST', '/api/auth/refresh', { ...headers, ...(cookie === undefined ? {} : { cookie }) }, body);
}

function expectError(answer: Answer, status: number, code: string): void {
  assert.equal(answer.status, status, answer.text);
  assert.equal((JSON.parse(answer.text) as { error: string }).error, code);
  assert.doesNotMatch(answer.text, /"token"|refreshToken/);
}

/** Each `Sec-Fetch-Site` value, and what the default policy does with it. */
const FETCH_SITES: readonly [string, 'pass' | 'refuse'][] = [
  ['same-origin', 'pass'],
  ['none', 'pass'],
  ['same-site', 'refuse'],
  ['cross-site', 'refuse'],
  ['nonsense', 'refuse'],
];

/** Cookie delivery, clearing and CSRF protection (docs/browser.md), on every adapter. */
export function browserScenarios(): Scenario[] {
  return [
    // ---- cookie delivery ------------------------------------------------------------------------
    {
      name: 'browser: tokenCookie — login answers {"expiresIn"} without the token, and Set-Cookie __Host-jwtguard (HttpOnly, Secure, SameSite=Lax, Path=/, Max-Age = the token’s life)',
      preset: 'browser',
      async run(ctx) {
        const answer = await login(ctx);
        assert.equal(answer.status, 200, answer.text);
        assert.deepEqual(JSON.parse(answer.text), { expiresIn: 3600 });
        assert.equal(answer.headers['content-length'], String(Buffer.byteLength(answer.text)));
        assert.equal(answer.headers['cache-control'], 'no-store');
        const cookie = expectCookie(answer, ACCESS_COOKIE, { path: '/', sameSite: 'lax', maxAge: 3600 });
        assert.doesNotMatch(answer.text, new RegExp(cookie.value.slice(0, 20)), 'the token is not in the body');
        const payload = decodePayload(cookie.value);
        assert.equal(payload.userId, LOGIN_USER.userId);
        assert.equal((payload.exp as number) - (payload.iat as number), 3600);
        expectVary(answer);
      },
    },
    {
      name: 'browser: tokenCookie — the guard reads the cookie with no `cookie` option: GET /api/me with only the cookie → the payload',
      preset: 'browser',
      async run(ctx) {
        const answer = await login(ctx);
        const token = answer.cookies.get(ACCESS_COOKIE)?.value ?? '';
        const me = await send(ctx, 'GET', '/api/me', { cookie: `theme=dark; ${ACCESS_COOKIE}=${token}` });
        assert.equal(me.status, 200, me.text);
        assert.equal((JSON.parse(me.text) as { user: Record<string, unknown> }).user.userId, LOGIN_USER.userId);
        const none = await send(ctx, 'GET', '/api/me', { cookie: 'theme=dark' });
        expectError(none, 401, 'token_missing');
      },
    },
    {
      name: 'browser: tokenCookie — Max-Age follows an exp the login route sets (600 s from now), and expiresIn says the same',
      preset: 'browser',
      async run(ctx) {
        const exp = now() + 600;
        const answer = await login(ctx, {}, `?mode=exp&exp=${exp}`);
        assert.equal(answer.status, 200, answer.text);
        const { expiresIn } = JSON.parse(answer.text) as { expiresIn: number };
        assert.ok(Math.abs(expiresIn - 600) <= 1, String(expiresIn));
        expectCookie(answer, ACCESS_COOKIE, { path: '/', sameSite: 'lax', maxAge: 600 });
      },
    },
    {
      name: 'browser: tokenCookie — the headers and cookies the login route set are kept next to the token cookie',
      preset: 'browser',
      async run(ctx) {
        const answer = await login(ctx, {}, '?mode=headers');
        assert.equal(answer.status, 200, answer.text);
        assert.equal(answer.headers['x-login'], 'yes');
        assert.equal(answer.headers.etag, undefined);
        assert.equal(answer.cookies.get('sid')?.value, 'abc', answer.headers['set-cookie']?.join(' | '));
        expectCookie(answer, ACCESS_COOKIE, { path: '/', sameSite: 'lax', maxAge: 3600 });
        assert.deepEqual(Object.keys(JSON.parse(answer.text) as object), ['expiresIn']);
      },
    },
    {
      name: 'browser: tokenCookie — the Authorization header still works and wins over the cookie (a bad cookie does not spoil a good header)',
      preset: 'browser',
      async run(ctx) {
        const good = await hmacToken({ ...LOGIN_USER, src: 'header' });
        const me = await send(ctx, 'GET', '/api/me', { authorization: `Bearer ${good}`, cookie: `${ACCESS_COOKIE}=x.y.z` });
        assert.equal(me.status, 200, me.text);
        assert.equal((JSON.parse(me.text) as { user: { src: string } }).user.src, 'header');
        expectError(await send(ctx, 'GET', '/api/me', { authorization: 'Bearer x.y.z', cookie: await cookieOf() }), 401, 'token_malformed');
      },
    },
    {
      name: 'browser: secure: false (http://localhost development) — no Secure on answers to localhost or 127.0.0.1, Secure again for any other Host',
      preset: 'browserInsecure',
      async run(ctx) {
        for (const host of ['localhost:3000', '127.0.0.1', 'app.localhost']) {
          expectCookie(await login(ctx, { host }), 'dev-token', { path: '/', sameSite: 'strict', secure: false, maxAge: 3600 });
        }
        expectCookie(await login(ctx, { host: 'app.example.test' }), 'dev-token', { path: '/', sameSite: 'strict', secure: true, maxAge: 3600 });
      },
    },
    {
      name: 'browser: sessions with refresh.cookie — login sets both cookies (refresh: __Secure-, Path=/api/auth/refresh, SameSite=Strict, Max-Age = the session) and answers {"expiresIn"} only',
      preset: 'browserSessions',
      async run(ctx) {
        const { answer } = await sessionLogin(ctx);
        assert.deepEqual(JSON.parse(answer.text), { expiresIn: 900 });
        const access = expectCookie(answer, ACCESS_COOKIE, { path: '/', sameSite: 'lax', maxAge: 900 });
        const refreshCookie = expectCookie(answer, REFRESH_COOKIE, { path: '/api/auth/refresh', sameSite: 'strict', maxAge: 30 * 86400 });
        assert.match(refreshCookie.value, /^[A-Za-z0-9_-]{43}$/);
        assert.equal(typeof decodePayload(access.value).sid, 'string');
        expectVary(answer);
      },
    },
    {
      name: 'browser: refresh.cookie — refresh reads the cookie (the body is ignored) and sets both cookies again; the new access cookie opens /api/me',
      preset: 'browserSessions',
      async run(ctx) {
        const first = await sessionLogin(ctx);
        const answer = await refresh(ctx, first.refresh, { 'sec-fetch-site': 'same-origin', 'content-type': 'application/json' }, '{"refreshToken": 42}');
        assert.equal(answer.status, 200, answer.text);
        assert.deepEqual(JSON.parse(answer.text), { expiresIn: 900 });
        const access = expectCookie(answer, ACCESS_COOKIE, { path: '/', sameSite: 'lax', maxAge: 900 });
        const next = expectCookie(answer, REFRESH_COOKIE, { path: '/api/auth/refresh', sameSite: 'strict', maxAge: 30 * 86400 });
        assert.notEqual(`${REFRESH_COOKIE}=${next.value}`, first.refresh);
        const me = await send(ctx, 'GET', '/api/me', { cookie: `${ACCESS_COOKIE}=${access.value}` });
        assert.equal(me.status, 200, me.text);
        assert.equal(await refresh(ctx, `${REFRESH_COOKIE}=${next.value}`).then((a) => a.status), 200);
      },
    },
    {
      name: 'browser: refresh.cookie only — the access token stays in the body ({"token", "expiresIn"}), the refresh token only in its cookie',
      preset: 'browserRefreshOnly',
      async run(ctx) {
        const answer = await login(ctx);
        assert.equal(answer.status, 200, answer.text);
        const body = JSON.parse(answer.text) as { token: string; expiresIn: number };
        assert.deepEqual(Object.keys(body), ['token', 'expiresIn']);
        assert.equal(answer.cookies.has(ACCESS_COOKIE), false);
        const cookie = expectCookie(answer, REFRESH_COOKIE, { path: '/api/auth/refresh', sameSite: 'strict' });
        const refreshed = await refresh(ctx, `${REFRESH_COOKIE}=${cookie.value}`);
        assert.equal(refreshed.status, 200, refreshed.text);
        assert.deepEqual(Object.keys(JSON.parse(refreshed.text) as object), ['token', 'expiresIn']);
        const me = await send(ctx, 'GET', '/api/me', { authorization: `Bearer ${(JSON.parse(refreshed.text) as { token: string }).token}` });
        assert.equal(me.status, 200, me.text);
      },
    },

    // ---- clearing -------------------------------------------------------------------------------
    {
      name: 'browser: logout with the cookie → 204 clearing both cookies (same name, path, attributes, Max-Age=0); the old access cookie → 401 token_revoked',
      preset: 'browserSessions',
      async run(ctx) {
        const { access, refresh: refreshPair } = await sessionLogin(ctx);
        const out = await send(ctx, 'POST', '/api/auth/logout', { cookie: access, 'sec-fetch-site': 'same-origin' });
        assert.equal(out.status, 204, out.text);
        expectCleared(out, ACCESS_COOKIE, '/', 'lax');
        expectCleared(out, REFRESH_COOKIE, '/api/auth/refresh', 'strict');
        expectVary(out);
        expectError(await send(ctx, 'GET', '/api/me', { cookie: access }), 401, 'token_revoked');
        const dead = await refresh(ctx, refreshPair);
        expectError(dead, 401, 'refresh_token_invalid');
        expectCleared(dead, ACCESS_COOKIE, '/', 'lax');
      },
    },
    {
      name: 'browser: logout without a token → 401 token_missing, and the cookies are cleared anyway',
      preset: 'browserSessions',
      async run(ctx) {
        const out = await send(ctx, 'POST', '/api/auth/logout', { 'sec-fetch-site': 'same-origin' });
        expectError(out, 401, 'token_missing');
        expectCleared(out, ACCESS_COOKIE, '/', 'lax');
        expectCleared(out, REFRESH_COOKIE, '/api/auth/refresh', 'strict');
      },
    },
    {
      name: 'browser: refresh without the cookie, or with a malformed or unknown one → 401 refresh_token_invalid clearing both cookies',
      preset: 'browserSessions',
      async run(ctx) {
        for (const cookie of [undefined, `${REFRESH_COOKIE}=short`, `${REFRESH_COOKIE}=${'A'.repeat(43)}`]) {
          const answer = await refresh(ctx, cookie);
          expectError(answer, 401, 'refresh_token_invalid');
          expectCleared(answer, ACCESS_COOKIE, '/', 'lax');
          expectCleared(answer, REFRESH_COOKIE, '/api/auth/refresh', 'strict');
        }
      },
    },
    {
      name: 'browser: a reused refresh cookie (a grandparent) → 401 refresh_token_reused clearing both cookies; the session is over',
      preset: 'browserSessions',
      async run(ctx) {
        const first = await sessionLogin(ctx);
        const second = await refresh(ctx, first.refresh);
        const secondRefresh = `${REFRESH_COOKIE}=${second.cookies.get(REFRESH_COOKIE)?.value}`;
        const third = await refresh(ctx, secondRefresh);
        assert.equal(third.status, 200, third.text);
        const reused = await refresh(ctx, first.refresh);
        expectError(reused, 401, 'refresh_token_reused');
        expectCleared(reused, ACCESS_COOKIE, '/', 'lax');
        expectCleared(reused, REFRESH_COOKIE, '/api/auth/refresh', 'strict');
        const thirdAccess = `${ACCESS_COOKIE}=${third.cookies.get(ACCESS_COOKIE)?.value}`;
        expectError(await send(ctx, 'GET', '/api/me', { cookie: thirdAccess }), 401, 'token_revoked');
      },
    },

    // ---- CSRF: Fetch Metadata ---------------------------------------------------------------------
    ...FETCH_SITES.map(
      ([site, verdict]): Scenario => ({
        name: `browser CSRF: POST with the token cookie and Sec-Fetch-Site: ${site} → ${verdict === 'pass' ? 'the route runs (answer varies on Sec-Fetch-Site, Origin)' : '403 csrf_refused, the route never runs'}`,
        preset: 'browser',
        async run(ctx) {
          const headers = { cookie: await cookieOf(), 'sec-fetch-site': site, origin: site === 'same-origin' ? ownOrigin(ctx) : 'https://evil.example' };
          if (verdict === 'refuse') return expectEffectRefused(ctx, headers);
          expectVary(await expectEffectDone(ctx, headers));
        },
      }),
    ),
    {
      name: 'browser CSRF: a cross-site POST without any cookie (a browser withholding the SameSite cookie) → 403 csrf_refused, not 401',
      preset: 'browser',
      run: (ctx) => expectEffectRefused(ctx, { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example', 'content-type': 'application/x-www-form-urlencoded' }),
    },
    {
      name: 'browser CSRF: safe methods (GET, HEAD, OPTIONS) are never checked, even cross-site; their answers do not vary on the CSRF headers',
      preset: 'browser',
      async run(ctx) {
        const headers = { cookie: await cookieOf(), 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' };
        const me = await send(ctx, 'GET', '/api/me', headers);
        assert.equal(me.status, 200, me.text);
        assert.equal(varies(me).includes('sec-fetch-site'), false);
        const head = await send(ctx, 'HEAD', '/api/me', headers);
        assert.equal(head.status, 200);
        const options = await send(ctx, 'OPTIONS', '/api/effects', headers);
        assert.notEqual(options.status, 403, options.text);
      },
    },
    {
      name: 'browser CSRF: a token in the Authorization header is not an ambient credential — cross-site POST passes (with or without the cookie) and is not checked',
      preset: 'browser',
      async run(ctx) {
        const bearer = `Bearer ${await hmacToken({ ...LOGIN_USER, jti: randomUUID() })}`;
        for (const extra of [{}, { cookie: await cookieOf() }] as Record<string, string>[]) {
          const answer = await expectEffectDone(ctx, { authorization: bearer, 'sec-fetch-site': 'cross-site', origin: 'https://evil.example', ...extra });
          assert.equal(varies(answer).includes('sec-fetch-site'), false, 'not checked, so not varying');
        }
      },
    },

    // ---- CSRF: Origin fallback, no headers --------------------------------------------------------
    {
      name: 'browser CSRF (no Fetch Metadata): Origin equal to the server’s own origin passes; another host, another scheme, another port or "null" → 403',
      preset: 'browser',
      async run(ctx) {
        const cookie = await cookieOf();
        const own = new URL(ctx.url);
        expectVary(await expectEffectDone(ctx, { cookie, origin: own.origin }));
        for (const origin of ['https://evil.example', `https://${own.host}`, `http://${own.hostname}:1`, 'null']) {
          await expectEffectRefused(ctx, { cookie, origin });
        }
      },
    },
    {
      name: 'browser CSRF: neither Sec-Fetch-Site nor Origin (not a browser) → the request passes',
      preset: 'browser',
      run: async (ctx) => void (await expectEffectDone(ctx, { cookie: await cookieOf() })),
    },

    // ---- CSRF: the guard's own endpoints ----------------------------------------------------------
    {
      name: 'browser CSRF: a cross-site login → 403 before the login route runs (no login, no cookie); same-origin logs in',
      preset: 'browser',
      async run(ctx) {
        for (const headers of [{ 'sec-fetch-site': 'cross-site' }, { 'sec-fetch-site': 'same-site' }, { 'sec-fetch-site': '', origin: 'https://evil.example' }] as Record<string, string>[]) {
          const id = randomUUID();
          expectCsrfRefused(await login(ctx, headers, `?effect=${id}`));
          assert.equal(EFFECTS.has(id), false, 'the login route did not run');
        }
        const id = randomUUID();
        assert.equal((await login(ctx, {}, `?effect=${id}`)).status, 200);
        assert.ok(EFFECTS.has(id));
      },
    },
    {
      name: 'browser CSRF: a cross-site refresh → 403, no cookie set or cleared, and the refresh cookie still works',
      preset: 'browserSessions',
      async run(ctx) {
        const first = await sessionLogin(ctx);
        expectCsrfRefused(await refresh(ctx, first.refresh, { 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }));
        expectCsrfRefused(await refresh(ctx, first.refresh, { origin: 'https://evil.example' }));
        assert.equal((await refresh(ctx, first.refresh)).status, 200);
      },
    },
    {
      name: 'browser CSRF: a cross-site logout → 403, nothing cleared, the session lives on',
      preset: 'browserSessions',
      async run(ctx) {
        const { access } = await sessionLogin(ctx);
        expectCsrfRefused(await send(ctx, 'POST', '/api/auth/logout', { cookie: access, 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }));
        const me = await send(ctx, 'GET', '/api/me', { cookie: access });
        assert.equal(me.status, 200, me.text);
      },
    },
    {
      name: 'browser CSRF: a configured `cookie` source is protected the same way (cross-site POST → 403, same-origin passes)',
      preset: 'cookie',
      async run(ctx) {
        const cookie = await cookieOf({}, 'jwt');
        await expectEffectRefused(ctx, { cookie, 'sec-fetch-site': 'cross-site' });
        await expectEffectDone(ctx, { cookie, 'sec-fetch-site': 'same-origin' });
      },
    },

    // ---- CSRF options -----------------------------------------------------------------------------
    {
      name: 'browser CSRF: trustedOrigins lets a cross-site request from that origin through (Fetch Metadata and Origin fallback); others are still refused',
      preset: 'browserTrusted',
      async run(ctx) {
        const cookie = await cookieOf();
        await expectEffectDone(ctx, { cookie, 'sec-fetch-site': 'cross-site', origin: TRUSTED_ORIGIN });
        await expectEffectDone(ctx, { cookie, origin: TRUSTED_ORIGIN });
        await expectEffectRefused(ctx, { cookie, 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' });
        await expectEffectRefused(ctx, { cookie, 'sec-fetch-site': 'cross-site' });
        await expectEffectRefused(ctx, { cookie, origin: `${TRUSTED_ORIGIN}:8443` });
      },
    },
    {
      name: 'browser CSRF: allowSameSite lets Sec-Fetch-Site: same-site through; cross-site is still refused',
      preset: 'browserTrusted',
      async run(ctx) {
        const cookie = await cookieOf();
        await expectEffectDone(ctx, { cookie, 'sec-fetch-site': 'same-site', origin: 'https://other.example.test' });
        await expectEffectRefused(ctx, { cookie, 'sec-fetch-site': 'cross-site', origin: 'https://other.example.test' });
      },
    },
    {
      name: 'browser CSRF: csrf: false turns the check off — a cross-site POST with the cookie reaches the route',
      preset: 'browserNoCsrf',
      run: async (ctx) => void (await expectEffectDone(ctx, { cookie: await cookieOf(), 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' })),
    },
    {
      name: 'browser CSRF: under forwardErrors the refusal reaches the app’s error handler as 403 csrf_refused; the route never runs',
      preset: 'browserForward',
      async run(ctx) {
        const { id, answer } = await effect(ctx, { cookie: await cookieOf(), 'sec-fetch-site': 'cross-site' });
        assert.equal(answer.status, 403, answer.text);
        assert.deepEqual(JSON.parse(answer.text), { error: 'handled', code: 'csrf_refused' });
        assert.equal(EFFECTS.has(id), false);
      },
    },
  ];
}
