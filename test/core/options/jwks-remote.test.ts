// A remote `jwks` URL against a real local HTTP server (node:http on 127.0.0.1): keys found by kid,
// rotation after the cooldown, unknown kid → key_not_found (401), and every kind of outage →
// key_source_unavailable (503) without unhandled rejections. jose's createRemoteJWKSet fetches
// plain http: URLs as well, so no custom fetch is needed.
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { JwtGuardError, normalizeOptions, verifyToken, type JwtGuardOptions } from '../../../src/index.js';

type Mode = 'ok' | 'status500' | 'notFound' | 'redirect' | 'garbage' | 'notJwks' | 'hang' | 'hangBody';

/** A JWKS endpoint whose behaviour each test switches at will. */
class JwksServer {
  mode: Mode = 'ok';
  keys: JWK[];
  requests = 0;
  lastHeaders: IncomingHttpHeaders = {};
  readonly #server: Server;
  #port = 0;

  private constructor(keys: JWK[]) {
    this.keys = keys;
    this.#server = createServer((req, res) => {
      this.requests++;
      this.lastHeaders = req.headers;
      switch (this.mode) {
        case 'ok':
          res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify({ keys: this.keys }));
          return;
        case 'status500':
          res.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: this.keys }));
          return;
        case 'notFound':
          res.writeHead(404).end('not found');
          return;
        case 'redirect':
          res.writeHead(302, { location: '/elsewhere' }).end();
          return;
        case 'garbage':
          res.writeHead(200, { 'content-type': 'text/html' }).end('<html>502 Bad Gateway</html>');
          return;
        case 'notJwks':
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: 'none', hello: 'world' }));
          return;
        case 'hang':
          return; // never answers
        case 'hangBody':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write('{"keys": ['); // and never finishes
          return;
      }
    });
  }

  static async start(keys: JWK[]): Promise<JwksServer> {
    const server = new JwksServer(keys);
    await server.listen();
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}/.well-known/jwks.json`;
  }

  /** Listens on the same port as before (a fresh one the first time). */
  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#port, '127.0.0.1', () => {
        this.#port = (this.#server.address() as AddressInfo).port;
        this.#server.off('error', reject);
        resolve();
      });
    });
  }

  /** Stops listening and drops every open connection (hanging requests included). */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.#server.listening) return resolve();
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}

interface SigningKey {
  readonly alg: 'RS256' | 'ES256';
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
}

async function signingKey(alg: 'RS256' | 'ES256', kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

function tokenFor(key: SigningKey, payload: Record<string, unknown> = { sub: 'user-1' }, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, ...header }).setIssuedAt().setExpirationTime('5m').sign(key.privateKey);
}

/** Collects unhandled rejections during the test; asserts there were none when it ends. */
function noUnhandledRejections(t: TestContext): void {
  const seen: unknown[] = [];
  const listener = (reason: unknown) => seen.push(reason);
  process.on('unhandledRejection', listener);
  t.after(async () => {
    await sleep(50); // let stray promise chains settle
    process.off('unhandledRejection', listener);
    assert.deepEqual(seen, [], 'unhandled rejections');
  });
}

async function assertCode(promise: Promise<unknown>, code: 'key_not_found' | 'key_source_unavailable' | 'signature_invalid', status: number): Promise<JwtGuardError> {
  let caught: unknown;
  await assert.rejects(promise, (error: unknown) => {
    caught = error;
    return true;
  });
  assert.ok(caught instanceof JwtGuardError, `non-library error: ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.equal(caught.status, status);
  return caught;
}

const unavailable = (promise: Promise<unknown>) => assertCode(promise, 'key_source_unavailable', 503);
const notFound = (promise: Promise<unknown>) => assertCode(promise, 'key_not_found', 401);

let rsa1: SigningKey;
let rsa2: SigningKey;
let ec1: SigningKey;

before(async () => {
  [rsa1, rsa2, ec1] = await Promise.all([signingKey('RS256', 'rsa-1'), signingKey('RS256', 'rsa-2'), signingKey('ES256', 'ec-1')]);
});

