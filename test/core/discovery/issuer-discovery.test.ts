// `issuerBaseURL`: OpenID Connect Discovery / RFC 8414 metadata read from a scripted server on
// 127.0.0.1 — where the document is looked for, the exact issuer check, every way reading it can
// fail (503 key_source_unavailable, never an unhandled rejection), the retry pause after a
// failure, refreshing it with the key set, and the allowlist it may supply (never HMAC or none).
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { SignJWT, customFetch, exportJWK, importJWK, type CryptoKey } from 'jose';
import { JwtGuardError, normalizeOptions, verifyToken, type JwtGuardOptions } from '../../../src/index.js';
import { DiscoveryFailure } from '../../../src/core/discovery/discovery-document.js';
import { verifySync } from '../../../src/core/verify/verify-token.js';
import { hmacToken } from '../../support/tokens.js';
import { FakeIssuer, noUnhandledRejections, rejectsWith, signingKey, warnings, type SigningKey } from './support/fake-issuer.js';

let rsa: SigningKey;
let rsa2: SigningKey;
let ec: SigningKey;
let ed: SigningKey;

before(async () => {
  [rsa, rsa2, ec, ed] = await Promise.all([signingKey('RS256', 'rsa-1'), signingKey('RS256', 'rsa-2'), signingKey('ES256', 'ec-1'), signingKey('EdDSA', 'ed-1')]);
});

const quiet = { onWarning: () => undefined };

/** Tokens of an issuer that is not served by a FakeIssuer. */
class FakeIssuerToken {
  constructor(readonly issuer: string) {}
  sign(key: SigningKey): Promise<string> {
    return new SignJWT({ sub: 'user-1', iss: this.issuer }).setProtectedHeader({ alg: key.alg, kid: key.kid }).setIssuedAt().setExpirationTime('5m').sign(key.privateKey);
  }
}

/** Starts a fake issuer for one test and closes it after. */
async function issuerFor(t: { after: (fn: () => Promise<void>) => void }, keys: SigningKey[], shape?: { path?: string; slash?: boolean }): Promise<FakeIssuer> {
  const issuer = await FakeIssuer.start(keys.map((k) => k.jwk), shape);
  t.after(() => issuer.close());
  return issuer;
}

