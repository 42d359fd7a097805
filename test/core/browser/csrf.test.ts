import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { csrfVerdict, isUnsafeMethod } from '../../../src/core/browser/csrf.js';
import type { CsrfPolicy } from '../../../src/core/browser/browser-options.js';
import { JwtGuardError } from '../../../src/index.js';

const strict: CsrfPolicy = { trustedOrigins: new Set(), allowSameSite: false };
const wide: CsrfPolicy = { trustedOrigins: new Set(['https://admin.example.com']), allowSameSite: true };
const own = (): string => 'https://app.example.com';

function verdict(headers: Record<string, string>, policy: CsrfPolicy = strict, ownOrigin: () => string | undefined = own): 'pass' | 'refuse' {
  const result = csrfVerdict(headers, policy, ownOrigin);
  if (result === undefined) return 'pass';
  assert.ok(result instanceof JwtGuardError);
  assert.equal(result.code, 'csrf_refused');
  assert.equal(result.status, 403);
  return 'refuse';
}

describe('CSRF verdict (Go 1.25 CrossOriginProtection model)', () => {
  test('safe methods are GET, HEAD and OPTIONS (any case); everything else, and no method at all, is unsafe', () => {
    for (const method of ['GET', 'HEAD', 'OPTIONS', 'get']) assert.equal(isUnsafeMethod(method), false, method);
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'TRACE', 'PROPFIND', undefined]) assert.equal(isUnsafeMethod(method), true, String(method));
  });

  test('Sec-Fetch-Site: same-origin and none pass; same-site, cross-site and unknown values are refused', () => {
    assert.equal(verdict({ 'sec-fetch-site': 'same-origin' }), 'pass');
    assert.equal(verdict({ 'sec-fetch-site': 'none' }), 'pass');
    assert.equal(verdict({ 'sec-fetch-site': 'same-site', origin: 'https://blog.example.com' }), 'refuse');
    assert.equal(verdict({ 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }), 'refuse');
    assert.equal(verdict({ 'sec-fetch-site': 'Same-Origin' }), 'refuse', 'values are lower case; anything else is unknown');
    assert.equal(verdict({ 'sec-fetch-site': 'same-origin, cross-site' }), 'refuse');
  });

  test('Fetch Metadata wins over Origin: a cross-site request whose Origin claims to be our own is refused', () => {
    assert.equal(verdict({ 'sec-fetch-site': 'cross-site', origin: 'https://app.example.com' }), 'refuse');
  });

  test('trustedOrigins lets a cross-site or same-site request from that exact origin through; allowSameSite lets any same-site one through', () => {
    assert.equal(verdict({ 'sec-fetch-site': 'cross-site', origin: 'https://admin.example.com' }, wide), 'pass');
    assert.equal(verdict({ 'sec-fetch-site': 'cross-site', origin: 'https://admin.example.com:444' }, wide), 'refuse');
    assert.equal(verdict({ 'sec-fetch-site': 'cross-site', origin: 'http://admin.example.com' }, wide), 'refuse');
    assert.equal(verdict({ 'sec-fetch-site': 'cross-site' }, wide), 'refuse', 'no Origin, nothing to trust');
    assert.equal(verdict({ 'sec-fetch-site': 'same-site', origin: 'https://blog.example.com' }, wide), 'pass');
    assert.equal(verdict({ 'sec-fetch-site': 'same-site', origin: 'https://admin.example.com' }, { ...strict, trustedOrigins: wide.trustedOrigins }), 'pass');
  });

  test('without Fetch Metadata: Origin must be our own origin (scheme, host and port) or trusted; "null" never passes', () => {
    assert.equal(verdict({ origin: 'https://app.example.com' }), 'pass');
    assert.equal(verdict({ origin: 'http://app.example.com' }), 'refuse', 'another scheme is another origin');
    assert.equal(verdict({ origin: 'https://app.example.com:8443' }), 'refuse');
    assert.equal(verdict({ origin: 'https://evil.example' }), 'refuse');
    assert.equal(verdict({ origin: 'null' }), 'refuse');
    assert.equal(verdict({ origin: 'https://admin.example.com' }, wide), 'pass');
    assert.equal(verdict({ 'sec-fetch-site': '', origin: 'https://evil.example' }), 'refuse', 'an empty Sec-Fetch-Site is no Fetch Metadata');
    // The own origin is serialised before comparing: default port and case do not matter.
    assert.equal(verdict({ origin: 'https://app.example.com' }, strict, () => 'HTTPS://App.Example.com:443'), 'pass');
    assert.equal(verdict({ origin: 'https://app.example.com' }, strict, () => 'not a url'), 'refuse');
  });

  test('when the own origin is unknown, the Origin host is compared with Host (scheme not compared, as Go does)', () => {
    const unknown = (): undefined => undefined;
    assert.equal(verdict({ origin: 'https://app.example.com', host: 'app.example.com' }, strict, unknown), 'pass');
    assert.equal(verdict({ origin: 'http://app.example.com', host: 'App.Example.com' }, strict, unknown), 'pass');
    assert.equal(verdict({ origin: 'https://app.example.com:8443', host: 'app.example.com:8443' }, strict, unknown), 'pass');
    assert.equal(verdict({ origin: 'https://evil.example', host: 'app.example.com' }, strict, unknown), 'refuse');
    assert.equal(verdict({ origin: 'https://app.example.com' }, strict, unknown), 'refuse', 'no Host: nothing to compare with');
  });

  test('neither header: not a browser, the request passes; the own origin is then never asked for', () => {
    let asked = 0;
    const counting = (): string => {
      asked += 1;
      return 'https://app.example.com';
    };
    assert.equal(verdict({}, strict, counting), 'pass');
    assert.equal(verdict({ 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' }, strict, counting), 'refuse');
    assert.equal(asked, 0, 'Fetch Metadata alone decides: the fallback is not computed');
    assert.equal(verdict({ origin: 'https://app.example.com' }, strict, counting), 'pass');
    assert.equal(asked, 1);
  });

  test('Web Headers work the same as Node header objects', () => {
    assert.equal(csrfVerdict(new Headers({ 'Sec-Fetch-Site': 'cross-site' }), strict, own)?.code, 'csrf_refused');
    assert.equal(csrfVerdict(new Headers({ Origin: 'https://app.example.com' }), strict, own), undefined);
  });

  test('the refusal is JSON-ready: no challenge, not cacheable, varying on the headers that decided it', () => {
    const error = csrfVerdict({ 'sec-fetch-site': 'cross-site' }, strict, own) as JwtGuardError;
    assert.deepEqual(error.headers, { 'cache-control': 'no-store', vary: 'Sec-Fetch-Site, Origin' });
    assert.equal(error.expose, true);
    assert.match(error.message, /Cross-site request refused/);
  });
});