describe('remote jwks: keys by kid', () => {
  let server: JwksServer;
  before(async () => {
    server = await JwksServer.start([rsa1.jwk, ec1.jwk]);
  });
  after(() => server.close());

  test('RS256 and ES256 tokens with a known kid verify (over plain http on 127.0.0.1)', async (t) => {
    noUnhandledRejections(t);
    const options: JwtGuardOptions = { jwks: server.url, algorithms: ['RS256', 'ES256'] };
    assert.equal((await verifyToken(await tokenFor(rsa1), options)).sub, 'user-1');
    assert.equal((await verifyToken(await tokenFor(ec1, { sub: 'user-2' }), options)).sub, 'user-2');
    assert.equal(server.lastHeaders.accept, 'application/json, application/jwk-set+json');
  });

  test('a URL object works too, and jwksOptions.headers reach the endpoint', async (t) => {
    noUnhandledRejections(t);
    const options: JwtGuardOptions = { jwks: new URL(server.url), algorithms: ['RS256'], jwksOptions: { headers: { 'x-api-key': 'k-123' } } };
    assert.equal((await verifyToken(await tokenFor(rsa1), options)).sub, 'user-1');
    assert.equal(server.lastHeaders['x-api-key'], 'k-123');
  });

  test('a cold key set is fetched once for many concurrent verifications', async (t) => {
    noUnhandledRejections(t);
    const options: JwtGuardOptions = { jwks: server.url, algorithms: ['RS256'], cacheSize: 0 };
    const before = server.requests;
    const tokens = await Promise.all(Array.from({ length: 20 }, (_, i) => tokenFor(rsa1, { sub: `u${i}` })));
    const payloads = await Promise.all(tokens.map((token) => verifyToken(token, options)));
    assert.deepEqual(payloads.map((p) => p.sub), tokens.map((_, i) => `u${i}`));
    assert.equal(server.requests - before, 1);
  });

  test('unknown kid → key_not_found (401), without refetching during the cooldown', async (t) => {
    noUnhandledRejections(t);
    const options: JwtGuardOptions = { jwks: server.url, algorithms: ['RS256'] }; // default cooldown: 30 s
    await verifyToken(await tokenFor(rsa1), options);
    const before = server.requests;
    for (let i = 0; i < 5; i++) await notFound(verifyToken(await tokenFor(rsa2, { i }), options));
    assert.equal(server.requests, before, 'an unknown kid must not make every request refetch the key set');
  });

  test('a known kid with an algorithm the key does not have → key_not_found', async (t) => {
    noUnhandledRejections(t);
    const options: JwtGuardOptions = { jwks: server.url, algorithms: ['RS256', 'ES256', 'PS256'] };
    // The JWK says alg RS256; a PS256 header naming its kid matches no key (the signature is never checked).
    const [, payload, signature] = (await tokenFor(rsa1)).split('.');
    const token = `${Buffer.from(JSON.stringify({ alg: 'PS256', kid: rsa1.kid })).toString('base64url')}.${payload}.${signature}`;
    await notFound(verifyToken(token, options));
  });

  test('a known kid but another key’s signature → signature_invalid', async (t) => {
    noUnhandledRejections(t);
    const options: JwtGuardOptions = { jwks: server.url, algorithms: ['RS256'] };
    await assertCode(verifyToken(await tokenFor({ ...rsa2, kid: rsa1.kid }), options), 'signature_invalid', 401);
  });

  test('no kid: the one key of the right type is used; with two candidates → key_not_found', async (t) => {
    noUnhandledRejections(t);
    const noKid = { ...rsa1, kid: undefined as unknown as string };
    const token = await new SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'RS256' }).sign(noKid.privateKey);
    assert.equal((await verifyToken(token, { jwks: server.url, algorithms: ['RS256'] })).sub, 'u');
    const two = await JwksServer.start([rsa1.jwk, rsa2.jwk]);
    t.after(() => two.close());
    await notFound(verifyToken(token, { jwks: two.url, algorithms: ['RS256'] }));
  });
});