describe('issuerBaseURL: options, checked at construction', () => {
  const refused = (options: Record<string, unknown>, pattern: RegExp) =>
    assert.throws(
      () => normalizeOptions({ onWarning: () => undefined, ...options } as JwtGuardOptions),
      (e: unknown) => e instanceof JwtGuardError && e.code === 'invalid_options' && pattern.test(e.message),
      `${JSON.stringify(options)} should be refused with ${pattern}`,
    );

  test('not a URL string, not https off this machine, a discovery document URL, query, fragment, credentials → invalid_options', () => {
    refused({ issuerBaseURL: '' }, /issuerBaseURL.*string/);
    refused({ issuerBaseURL: 42 }, /issuerBaseURL.*string/);
    refused({ issuerBaseURL: new URL('https://idp.example.test/') }, /issuerBaseURL.*string/);
    refused({ issuerBaseURL: 'idp.example.test' }, /absolute URL/);
    refused({ issuerBaseURL: 'http://idp.example.test' }, /https URL .*localhost/);
    refused({ issuerBaseURL: 'ftp://idp.example.test' }, /https URL/);
    refused({ issuerBaseURL: 'https://idp.example.test/.well-known/openid-configuration' }, /not its discovery document: drop "\/\.well-known\/openid-configuration"/);
    refused({ issuerBaseURL: 'https://idp.example.test/t/.well-known/oauth-authorization-server' }, /drop/);
    refused({ issuerBaseURL: 'https://idp.example.test/?tenant=a' }, /no query or fragment/);
    refused({ issuerBaseURL: 'https://idp.example.test/#x' }, /no query or fragment/);
    refused({ issuerBaseURL: 'https://user:pw@idp.example.test/' }, /credentials/);
  });

  test('combinations: with jwks, with getKey, a list or empty issuer, bad jwksOptions, other keys without algorithms → invalid_options', () => {
    const base = { issuerBaseURL: 'https://idp.example.test' };
    refused({ ...base, jwks: 'https://idp.example.test/jwks' }, /`issuerBaseURL` and `jwks`.*Drop `jwks`/);
    refused({ ...base, getKey: () => undefined }, /`issuerBaseURL` and `getKey`/);
    refused({ ...base, issuer: ['https://a.test', 'https://b.test'] }, /`issuer` must be one string/);
    refused({ ...base, issuer: '' }, /`issuer` must be one string/);
    refused({ ...base, jwksOptions: { timeoutDuration: -1 } }, /jwksOptions/);
    refused({ ...base, jwksOptions: { cacheMaxAge: Number.NaN } }, /jwksOptions/);
    refused({ ...base, secret: 'a-64-byte-test-secret-0123456789abcdef0123456789abcdef0123456789' }, /explicit allowlist/);
  });

  test('plain http is accepted for localhost, 127.0.0.1 and [::1]; https anywhere', () => {
    for (const issuerBaseURL of ['http://localhost:8080', 'http://127.0.0.1:3000/realms/dev', 'http://[::1]:9000/', 'https://tenant.eu.auth0.com/']) {
      assert.doesNotThrow(() => normalizeOptions({ issuerBaseURL, ...quiet }), issuerBaseURL);
    }
  });

  test('without algorithms the allowlist ceiling is every RS/PS/ES/EdDSA algorithm and no HMAC; the issuer becomes the iss check', () => {
    const config = normalizeOptions({ issuerBaseURL: 'https://idp.example.test/realms/a', ...quiet });
    assert.deepEqual([...config.algorithms], ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA']);
    assert.deepEqual(config.claims.jose.issuer, ['https://idp.example.test/realms/a']);
    assert.equal(config.cache, undefined, 'keys that can be withdrawn at run time: no verified-token cache');
    const pinned = normalizeOptions({ issuerBaseURL: 'https://idp.example.test/', issuer: 'https://idp.example.test', algorithms: ['ES256'], ...quiet });
    assert.deepEqual([...pinned.algorithms], ['ES256']);
    assert.deepEqual(pinned.claims.jose.issuer, ['https://idp.example.test'], '`issuer` wins for the iss check');
  });

  test('construction fetches nothing', async (t) => {
    const issuer = await issuerFor(t, [rsa]);
    normalizeOptions({ issuerBaseURL: issuer.issuer, ...quiet });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(issuer.requests, []);
  });
});

describe('issuerBaseURL: where the metadata is read', () => {
  test('OpenID Connect: <issuer>/.well-known/openid-configuration, then the jwks_uri it names; tokens verify', async (t) => {
    noUnhandledRejections(t);
    const issuer = await issuerFor(t, [rsa, ec]);
    const options: JwtGuardOptions = { issuerBaseURL: issuer.issuer, algorithms: ['RS256', 'ES256'], ...quiet };
    assert.equal((await verifyToken(await issuer.token(rsa), options)).sub, 'user-1');
    assert.equal((await verifyToken(await issuer.token(ec, { sub: 'user-2' }), options)).sub, 'user-2');
    assert.deepEqual(issuer.requests, ['/.well-known/openid-configuration', '/keys']);
  });

  test('an issuer with a path and a trailing slash: the slash is dropped before the well-known suffix (OIDC Discovery §4.1)', async (t) => {
    const issuer = await issuerFor(t, [rsa], { path: '/realms/main', slash: true });
    const options: JwtGuardOptions = { issuerBaseURL: issuer.issuer, algorithms: ['RS256'], ...quiet };
    assert.ok(issuer.issuer.endsWith('/realms/main/'));
    await verifyToken(await issuer.token(rsa), options);
    assert.deepEqual(issuer.requests, ['/realms/main/.well-known/openid-configuration', '/keys']);
  });

  test('an issuer at the origin with a trailing slash (Auth0 style): one slash, and the metadata must keep it', async (t) => {
    const issuer = await issuerFor(t, [rsa], { slash: true });
    await verifyToken(await issuer.token(rsa), { issuerBaseURL: issuer.issuer, algorithms: ['RS256'], ...quiet });
    assert.equal(issuer.requests[0], '/.well-known/openid-configuration');
  });

  test('RFC 8414 fallback: when the OpenID document is missing, /.well-known/oauth-authorization-server<path> is read', async (t) => {
    noUnhandledRejections(t);
    const issuer = await issuerFor(t, [rsa], { path: '/tenant-a' });
    issuer.openid = 'notFound';
    issuer.oauth = 'ok';
    const options: JwtGuardOptions = { issuerBaseURL: issuer.issuer, algorithms: ['RS256'], ...quiet };
    assert.equal((await verifyToken(await issuer.token(rsa), options)).sub, 'user-1');
    assert.deepEqual(issuer.requests, ['/tenant-a/.well-known/openid-configuration', '/.well-known/oauth-authorization-server/tenant-a', '/keys']);
  });

  for (const mode of ['status500', 'html', 'array', 'redirect'] as const) {
    test(`the RFC 8414 document is also tried when the OpenID location answers ${mode}`, async (t) => {
      const issuer = await issuerFor(t, [rsa]);
      issuer.openid = mode;
      issuer.oauth = 'ok';
      await verifyToken(await issuer.token(rsa), { issuerBaseURL: issuer.issuer, algorithms: ['RS256'], ...quiet });
      assert.equal(issuer.count('/.well-known/oauth-authorization-server'), 1);
    });
  }
});

describe('issuerBaseURL: the issuer must be exactly the configured one', () => {
  test('a document naming another issuer → 503 with a warning naming both; the RFC 8414 document is not tried', async (t) => {
    noUnhandledRejections(t);
    const issuer = await issuerFor(t, [rsa]);
    issuer.overrides = { issuer: 'https://attacker.example.test' };
    issuer.oauth = 'ok';
    const { messages, onWarning } = warnings();
    const error = await rejectsWith(verifyToken(await issuer.token(rsa), { issuerBaseURL: issuer.issuer, algorithms: ['RS256'], onWarning }), 'key_source_unavailable');
    assert.equal(error.status, 503);
    assert.ok(error.cause instanceof DiscoveryFailure);
    assert.match(error.cause.message, /names issuer "https:\/\/attacker\.example\.test", but jwtguard expects "http:\/\/127\.0\.0\.1:\d+"/);
    assert.equal(messages.length, 1);
    assert.match(messages[0] ?? '', /attacker\.example\.test.*set `issuerBaseURL` \(or `issuer`\) to "https:\/\/attacker\.example\.test"/);
    assert.deepEqual(issuer.requests, ['/.well-known/openid-configuration'], 'neither the fallback nor the JWKS is read');
  });

  test('a trailing slash is a different issuer', async (t) => {
    const issuer = await issuerFor(t, [rsa], { slash: true });
    await rejectsWith(verifyToken(await issuer.token(rsa), { issuerBaseURL: issuer.issuer.slice(0, -1), algorithms: ['RS256'], ...quiet }), 'key_source_unavailable');
  });

  test('`issuer` set: the document must name that one, and tokens are checked against it', async (t) => {
    const issuer = await issuerFor(t, [rsa], { slash: true });
    const base = issuer.issuer.slice(0, -1); // "https://tenant.auth0.com" written without its slash
    const options: JwtGuardOptions = { issuerBaseURL: base, issuer: issuer.issuer, algorithms: ['RS256'], ...quiet };
    assert.equal((await verifyToken(await issuer.token(rsa), options)).iss, issuer.issuer);
    const other = await issuerFor(t, [rsa]);
    await rejectsWith(verifyToken(await other.token(rsa), { issuerBaseURL: other.issuer, issuer: `${other.issuer}/x`, algorithms: ['RS256'], ...quiet }), 'key_source_unavailable');
  });

  test('a token signed with the issuer’s key but naming another iss → claim_invalid (iss)', async (t) => {
    const issuer = await issuerFor(t, [rsa]);
    const error = await rejectsWith(verifyToken(await issuer.token(rsa, { iss: 'https://other.example.test' }), { issuerBaseURL: issuer.issuer, algorithms: ['RS256'], ...quiet }), 'claim_invalid');
    assert.equal(error.claim, 'iss');
    const noIss = await issuer.token(rsa, { iss: undefined });
    assert.equal((await rejectsWith(verifyToken(noIss, { issuerBaseURL: issuer.issuer, algorithms: ['RS256'], ...quiet }), 'claim_invalid')).claim, 'iss');
  });
});

describe('issuerBaseURL: failures → 503 key_source_unavailable, never an unhandled rejection', () => {
  const documentFailures: [string, Partial<Pick<FakeIssuer, 'openid' | 'oauth' | 'jwksMode'>>, Record<string, unknown>?, RegExp?][] = [
    ['both documents 404', { openid: 'notFound', oauth: 'notFound' }, undefined, /HTTP 404.*HTTP 404/],
    ['both documents 500', { openid: 'status500', oauth: 'status500' }, undefined, /HTTP 500.*HTTP 500/],
    ['a redirect, then 404', { openid: 'redirect', oauth: 'notFound' }, undefined, /HTTP 302.*HTTP 404/],
    ['HTML instead of JSON', { openid: 'html', oauth: 'html' }, undefined, /not JSON/],
    ['a JSON array', { openid: 'array', oauth: 'notFound' }, undefined, /not an object/],
    ['a body over 1 MiB (a valid document after 4 MiB of whitespace)', { openid: 'huge', oauth: 'notFound' }, undefined, /more than a discovery document's 1048576 bytes/],
    ['no jwks_uri', {}, { jwks_uri: undefined }, /needs string `issuer` and `jwks_uri`/],
    ['no issuer', {}, { issuer: undefined }, /needs string `issuer` and `jwks_uri`/],
    ['a jwks_uri that is not a URL', {}, { jwks_uri: 'keys.json' }, /not an absolute URL/],
    ['a plain-http jwks_uri off this machine', {}, { jwks_uri: 'http://keys.example.test/jwks' }, /`jwks_uri` that is not https \(http:\/\/keys\.example\.test\)/],
    ['the JWKS answering 500', { jwksMode: 'status500' }],
  ];
  for (const [name, modes, overrides, reason] of documentFailures) {
    test(name, async (t) => {
      noUnhandledRejections(t);
      const issuer = await issuerFor(t, [rsa]);
      Object.assign(issuer, modes);
      if (overrides !== undefined) issuer.overrides = overrides;
      const error = await rejectsWith(verifyToken(await issuer.token(rsa), { issuerBaseURL: issuer.issuer, algorithms: ['RS256'], jwksOptions: { timeoutDuration: 2000 }, ...quiet }), 'key_source_unavailable');
      assert.equal(error.status, 503);
      assert.equal(error.expose, false);
      assert.ok(error.cause !== undefined, 'the reason is kept as cause');
      if (reason !== undefined) {
        assert.ok(error.cause instanceof DiscoveryFailure, String(error.cause));
        assert.match(error.cause.message, reason);
      }
    });
  }

  test('an https issuer (through jwksOptions[customFetch], which discovery uses as jose does): a plain-http jwks_uri is refused even on localhost', async (t) => {
    noUnhandledRejections(t);
    const served: string[] = [];
    let jwksUri = 'http://localhost:8080/keys';
    const fakeFetch = async (url: string): Promise<Response> => {
      served.push(url);
      if (url === 'https://idp.example.test/.well-known/openid-configuration') return Response.json({ issuer: 'https://idp.example.test', jwks_uri: jwksUri });
      if (url === 'https://idp.example.test/keys') return Response.json({ keys: [rsa.jwk] });
      return new Response('not found', { status: 404 });
    };
    const token = await new FakeIssuerToken('https://idp.example.test').sign(rsa);
    const options = (): JwtGuardOptions => ({ issuerBaseURL: 'https://idp.example.test', algorithms: ['RS256'], jwksOptions: { [customFetch]: fakeFetch } as never, ...quiet });
    const error = await rejectsWith(verifyToken(token, options()), 'key_source_unavailable');
    assert.match((error.cause as Error).message, /not https \(http:\/\/localhost:8080\)/);
    jwksUri = 'https://idp.example.test/keys';
    assert.equal((await verifyToken(token, options())).iss, 'https://idp.example.test');
    assert.deepEqual(served, ['https://idp.example.test/.well-known/openid-configuration', 'https://idp.example.test/.well-known/openid-configuration', 'https://idp.example.test/keys']);
  });

  for (const mode of ['hang', 'hangBody'] as const) {
    // The 30 s bound is not a measurement: it only fails an implementation that ignores timeoutDuration (200 ms) and waits for the server.
    test(`a document ${mode === 'hang' ? 'never answering' : 'stopping mid-body'}: given up after timeoutDuration, without trying the fallback`, { timeout: 30_000 }, async (t) => {
      noUnhandledRejections(t);
      const issuer = await issuerFor(t, [rsa]);
      issuer.openid = mode;
      issuer.oauth = 'ok';
      const error = await rejectsWith(verifyToken(await issuer.token(rsa), { issuerBaseURL: issuer.issuer, algorithms: ['RS256'], jwksOptions: { timeoutDuration: 200 }, ...quiet }), 'key_source_unavailable');
      assert.match((error.cause as Error).message, /within 200 ms/);
      assert.equal(issuer.count(issuer.oauthPath), 0);
    });
  }

  test('connection refused', async (t) => {
    noUnhandledRejections(t);
    const issuer = await issuerFor(t, [rsa]);
    await issuer.close();
    const error = await rejectsWith(verifyToken(await issuer.token(rsa), { issuerBaseURL: issuer.issuer, algorithms: ['RS256'], ...quiet }), 'key_source_unavailable');
    assert.match((error.cause as Error).message, /could not be reached/);
  });

  test('concurrent first requests share one read of the document and of the key set', async (t) => {
    noUnhandledRejections(t);
    const issuer = await issuerFor(t, [rsa]);
    const options: JwtGuardOptions = { issuerBaseURL: issuer.issuer, algorithms: ['RS256'], ...quiet };
    const tokens = await Promise.all(Array.from({ length: 20 }, (_, i) => issuer.token(rsa, { sub: `u${i}` })));
    const payloads = await Promise.all(tokens.map((token) => verifyToken(token, options)));
    assert.deepEqual(payloads.map((p) => p.sub), tokens.map((_, i) => `u${i}`));
    assert.deepEqual(issuer.requests, ['/.well-known/openid-configuration', '/keys']);
  });

  test('concurrent requests during an outage all get 503 from one shared attempt', { timeout: 30_000 }, async (t) => {
    noUnhandledRejections(t);
    const issuer = await issuerFor(t, [rsa]);
    issuer.openid = 'hang';
    const options: JwtGuardOptions = { issuerBaseURL: issuer.issuer, algorithms: ['RS256'], jwksOptions: { timeoutDuration: 200 }, ...quiet };
    const tokens = await Promise.all(Array.from({ length: 10 }, (_, i) => issuer.token(rsa, { i })));
    await Promise.all(tokens.map((token) => rejectsWith(verifyToken(token, options), 'key_source_unavailable')));
    assert.equal(issuer.count('/.well-known/openid-configuration'), 1);
  });
});

describe('issuerBaseURL: after a failure', () => {
  test('retried no sooner than a second later (at most cooldownDuration): requests meanwhile get 503 at once', async (t) => {
    noUnhandledRejections(t);
    const issuer = await issuerFor(t, [rsa]);
    issuer.openid = 'status500';
    issuer.oauth = 'status500';
    const options: JwtGuardOptions = { issuerBaseURL: issuer.issuer, algorithms: ['RS256'], ...quiet };
    const token = await issuer.token(rsa);
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
    await rejectsWith(verifyToken(token, options), 'key_source_unavailable');
    assert.equal(issuer.requests.length, 2);
    issuer.openid = 'ok';
    t.mock.timers.tick(999);
    await rejectsWith(verifyToken(token, options), 'key_source_unavailable');
    assert.equal(issuer.requests.length, 2, 'no new attempt within the pause');
    t.mock.timers.tick(1);
    assert.equal((await verifyToken(token, options)).sub, 'user-1');
  });

  test('with cooldownDuration 0 the next request retries at once', async (t) => {
    noUnhandledRejections(t);
    const issuer = await issuerFor(t, [rsa]);
    await issuer.close();
    const options: JwtGuardOptions = { issuerBaseURL: issuer.issuer, algorithms: ['RS256'], jwksOptions: { cooldownDuration: 0 }, ...quiet };
    const token = await issuer.token(rsa);
    await rejectsWith(verifyToken(token, options), 'key_source_unavailable');
    await rejectsWith(verifyToken(token, options), 'key_source_unavailable');
    await issuer.listen();
    assert.equal((await verifyToken(token, options)).sub, 'user-1');
  });

  test('one warning per outage, not per request; a new outage after a success warns again', async (t) => {
    noUnhandledRejections(t);
    const issuer = await issuerFor(t, [rsa]);
    const { messages, onWarning } = warnings();
    const options: JwtGuardOptions = { issuerBaseURL: issuer.issuer, algorithms: ['RS256'], jwksOptions: { cooldownDuration: 0, cacheMaxAge: 0 }, onWarning };
    const token = await issuer.token(rsa);
    issuer.openid = 'status500';
    for (let i = 0; i < 3; i++) await rejectsWith(verifyToken(token, options), 'key_source_unavailable');
    assert.equal(messages.length, 1);
    assert.match(messages[0] ?? '', /issuer discovery for http:\/\/127\.0\.0\.1:\d+ failed; requests get 503 key_source_unavailable until it succeeds: .*HTTP 500/);
    issuer.openid = 'ok';
    await verifyToken(token, options);
    issuer.openid = 'html';
    await rejectsWith(verifyToken(token, options), 'key_source_unavailable');
    assert.equal(messages.length, 2);
  });
});

describe('issuerBaseURL: the metadata is read again with the key set', () => {
  test('after cacheMaxAge, the document and the JWKS are both read again', async (t) => {
    noUnhandledRejections(t);
    const issuer = await issuerFor(t, [rsa]);
    const options: JwtGuardOptions = { issuerBaseURL: issuer.issuer, algorithms: ['RS256'], jwksOptions: { cacheMaxAge: 60_000 }, ...quiet };
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
    await verifyToken(await issuer.token(rsa), options);
    await verifyToken(await issuer.token(rsa), options);
    assert.deepEqual(issuer.requests, ['/.well-known/openid-configuration', '/keys']);
    t.mock.timers.tick(60_000);
    await verifyToken(await issuer.token(rsa), options);
    assert.deepEqual(issuer.requests, ['/.well-known/openid-configuration', '/keys', '/.well-known/openid-configuration', '/keys']);
  });

  test('a stale document that cannot be read again → 503 (as a stale JWKS), and recovery once it can', async (t) => {
    noUnhandledRejections(t);
    const issuer = await issuerFor(t, [rsa]);
    const options: JwtGuardOptions = { issuerBaseURL: issuer.issuer, algorithms: ['RS256'], jwksOptions: { cacheMaxAge: 0, cooldownDuration: 0 }, ...quiet };
    await verifyToken(await issuer.token(rsa), options);
    issuer.openid = 'status500';
    await rejectsWith(verifyToken(await issuer.token(rsa), options), 'key_source_unavailable');
    issuer.openid = 'ok';
    assert.equal((await verifyToken(await issuer.token(rsa, { sub: 'back' }), options)).sub, 'back');
  });

  test('an unknown kid: nothing is read within cooldownDuration (key_not_found); after it, the document and the key set are read again together', async (t) => {
    noUnhandledRejections(t);
    const issuer = await issuerFor(t, [rsa]);
    const options: JwtGuardOptions = { issuerBaseURL: issuer.issuer, algorithms: ['RS256'], jwksOptions: { cooldownDuration: 30_000 }, ...quiet };
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
    await verifyToken(await issuer.token(rsa), options);
    issuer.keys = [rsa.jwk, rsa2.jwk]; // the issuer publishes its next key
    const rotated = await issuer.token(rsa2, { sub: 'rotated' });
    await rejectsWith(verifyToken(rotated, options), 'key_not_found');
    assert.deepEqual(issuer.requests, ['/.well-known/openid-configuration', '/keys']);
    t.mock.timers.tick(30_000);
    assert.equal((await verifyToken(rotated, options)).sub, 'rotated');
    assert.deepEqual(issuer.requests, ['/.well-known/openid-configuration', '/keys', '/.well-known/openid-configuration', '/keys']);
  });

  test('keys moved to another jwks_uri (the old one now 404): found through the document read for the unknown kid', async (t) => {
    noUnhandledRejections(t);
    const issuer = await issuerFor(t, [rsa]);
    const options: JwtGuardOptions = { issuerBaseURL: issuer.issuer, algorithms: ['RS256'], jwksOptions: { cooldownDuration: 30_000 }, ...quiet };
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
    const old = await issuer.token(rsa, { sub: 'old' });
    await verifyToken(old, options);
    issuer.jwksPath = '/keys-v2';
    issuer.keys = [rsa2.jwk];
    t.mock.timers.tick(30_000);
    assert.equal((await verifyToken(await issuer.token(rsa2, { sub: 'moved' }), options)).sub, 'moved');
    assert.deepEqual(issuer.requests, ['/.well-known/openid-configuration', '/keys', '/.well-known/openid-configuration', '/keys-v2']);
    await rejectsWith(verifyToken(old, options), 'key_not_found'); // withdrawn with the old set
  });

  test('a document that names another issuer on a later read stops verification (503)', async (t) => {
    noUnhandledRejections(t);
    const issuer = await issuerFor(t, [rsa]);
    const options: JwtGuardOptions = { issuerBaseURL: issuer.issuer, algorithms: ['RS256'], jwksOptions: { cacheMaxAge: 0, cooldownDuration: 0 }, ...quiet };
    await verifyToken(await issuer.token(rsa), options);
    issuer.overrides = { issuer: 'https://elsewhere.example.test' };
    await rejectsWith(verifyToken(await issuer.token(rsa), options), 'key_source_unavailable');
  });
});

describe('issuerBaseURL without algorithms: the issuer’s algorithms, never HMAC or none', () => {
  test('advertised id_token_signing_alg_values_supported, restricted to RS/PS/ES/EdDSA: HS256 and none listed by the provider are still refused', async (t) => {
    noUnhandledRejections(t);
    const issuer = await issuerFor(t, [rsa, ec]);
    issuer.overrides = { id_token_signing_alg_values_supported: ['HS256', 'RS256', 'none'] };
    const { messages, onWarning } = warnings();
    const options: JwtGuardOptions = { issuerBaseURL: issuer.issuer, onWarning };
    assert.equal((await verifyToken(await issuer.token(rsa), options)).sub, 'user-1');
    await rejectsWith(verifyToken(await issuer.token(ec), options), 'algorithm_not_allowed');
    await rejectsWith(verifyToken(await hmacToken({ iss: issuer.issuer, sub: 'x' }), options), 'algorithm_not_allowed');
    assert.deepEqual(messages, [
      `jwtguard: \`algorithms\` is not set, so tokens from ${issuer.issuer} are accepted with RS256, from its discovery document (id_token_signing_alg_values_supported); HMAC and none never are. Set \`algorithms\` to pin them.`,
    ]);
  });

  test('no advertised list (RFC 8414 metadata): the keys’ algorithms — a JWK’s alg, else RS256 for RSA, ES256 for P-256, EdDSA for Ed25519', async (t) => {
    noUnhandledRejections(t);
    const rsaNoAlg = await signingKey('RS256', 'rsa-plain', { withAlg: false });
    const psWithAlg = await signingKey('PS256', 'ps-1');
    const ecNoAlg = await signingKey('ES256', 'ec-plain', { withAlg: false });
    const edNoAlg = await signingKey('EdDSA', 'ed-plain', { withAlg: false });
    const issuer = await issuerFor(t, [rsaNoAlg, psWithAlg, ecNoAlg, edNoAlg]);
    issuer.openid = 'notFound';
    issuer.oauth = 'ok';
    const options: JwtGuardOptions = { issuerBaseURL: issuer.issuer, ...quiet };
    for (const key of [rsaNoAlg, psWithAlg, ecNoAlg, edNoAlg]) assert.equal((await verifyToken(await issuer.token(key), options)).sub, 'user-1', key.kid);
    // PS256 with the RSA key that has no alg: jose would accept it, the default allowlist does not.
    const samePairForPss = (await importJWK(await exportJWK(rsaNoAlg.privateKey), 'PS256')) as CryptoKey;
    await rejectsWith(verifyToken(await issuer.token({ ...rsaNoAlg, alg: 'PS256', privateKey: samePairForPss }), options), 'algorithm_not_allowed');
  });

  test('an explicit algorithms wins over what the issuer advertises', async (t) => {
    const issuer = await issuerFor(t, [rsa, ec]);
    issuer.overrides = { id_token_signing_alg_values_supported: ['RS256'] };
    const options: JwtGuardOptions = { issuerBaseURL: issuer.issuer, algorithms: ['ES256'], ...quiet };
    assert.equal((await verifyToken(await issuer.token(ec), options)).sub, 'user-1');
    await rejectsWith(verifyToken(await issuer.token(rsa), options), 'algorithm_not_allowed');
  });

  test('a narrower list on a later read applies at once, also to keys the fast path had learned', async (t) => {
    noUnhandledRejections(t);
    const issuer = await issuerFor(t, [rsa, ec]);
    issuer.overrides = { id_token_signing_alg_values_supported: ['RS256', 'ES256'] };
    const options: JwtGuardOptions = { issuerBaseURL: issuer.issuer, jwksOptions: { cacheMaxAge: 60_000 }, ...quiet };
    const config = normalizeOptions(options);
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
    await verifyToken(await issuer.token(ec), options);
    await verifyToken(await issuer.token(ec), options);
    const learned = await issuer.token(ec, { sub: 'sync' });
    assert.equal((verifySync(learned, config) as { sub?: string } | undefined)?.sub, 'sync', 'verified synchronously once learned');
    issuer.overrides = { id_token_signing_alg_values_supported: ['RS256'] };
    t.mock.timers.tick(60_000);
    assert.equal(verifySync(await issuer.token(ec), config), undefined, 'stale metadata: the fast path stands back');
    await rejectsWith(verifyToken(await issuer.token(ec), options), 'algorithm_not_allowed');
    assert.equal(verifySync(await issuer.token(ec), config), undefined, 'the learned ES256 key is forgotten');
    assert.equal((await verifyToken(await issuer.token(rsa), options)).sub, 'user-1');
  });
});

describe('issuerBaseURL and the asymmetric fast path', () => {
  test('metadata read again for an unknown kid while the key set stays (its re-read failed): keys learned under the old metadata are forgotten', async (t) => {
    noUnhandledRejections(t);
    const issuer = await issuerFor(t, [rsa, ec]);
    issuer.overrides = { id_token_signing_alg_values_supported: ['RS256', 'ES256'] };
    const options: JwtGuardOptions = { issuerBaseURL: issuer.issuer, jwksOptions: { cooldownDuration: 30_000, cacheMaxAge: 600_000 }, ...quiet };
    const config = normalizeOptions(options);
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
    for (let i = 0; i < 2; i++) await verifyToken(await issuer.token(ec), options);
    assert.ok(!(verifySync(await issuer.token(ec), config) instanceof JwtGuardError) && verifySync(await issuer.token(ec), config) !== undefined, 'learned');
    // The issuer stops allowing ES256; its key set endpoint fails, so jose keeps the set it has.
    issuer.overrides = { id_token_signing_alg_values_supported: ['RS256'] };
    issuer.jwksMode = 'status500';
    t.mock.timers.tick(30_000);
    await rejectsWith(verifyToken(await issuer.token(rsa2), options), 'key_source_unavailable'); // unknown kid: metadata read, set re-read fails
    assert.equal(issuer.count('/.well-known/openid-configuration'), 2);
    assert.equal(verifySync(await issuer.token(ec), config), undefined, 'the learned ES256 key is not used any more');
    await rejectsWith(verifyToken(await issuer.token(ec), options), 'algorithm_not_allowed');
  });

  test('the fast path stands back once the metadata is older than cacheMaxAge, even while the key set is not', async (t) => {
    const issuer = await issuerFor(t, [rsa, ec]);
    const options: JwtGuardOptions = { issuerBaseURL: issuer.issuer, algorithms: ['RS256', 'ES256', 'PS256'], jwksOptions: { cooldownDuration: 30_000, cacheMaxAge: 60_000 }, ...quiet };
    const config = normalizeOptions(options);
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
    for (let i = 0; i < 2; i++) await verifyToken(await issuer.token(ec), options);
    t.mock.timers.tick(40_000);
    // A PS256 token without a kid matches no key: jose reads the set again (40 s after the metadata).
    const psKey = (await importJWK(await exportJWK(rsa.privateKey), 'PS256')) as CryptoKey;
    await rejectsWith(verifyToken(await issuer.token({ ...rsa, alg: 'PS256', privateKey: psKey }, {}, { kid: undefined }), options), 'key_not_found');
    assert.deepEqual(issuer.requests, ['/.well-known/openid-configuration', '/keys', '/keys']);
    await verifyToken(await issuer.token(ec), options); // the replaced set made the fast path forget: jose again, and learned again
    assert.ok(verifySync(await issuer.token(ec), config) !== undefined, 'learned from the re-read set');
    t.mock.timers.tick(20_000); // metadata 60 s old (stale), key set 20 s old (fresh)
    assert.equal(verifySync(await issuer.token(ec), config), undefined);
  });

  test('RS256, ES256 and EdDSA tokens are verified synchronously once jose has verified one of each', async (t) => {
    const issuer = await issuerFor(t, [rsa, ec, ed]);
    const options: JwtGuardOptions = { issuerBaseURL: issuer.issuer, algorithms: ['RS256', 'ES256', 'EdDSA'], ...quiet };
    const config = normalizeOptions(options);
    for (const key of [rsa, ec, ed]) {
      const first = await issuer.token(key);
      assert.equal(verifySync(first, config), undefined, `${key.alg}: not known yet`);
      await verifyToken(first, options);
      await verifyToken(await issuer.token(key), options); // the first read applied the metadata and the set: learned from here
      const payload = verifySync(await issuer.token(key, { sub: `sync-${key.alg}` }), config);
      assert.ok(!(payload instanceof JwtGuardError) && payload?.sub === `sync-${key.alg}`, `${key.alg}: synchronous`);
      const forged = (await issuer.token(key)).replace(/.$/, (c) => (c === 'A' ? 'Q' : 'A'));
      assert.ok(verifySync(forged, config) instanceof JwtGuardError || (await verifyToken(forged, options).then(() => false, () => true)));
    }
  });

  test('a jwksCache passed in jwksOptions is still written (jose’s hook, observed by jwtguard)', async (t) => {
    const { jwksCache } = await import('jose');
    const issuer = await issuerFor(t, [rsa]);
    const cache: { uat?: number; jwks?: unknown } = {};
    await verifyToken(await issuer.token(rsa), { issuerBaseURL: issuer.issuer, algorithms: ['RS256'], jwksOptions: { [jwksCache]: cache } as never, ...quiet });
    assert.equal(typeof cache.uat, 'number');
    assert.deepEqual((cache.jwks as { keys: unknown[] }).keys.length, 1);
  });
});
