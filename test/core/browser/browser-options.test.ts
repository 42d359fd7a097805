import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { JwtGuardError, normalizeOptions, type JwtGuardOptions } from '../../../src/index.js';
import { STRONG_SECRET } from '../../support/tokens.js';

const base = { secret: STRONG_SECRET, authPath: '/api/auth/login' } as const;
const sessions = { ...base, expiresIn: '15m', refresh: { path: '/api/auth/refresh' } } as const;

function refused(options: JwtGuardOptions, message: RegExp): void {
  assert.throws(
    () => normalizeOptions(options),
    (error: unknown) => error instanceof JwtGuardError && error.code === 'invalid_options' && message.test(error.message),
    `expected invalid_options matching ${message}`,
  );
}

function warnings(options: JwtGuardOptions): string[] {
  const seen: string[] = [];
  normalizeOptions({ ...options, onWarning: (message) => seen.push(message) });
  return seen;
}

describe('browser options: tokenCookie, refresh.cookie, csrf', () => {
  test('defaults: nothing set → no cookies, no CSRF policy (no cookie carries tokens)', () => {
    const { browser, sources } = normalizeOptions({ ...base });
    assert.deepEqual(browser, { tokenCookie: undefined, refreshCookie: undefined, csrf: undefined });
    assert.deepEqual(sources, { header: 'authorization', cookie: undefined, query: undefined });
  });

  test('tokenCookie: true → __Host-jwtguard, Path=/, SameSite=Lax, Secure; read as a source after the default Authorization header; CSRF on', () => {
    const { browser, sources } = normalizeOptions({ ...base, tokenCookie: true });
    assert.deepEqual(browser.tokenCookie, { name: '__Host-jwtguard', path: '/', sameSite: 'lax', secure: true });
    assert.deepEqual(sources, { header: 'authorization', cookie: '__Host-jwtguard', query: undefined });
    assert.deepEqual(browser.csrf, { trustedOrigins: new Set(), allowSameSite: false });
  });

  test('refresh.cookie: true → __Secure-jwtguard-refresh scoped to refresh.path, SameSite=Strict', () => {
    const { browser } = normalizeOptions({ ...sessions, refresh: { ...sessions.refresh, cookie: true } });
    assert.deepEqual(browser.refreshCookie, { name: '__Secure-jwtguard-refresh', path: '/api/auth/refresh', sameSite: 'strict', secure: true });
    assert.equal(browser.tokenCookie, undefined);
    assert.ok(browser.csrf, 'a refresh cookie is a cookie credential: CSRF on');
  });

  test('secure: false → unprefixed default names, and one warning per guard naming http://localhost', () => {
    const options = { ...sessions, tokenCookie: { secure: false }, refresh: { ...sessions.refresh, cookie: { secure: false } } };
    const seen = warnings(options);
    assert.equal(seen.length, 1, seen.join('\n'));
    assert.match(seen[0] ?? '', /secure: false.*localhost/);
    const { browser } = normalizeOptions({ ...options, onWarning: () => {} });
    assert.equal(browser.tokenCookie?.name, 'jwtguard');
    assert.equal(browser.refreshCookie?.name, 'jwtguard-refresh');
    assert.equal(warnings({ ...base, tokenCookie: true }).length, 0, 'no warning for the safe defaults');
  });

  test('csrf: false warns once when cookies carry tokens, and not otherwise', () => {
    const seen = warnings({ ...base, tokenCookie: true, csrf: false });
    assert.equal(seen.length, 1);
    assert.match(seen[0] ?? '', /csrf: false/);
    assert.equal(warnings({ secret: STRONG_SECRET, cookie: 'jwt', csrf: false }).length, 1);
    assert.deepEqual(warnings({ ...base, csrf: false }), []);
    assert.equal(normalizeOptions({ ...base, tokenCookie: true, csrf: false, onWarning: () => {} }).browser.csrf, undefined);
  });

  test('a configured cookie source alone turns CSRF on; the header default is not added for it', () => {
    const { browser, sources } = normalizeOptions({ secret: STRONG_SECRET, cookie: 'jwt' });
    assert.ok(browser.csrf);
    assert.deepEqual(sources, { header: undefined, cookie: 'jwt', query: undefined });
  });

  test('csrf options: trusted origins are stored as browsers serialise Origin (lower case, no default port, no trailing slash)', () => {
    const { browser } = normalizeOptions({ ...base, tokenCookie: true, csrf: { trustedOrigins: ['https://Admin.Example.com:443/', 'http://localhost:8080'], allowSameSite: true } });
    assert.deepEqual([...(browser.csrf?.trustedOrigins ?? [])], ['https://admin.example.com', 'http://localhost:8080']);
    assert.equal(browser.csrf?.allowSameSite, true);
  });

  test('unusable values fail at construction with a message that says how to fix them', () => {
    refused({ secret: STRONG_SECRET, tokenCookie: true }, /needs `authPath`.*`cookie:/);
    refused({ ...base, tokenCookie: 'yes' as unknown as boolean }, /`tokenCookie` must be `true` or an object/);
    refused({ ...base, tokenCookie: { name: 'a b' } }, /`tokenCookie.name` must be a cookie name/);
    refused({ ...base, tokenCookie: { sameSite: 'Lax' as 'lax' } }, /`tokenCookie.sameSite` must be "lax", "strict" or "none"/);
    refused({ ...base, tokenCookie: { secure: 'no' as unknown as boolean } }, /`tokenCookie.secure` must be a boolean/);
    refused({ ...base, tokenCookie: { samesite: 'lax' } as never }, /`tokenCookie` has no option `samesite`/);
    refused({ ...base, tokenCookie: { name: '__Host-x', secure: false } }, /prefix.*Secure/);
    refused({ ...base, tokenCookie: { name: '__secure-x', secure: false } }, /prefix.*Secure/);
    refused({ ...base, tokenCookie: { secure: false, sameSite: 'none' } }, /"none"` needs `Secure`/);
    refused({ ...base, cookie: 'jwt', tokenCookie: true }, /`cookie` \("jwt"\) and `tokenCookie` \("__Host-jwtguard"\) name different cookies/);
    refused({ ...sessions, refresh: { ...sessions.refresh, cookie: { name: '__Host-refresh' } } }, /`__Host-` cookie must have `Path=\/`.*__Secure-/);
    refused({ ...sessions, tokenCookie: { name: 'same' }, refresh: { ...sessions.refresh, cookie: { name: 'same' } } }, /different names/);
    refused({ ...base, tokenCookie: true, csrf: 'on' as unknown as boolean }, /`csrf` must be `true` or an object/);
    refused({ ...base, tokenCookie: true, csrf: { trustedOrigins: 'https://a.example' as unknown as string[] } }, /must be a list of origins/);
    refused({ ...base, tokenCookie: true, csrf: { allowSameSite: 1 as unknown as boolean } }, /`csrf.allowSameSite` must be a boolean/);
    refused({ ...base, tokenCookie: true, csrf: { trustOrigins: [] } as never }, /`csrf` has no option `trustOrigins`/);
    for (const origin of ['https://a.example/path', '*', 'https://*.example.com', 'ftp://a.example', 'https://a.example?x=1', 'https://user@a.example', 'a.example']) {
      refused({ ...base, tokenCookie: true, csrf: { trustedOrigins: [origin] } }, /csrf.trustedOrigins/);
    }
    // Validated even while no cookie carries tokens: a typo is caught before it matters.
    refused({ ...base, csrf: { trustedOrigins: ['*'] } }, /csrf.trustedOrigins/);
  });

  test('an explicit `cookie` naming the token cookie itself is accepted', () => {
    const { sources } = normalizeOptions({ ...base, cookie: '__Host-jwtguard', tokenCookie: true });
    assert.equal(sources.cookie, '__Host-jwtguard');
  });
});