describe('remote jwks: rotation', () => {
  test('a new kid verifies once the cooldown has passed', async (t) => {
    noUnhandledRejections(t);
    const server = await JwksServer.start([rsa1.jwk]);
    t.after(() => server.close());
    const options: JwtGuardOptions = { jwks: server.url, algorithms: ['RS256'], jwksOptions: { cooldownDuration: 100, cacheMaxAge: 60_000 } };
    assert.equal((await verifyToken(await tokenFor(rsa1), options)).sub, 'user-1');
    assert.equal(server.requests, 1);

    server.keys = [rsa1.jwk, rsa2.jwk]; // the issuer publishes the next key
    await sleep(150);
    assert.equal((await verifyToken(await tokenFor(rsa2, { sub: 'rotated' }), options)).sub, 'rotated');
    assert.equal(server.requests, 2);
    assert.equal((await verifyToken(await tokenFor(rsa1, { sub: 'old-still-listed' }), options)).sub, 'old-still-listed');
  });

  test('a retired key stops verifying new tokens once the cached set is stale (cacheMaxAge)', async (t) => {
    noUnhandledRejections(t);
    const server = await JwksServer.start([rsa1.jwk, rsa2.jwk]);
    t.after(() => server.close());
    const options: JwtGuardOptions = { jwks: server.url, algorithms: ['RS256'], cacheSize: 0, jwksOptions: { cooldownDuration: 50, cacheMaxAge: 150 } };
    const oldToken = await tokenFor(rsa1);
    assert.equal((await verifyToken(oldToken, options)).sub, 'user-1');
    server.keys = [rsa2.jwk];
    await sleep(200);
    await notFound(verifyToken(oldToken, options));
    assert.equal((await verifyToken(await tokenFor(rsa2), options)).sub, 'user-1');
  });

  test(
    'a token already in the verified-token cache stops verifying once its key is removed from the JWKS',
    async (t) => {
      noUnhandledRejections(t);
      const server = await JwksServer.start([rsa1.jwk, rsa2.jwk]);
      t.after(() => server.close());
      const options: JwtGuardOptions = { jwks: server.url, algorithms: ['RS256'], jwksOptions: { cooldownDuration: 50, cacheMaxAge: 150 } };
      const token = await tokenFor(rsa1);
      await verifyToken(token, options);
      server.keys = [rsa2.jwk];
      await sleep(200);
      await notFound(verifyToken(token, options));
    },
  );
});

describe('remote jwks: outages → key_source_unavailable (503)', () => {
  const outages: [string, Mode][] = [
    ['answering 500', 'status500'],
    ['answering 404', 'notFound'],
    ['answering a redirect', 'redirect'],
    ['answering non-JSON', 'garbage'],
    ['answering JSON that is not a key set', 'notJwks'],
  ];
  for (const [name, mode] of outages) {
    test(name, async (t) => {
      noUnhandledRejections(t);
      const server = await JwksServer.start([rsa1.jwk]);
      t.after(() => server.close());
      server.mode = mode;
      const options: JwtGuardOptions = { jwks: server.url, algorithms: ['RS256'], jwksOptions: { timeoutDuration: 1000 } };
      const error = await unavailable(verifyToken(await tokenFor(rsa1), options));
      assert.ok(error.cause !== undefined, 'the fetch error is kept as cause');
      assert.ok(server.requests >= 1);
      assert.equal(error.expose, false);
    });
  }

  test('server closed (connection refused)', async (t) => {
    noUnhandledRejections(t);
    const server = await JwksServer.start([rsa1.jwk]);
    await server.close();
    await unavailable(verifyToken(await tokenFor(rsa1), { jwks: server.url, algorithms: ['RS256'] }));
  });

  test('nothing listening on the host at all (unresolvable name)', async (t) => {
    noUnhandledRejections(t);
    await unavailable(verifyToken(await tokenFor(rsa1), { jwks: 'https://jwks.invalid/keys', algorithms: ['RS256'], jwksOptions: { timeoutDuration: 2000 } }));
  });

  test('a plain-http JWKS URL off this machine is refused at construction (keys in clear text could be swapped)', async () => {
    for (const jwks of ['http://jwks.example.test/keys', 'ftp://example.test/keys']) {
      await assert.rejects(
        verifyToken('a.b.c', { jwks, algorithms: ['RS256'] }),
        (e: unknown) => e instanceof JwtGuardError && e.code === 'invalid_options' && /https URL/.test(e.message),
      );
    }
  });

  for (const [name, mode] of [['hanging before the headers', 'hang'], ['hanging in the middle of the body', 'hangBody']] as const) {
    test(`${name}, beyond timeoutDuration (200 ms)`, async (t) => {
      noUnhandledRejections(t);
      const server = await JwksServer.start([rsa1.jwk]);
      t.after(() => server.close());
      server.mode = mode;
      const options: JwtGuardOptions = { jwks: server.url, algorithms: ['RS256'], jwksOptions: { timeoutDuration: 200 } };
      const started = performance.now();
      await unavailable(verifyToken(await tokenFor(rsa1), options));
      const elapsed = performance.now() - started;
      assert.ok(elapsed >= 150 && elapsed < 3000, `gave up after ${Math.round(elapsed)} ms`);
    });
  }

  test('concurrent requests during an outage all get 503, none an unhandled rejection', async (t) => {
    noUnhandledRejections(t);
    const server = await JwksServer.start([rsa1.jwk]);
    t.after(() => server.close());
    server.mode = 'hang';
    const options: JwtGuardOptions = { jwks: server.url, algorithms: ['RS256'], jwksOptions: { timeoutDuration: 200 } };
    const tokens = await Promise.all(Array.from({ length: 10 }, (_, i) => tokenFor(rsa1, { i })));
    await Promise.all(tokens.map((token) => unavailable(verifyToken(token, options))));
    assert.equal(server.requests, 1, 'one shared fetch');
  });

  test('a key set that is still fresh hides an outage', async (t) => {
    noUnhandledRejections(t);
    const server = await JwksServer.start([rsa1.jwk]);
    t.after(() => server.close());
    const options: JwtGuardOptions = { jwks: server.url, algorithms: ['RS256'], cacheSize: 0, jwksOptions: { cacheMaxAge: 60_000 } };
    await verifyToken(await tokenFor(rsa1), options);
    server.mode = 'status500';
    assert.equal((await verifyToken(await tokenFor(rsa1, { sub: 'during-outage' }), options)).sub, 'during-outage');
    assert.equal(server.requests, 1);
  });

  test('a stale key set and an endpoint that is down → 503, and verification recovers when it is back', async (t) => {
    noUnhandledRejections(t);
    const server = await JwksServer.start([rsa1.jwk]);
    t.after(() => server.close());
    const options: JwtGuardOptions = { jwks: server.url, algorithms: ['RS256'], cacheSize: 0, jwksOptions: { cacheMaxAge: 100, timeoutDuration: 500 } };
    await verifyToken(await tokenFor(rsa1), options);
    server.mode = 'status500';
    await sleep(150);
    await unavailable(verifyToken(await tokenFor(rsa1), options));
    server.mode = 'ok';
    assert.equal((await verifyToken(await tokenFor(rsa1, { sub: 'back' }), options)).sub, 'back');
  });
});

