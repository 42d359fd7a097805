// `jwtguard jwks`: the key set it prints is what the middleware's `jwks` option consumes. Tokens
// signed with the matching private keys (by jose) verify through verifyToken and through the Hono
// adapter given that set, and through the CLI's own `verify --jwks`.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Hono } from 'hono';
import { SignJWT, calculateJwkThumbprint, exportJWK, exportPKCS8, exportSPKI, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { jwtGuard } from '../../src/adapters/hono.js';
import { JwtGuardError, verifyToken, type JwtGuardOptions } from '../../src/index.js';
import { cli, json, scratch, show, transcript } from './support/cli.js';

interface Key {
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  thumbprint: string;
  pem: string;
  privatePem: string;
  jwk: string;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'];
let dir: string;
const keys: Record<string, Key> = {};

before(async () => {
  dir = scratch();
  for (const alg of ['ES256', 'RS256', 'PS256', 'EdDSA', 'ES512']) {
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const key: Key = { alg, privateKey, publicJwk, thumbprint: await calculateJwkThumbprint(publicJwk), pem: join(dir, `${alg}.pub.pem`), privatePem: join(dir, `${alg}.key.pem`), jwk: join(dir, `${alg}.pub.json`) };
    writeFileSync(key.pem, await exportSPKI(publicKey));
    writeFileSync(key.privatePem, await exportPKCS8(privateKey), { mode: 0o600 });
    writeFileSync(key.jwk, JSON.stringify({ ...publicJwk, kid: `${alg}-own`, alg }));
    keys[alg] = key;
  }
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
  for (const output of transcript) assert.doesNotMatch(output, /PRIVATE KEY|"d":/, 'private key material in some output');
});

const key = (alg: string): Key => keys[alg] as Key;

async function jwks(args: string[]): Promise<JWK[]> {
  const run = await cli(['jwks', ...args]);
  assert.equal(run.code, 0, show(run));
  const set = json<{ keys: JWK[] }>(run);
  for (const jwk of set.keys) for (const member of PRIVATE_MEMBERS) assert.equal(jwk[member as keyof JWK], undefined, `private member ${member} published`);
  return set.keys;
}

const sign = (alg: string, kid: string | undefined, sub: string): Promise<string> =>
  new SignJWT({ sub }).setProtectedHeader({ alg, ...(kid !== undefined && { kid }) }).setIssuedAt().setExpirationTime('5m').sign(key(alg).privateKey);

describe('jwtguard jwks', () => {
  test('PEM files: kid = RFC 7638 thumbprint, use sig, alg inferred for EC and Ed25519, given by --alg for RSA', async () => {
    const set = await jwks([key('ES256').pem, key('EdDSA').pem, key('ES512').pem]);
    assert.deepEqual(set, [
      { ...key('ES256').publicJwk, kid: key('ES256').thumbprint, use: 'sig', alg: 'ES256' },
      { ...key('EdDSA').publicJwk, kid: key('EdDSA').thumbprint, use: 'sig', alg: 'EdDSA' },
      { ...key('ES512').publicJwk, kid: key('ES512').thumbprint, use: 'sig', alg: 'ES512' },
    ]);
    const [rsa] = await jwks([key('RS256').pem]);
    assert.equal(rsa?.alg, undefined, 'RSA without --alg: RS256 or PS256, the set does not pin it');
    assert.equal((await jwks([key('PS256').pem, '--alg', 'PS256']))[0]?.alg, 'PS256');
  });

  test('a JWK file keeps its own kid and alg; --kid (once per key, in order) wins', async () => {
    const [own] = await jwks([key('ES256').jwk]);
    assert.deepEqual([own?.kid, own?.alg], ['ES256-own', 'ES256']);
    const given = await jwks([key('ES256').jwk, key('EdDSA').pem, '--kid', 'a', '--kid', 'b']);
    assert.deepEqual(given.map((k) => k.kid), ['a', 'b']);
  });

  test('a private key file publishes its public half only', async () => {
    const [fromPrivate] = await jwks([key('ES256').privatePem]);
    assert.deepEqual(fromPrivate, { ...key('ES256').publicJwk, kid: key('ES256').thumbprint, use: 'sig', alg: 'ES256' });
  });

  test('the set verifies tokens through the middleware\'s jwks option: verifyToken and the Hono adapter', async () => {
    const set = { keys: await jwks([key('ES256').pem, key('EdDSA').pem, key('RS256').pem, '--kid', 'es', '--kid', 'ed', '--kid', 'rs']) };
    const options: JwtGuardOptions = { jwks: set, algorithms: ['ES256', 'EdDSA', 'RS256'] };
    for (const [alg, kid] of [['ES256', 'es'], ['EdDSA', 'ed'], ['RS256', 'rs']] as const) {
      assert.equal((await verifyToken(await sign(alg, kid, alg), options)).sub, alg);
    }
    // A kid the set does not hold is refused, so the keys really are selected from the set.
    await assert.rejects(verifyToken(await sign('ES256', 'unknown', 'x'), options), (e: unknown) => e instanceof JwtGuardError && e.code === 'key_not_found');

    const app = new Hono();
    app.use('*', jwtGuard({ jwks: set, algorithms: ['ES256', 'EdDSA', 'RS256'] }));
    app.get('/me', (c) => c.json(c.get('jwtPayload')));
    const ok = await app.request('/me', { headers: { authorization: `Bearer ${await sign('EdDSA', 'ed', 'hono')}` } });
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { sub: string }).sub, 'hono');
    const refused = await app.request('/me', { headers: { authorization: `Bearer ${await sign('EdDSA', 'es', 'wrong-kid')}` } });
    assert.equal(refused.status, 401);
  });

  test('default thumbprint kids let `verify --jwks` pick the key a token names', async () => {
    const path = join(dir, 'thumbprints.json');
    writeFileSync(path, JSON.stringify({ keys: await jwks([key('ES256').pem, key('ES512').pem]) }));
    const token = await sign('ES512', key('ES512').thumbprint, 'by-thumbprint');
    const run = await cli(['verify', token, '--jwks', path, '--algorithms', 'ES256,ES512', '--json']);
    assert.equal(run.code, 0, show(run));
    assert.equal(json<{ payload: { sub: string } }>(run).payload.sub, 'by-thumbprint');
  });

  for (const [name, args, pattern] of [
    ['no files', () => [], /name at least one public key file/],
    ['a missing file', () => [join(dir, 'missing.pem')], /cannot read .*missing\.pem.*ENOENT/],
    ['a file that is no key', () => [join(dir, 'not-a-key.txt')], /neither PEM nor JWK/],
    ['an HMAC (oct) JWK', () => [join(dir, 'oct.json')], /symmetric \(oct\) key: HMAC secrets are never published/],
    ['an RSA key under 2048 bits (the library\'s rule)', () => [join(dir, 'rsa1024.pem')], /RSA key of 1024 bits; RSA keys must have at least 2048 bits/],
    ['--alg that does not fit a key', () => [key('ES256').pem, '--alg', 'RS256'], /ES256\.pub\.pem: a EC P-256 key cannot serve --alg RS256 \(/],
    ['--kid count not matching the keys', () => [key('ES256').pem, key('EdDSA').pem, '--kid', 'one'], /--kid was given 1 times for 2 keys/],
    ['two keys with one kid', () => [key('ES256').pem, key('ES256').jwk, '--kid', 'same', '--kid', 'same'], /two keys share kid "same"/],
  ] as const) {
    test(`bad usage exits 2: ${name}`, async () => {
      writeFileSync(join(dir, 'not-a-key.txt'), 'hello');
      writeFileSync(join(dir, 'oct.json'), JSON.stringify({ kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQ' }));
      writeFileSync(join(dir, 'rsa1024.pem'), generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }));
      const run = await cli(['jwks', ...args()]);
      assert.equal(run.code, 2, show(run));
      assert.match(run.stderr, pattern);
      assert.equal(run.stdout, '');
      assert.ok(!run.stderr.includes('c2VjcmV0LXNlY3JldC1zZWNyZXQ'), 'the oct key was echoed');
    });
  }
});
