import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { clearCookie, isLocalHost, readCookie, setCookie } from '../../../src/core/browser/cookies.js';
import type { CookieSpec } from '../../../src/core/browser/browser-options.js';

const access: CookieSpec = { name: '__Host-jwtguard', path: '/', sameSite: 'lax', secure: true };
const refresh: CookieSpec = { name: '__Secure-jwtguard-refresh', path: '/api/auth/refresh', sameSite: 'strict', secure: true };
const dev: CookieSpec = { name: 'jwtguard', path: '/', sameSite: 'lax', secure: false };

describe('cookies', () => {
  test('setCookie: HttpOnly, Secure, SameSite, Path and a whole, non-negative Max-Age, serialised by `cookie`', () => {
    assert.equal(setCookie(access, 'a.b.c', 3600, 'app.example.com'), '__Host-jwtguard=a.b.c; Max-Age=3600; Path=/; HttpOnly; Secure; SameSite=Lax');
    assert.equal(setCookie(refresh, 'r'.repeat(43), 2592000.7, undefined), `__Secure-jwtguard-refresh=${'r'.repeat(43)}; Max-Age=2592000; Path=/api/auth/refresh; HttpOnly; Secure; SameSite=Strict`);
    assert.equal(setCookie(access, 'a.b.c', -5, undefined), '__Host-jwtguard=a.b.c; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax');
    assert.equal(setCookie(access, 'a.b.c', undefined, undefined), '__Host-jwtguard=a.b.c; Path=/; HttpOnly; Secure; SameSite=Lax', 'a token without exp: a session cookie');
  });

  test('clearCookie: same name, path and attributes, empty, Max-Age=0', () => {
    assert.equal(clearCookie(access, undefined), '__Host-jwtguard=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax');
    assert.equal(clearCookie(refresh, 'x'), '__Secure-jwtguard-refresh=; Max-Age=0; Path=/api/auth/refresh; HttpOnly; Secure; SameSite=Strict');
  });

  test('secure: false leaves Secure off only for local hosts; any other Host, or none, gets it', () => {
    assert.equal(setCookie(dev, 't', 60, 'localhost:3000'), 'jwtguard=t; Max-Age=60; Path=/; HttpOnly; SameSite=Lax');
    assert.equal(clearCookie(dev, '127.0.0.1:3000'), 'jwtguard=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax');
    assert.match(setCookie(dev, 't', 60, 'app.example.com'), /; Secure;/);
    assert.match(setCookie(dev, 't', 60, undefined), /; Secure;/);
    assert.match(setCookie(dev, 't', 60, 'localhost.evil.example'), /; Secure;/);
  });

  test('isLocalHost: localhost, *.localhost, 127.0.0.0/8 and [::1], with or without a port, any case', () => {
    for (const host of ['localhost', 'LOCALHOST:8080', 'app.localhost', 'a.b.localhost:1', '127.0.0.1', '127.1.2.3:80', '[::1]', '[::1]:3000']) assert.equal(isLocalHost(host), true, host);
    for (const host of [undefined, '', 'example.com', 'localhost.example.com', 'mylocalhost', '128.0.0.1', '10.0.0.1', '[::2]', '127.0.0.1.nip.io', '0.0.0.0']) assert.equal(isLocalHost(host), false, String(host));
  });

  test('readCookie: the named cookie from a Cookie header (Node or Web headers), percent-decoded; empty or absent → undefined', () => {
    assert.equal(readCookie({ cookie: 'a=1; __Host-jwtguard=x.y.z; b=2' }, '__Host-jwtguard'), 'x.y.z');
    assert.equal(readCookie(new Headers({ Cookie: 'r=a%2Db' }), 'r'), 'a-b');
    assert.equal(readCookie({ cookie: 'r=' }, 'r'), undefined);
    assert.equal(readCookie({ cookie: '' }, 'r'), undefined);
    assert.equal(readCookie({}, 'r'), undefined);
    assert.equal(readCookie(undefined, 'r'), undefined);
  });
});