describe('remote jwks: an endpoint that is down at first and comes back', () => {
  test('connection refused, then the server listens again on the same port: verification succeeds', async (t) => {
    noUnhandledRejections(t);
    const server = await JwksServer.start([rsa1.jwk]);
    t.after(() => server.close());
    await server.close();
    const options: JwtGuardOptions = { jwks: server.url, algorithms: ['RS256'], jwksOptions: { cooldownDuration: 30_000 } };
    const token = await tokenFor(rsa1);
    await unavailable(verifyToken(token, options));
    await unavailable(verifyToken(token, options));
    await server.listen();
    assert.equal((await verifyToken(token, options)).sub, 'user-1', 'a failed fetch must not start a cooldown');
  });

  test('answering 500, then hanging, then healthy', async (t) => {
    noUnhandledRejections(t);
    const server = await JwksServer.start([rsa1.jwk]);
    t.after(() => server.close());
    const options: JwtGuardOptions = { jwks: server.url, algorithms: ['RS256'], jwksOptions: { timeoutDuration: 200 } };
    const token = await tokenFor(rsa1);
    server.mode = 'status500';
    await unavailable(verifyToken(token, options));
    server.mode = 'hang';
    await unavailable(verifyToken(token, options));
    server.mode = 'ok';
    assert.equal((await verifyToken(token, options)).sub, 'user-1');
    assert.equal(server.requests, 3);
  });
});

describe('remote jwks: options', () => {
  const bad = (options: Record<string, unknown>, pattern: RegExp) =>
    assert.throws(
      () => normalizeOptions(options as JwtGuardOptions),
      (e: unknown) => e instanceof JwtGuardError && e.code === 'invalid_options' && pattern.test(e.message),
    );

  test('a jwks that is not a URL, or no algorithms allowlist → invalid_options', () => {
    bad({ jwks: 'not a url', algorithms: ['RS256'] }, /`jwks`/);
    bad({ jwks: 'https://issuer.example/jwks.json' }, /explicit allowlist/);
    bad({ jwks: 42, algorithms: ['RS256'] }, /`jwks`/);
  });

  test('constructing a guard with a remote jwks does not fetch', async () => {
    const server = await JwksServer.start([rsa1.jwk]);
    try {
      normalizeOptions({ jwks: server.url, algorithms: ['RS256'] });
      await sleep(50);
      assert.equal(server.requests, 0);
    } finally {
      await server.close();
    }
  });

  test(
    'invalid jwksOptions → invalid_options at construction',
    () => {
      for (const jwksOptions of [{ timeoutDuration: -1 }, { timeoutDuration: 1.5 }, { cooldownDuration: Number.NaN }, { cacheMaxAge: -5 }]) {
        bad({ jwks: 'https://issuer.example/jwks.json', algorithms: ['RS256'], jwksOptions }, /jwksOptions|timeoutDuration|cooldownDuration|cacheMaxAge/);
      }
    },
  );
});
