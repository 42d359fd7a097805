// `jwtguard sign`: tokens signed by the CLI are checked with jose directly (not with the CLI, not
// with jwtguard), so a wiring bug cannot hide behind its own verifier.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { decodeProtectedHeader, exportJWK, exportPKCS8, generateKeyPair, jwtVerify, type CryptoKey, type JWTPayload } from 'jose';
import { STRONG_SECRET } from '../support/tokens.js';
import { cli, json, scratch, show, transcript } from './support/cli.js';

const SECRET = STRONG_SECRET;
const KEY = new TextEncoder().encode(SECRET);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

let dir: string;
let ec: { publicKey: CryptoKey; pemPath: string; jwkPath: string };

before(async () => {
  dir = scratch();
  const pair = await generateKeyPair('ES256', { extractable: true });
  ec = { publicKey: pair.publicKey, pemPath: join(dir, 'ec.key.pem'), jwkPath: join(dir, 'ec.key.json') };
  writeFileSync(ec.pemPath, await exportPKCS8(pair.privateKey), { mode: 0o600 });
  writeFileSync(ec.jwkPath, JSON.stringify({ ...(await exportJWK(pair.privateKey)), kid: 'from-the-jwk' }), { mode: 0o600 });
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
  for (const output of transcript) assert.ok(!output.includes(SECRET), 'the secret appeared in some output');
});

/** Signs with the CLI and verifies with jose; returns header and payload. */
async function signed(args: string[], key: Uint8Array | CryptoKey = KEY, stdin?: string): Promise<{ header: Record<string, unknown>; payload: JWTPayload; stderr: string }> {
  const run = await cli(['sign', ...args], stdin === undefined ? {} : { stdin });
  assert.equal(run.code, 0, show(run));
  const token = run.stdout.trim();
  assert.equal(run.stdout, `${token}\n`, 'stdout is the token and a newline');
  const { payload } = await jwtVerify(token, key);
  return { header: decodeProtectedHeader(token) as Record<string, unknown>, payload, stderr: run.stderr };
}

describe('jwtguard sign', () => {
  test('defaults: HS256 for a secret, typ JWT, iat now, exp = iat + 1h (signToken\'s rules)', async () => {
    const { header, payload } = await signed(['-S', SECRET]);
    assert.deepEqual(header, { alg: 'HS256', typ: 'JWT' });
    assert.equal(typeof payload.iat, 'number');
    assert.equal((payload.exp as number) - (payload.iat as number), 3600);
  });

  test('-P KEY=VALUE: JSON values parsed, text kept as text, repeatable; on top of the PAYLOAD_JSON argument', async () => {
    const { payload } = await signed(['{"sub":"user-1","role":"user"}', '-S', SECRET, '-P', 'role=admin', '-P', 'n=5', '-P', 'ok=true', '-P', 'tags=["a","b"]', '-P', 'name=Ada Lovelace', '-P', 'id="123"', '-P', 'eq=a=b']);
    assert.deepEqual({ ...payload, iat: 0, exp: 0 }, { sub: 'user-1', role: 'admin', n: 5, ok: true, tags: ['a', 'b'], name: 'Ada Lovelace', id: '123', eq: 'a=b', iat: 0, exp: 0 });
  });

  test('-P __proto__=... becomes a claim, as in PAYLOAD_JSON', async () => {
    const { payload } = await signed(['-S', SECRET, '-P', '__proto__={"admin":true}']);
    assert.ok(Object.hasOwn(payload, '__proto__'));
    assert.deepEqual(Object.getOwnPropertyDescriptor(payload, '__proto__')?.value, { admin: true });
  });

  test('the payload from stdin with "-"', async () => {
    const { payload } = await signed(['-', '-S', SECRET], KEY, '{"sub":"from-stdin"}\n');
    assert.equal(payload.sub, 'from-stdin');
  });

  test('--exp, --nbf, --iss, --aud (repeatable), --sub, --jti, --kid, --typ', async () => {
    const { header, payload } = await signed(['-S', SECRET, '--exp', '15m', '--nbf', '0', '--iss', 'https://issuer.example', '--aud', 'api', '--aud', 'admin', '--sub', 'svc', '--jti', '--kid', 'k-1', '--typ', 'at+jwt']);
    assert.deepEqual(header, { alg: 'HS256', typ: 'at+jwt', kid: 'k-1' });
    assert.equal((payload.exp as number) - (payload.iat as number), 900);
    assert.equal(payload.nbf, payload.iat);
    assert.equal(payload.iss, 'https://issuer.example');
    assert.deepEqual(payload.aud, ['api', 'admin']);
    assert.equal(payload.sub, 'svc');
    assert.match(payload.jti as string, UUID);
    const seconds = (await signed(['-S', SECRET, '--exp', '90'])).payload;
    assert.equal((seconds.exp as number) - (seconds.iat as number), 90, 'digits are seconds');
  });

  test('flags win over the payload\'s own claims; an exp in the payload is kept without --exp', async () => {
    const exp = Math.floor(Date.now() / 1000) + 100_000;
    const kept = await signed([JSON.stringify({ exp, sub: 'a', iss: 'x' }), '-S', SECRET]);
    assert.equal(kept.payload.exp, exp);
    const replaced = await signed([JSON.stringify({ exp, sub: 'a', iss: 'x', aud: 'y' }), '-S', SECRET, '--exp', '1m', '--sub', 'b', '--iss', 'z', '--aud', 'w']);
    assert.equal((replaced.payload.exp as number) - (replaced.payload.iat as number), 60);
    assert.deepEqual([replaced.payload.sub, replaced.payload.iss, replaced.payload.aud], ['b', 'z', 'w']);
  });

  test('--exp never: no exp at all', async () => {
    const { payload } = await signed(['-S', SECRET, '--exp', 'never']);
    assert.equal(payload.exp, undefined);
  });

  test('an iat in the payload is replaced, and the CLI says so', async () => {
    const { payload, stderr } = await signed(['-S', SECRET, '-P', 'iat=1000']);
    assert.notEqual(payload.iat, 1000);
    assert.match(stderr, /warning: the payload's iat is replaced/);
  });

  test('--private-key as PKCS#8 PEM (alg inferred: ES256) and as JWK (its kid used)', async () => {
    const pem = await signed(['--private-key', ec.pemPath, '-P', 'sub=pem'], ec.publicKey);
    assert.deepEqual(pem.header, { alg: 'ES256', typ: 'JWT' });
    const jwk = await signed(['--private-key', ec.jwkPath, '-P', 'sub=jwk'], ec.publicKey);
    assert.deepEqual(jwk.header, { alg: 'ES256', typ: 'JWT', kid: 'from-the-jwk' });
    const overridden = await signed(['--private-key', ec.jwkPath, '--kid', 'other'], ec.publicKey);
    assert.equal(overridden.header.kid, 'other');
  });

  test('--json: {token, header, payload}', async () => {
    const run = await cli(['sign', '-S', SECRET, '-P', 'sub=j', '--json']);
    assert.equal(run.code, 0, show(run));
    const out = json<{ token: string; header: object; payload: JWTPayload }>(run);
    assert.deepEqual(out.header, { alg: 'HS256', typ: 'JWT' });
    assert.deepEqual(out.payload, (await jwtVerify(out.token, KEY)).payload);
  });

  test('a short secret: the library\'s warning on stderr, never the secret', async () => {
    const { stderr } = await signed(['-S', 'tiny-secret'], new TextEncoder().encode('tiny-secret'));
    assert.match(stderr, /warning: the secret is 11 bytes/);
    assert.ok(!stderr.includes('tiny-secret'));
  });

  describe('bad usage exits 2', () => {
    for (const [name, args, pattern] of [
      ['--no-iat: signToken always sets iat', ['-S', SECRET, '--no-iat'], /signToken always sets iat/],
      ['no key', ['-P', 'sub=a'], /sign needs a key: --secret .* --private-key/],
      ['invalid JSON payload', ['{"sub":', '-S', SECRET], /the payload is not valid JSON/],
      ['a payload that is not an object', ['[1,2]', '-S', SECRET], /must be a JSON object .* got an array/],
      ['-P without "="', ['-S', SECRET, '-P', 'sub'], /-P expects KEY=VALUE/],
      ['a key that does not fit --alg (secret for ES256)', ['-S', SECRET, '--alg', 'ES256'], /To sign ES256, pass --private-key with a EC P-256 key\./],
      ['a key that does not fit --alg (EC key for RS256)', ['--private-key', 'EC_PEM', '--alg', 'RS256'], /To sign RS256, pass --private-key with a RSA key\./],
      ['an unknown --alg', ['-S', SECRET, '--alg', 'HS1'], /`algorithm` \(--alg\) must be one of/],
      ['an unusable --exp', ['-S', SECRET, '--exp', 'soon'], /`expiresIn` \(--exp\) must be a positive duration/],
      ['an exp claim that is not a number', ['-S', SECRET, '-P', 'exp="tomorrow"'], /"exp" must be a number of seconds/],
      ['an unreadable key file', ['--private-key', '/nonexistent/key.pem'], /cannot read the --private-key file/],
      ['an unknown flag', ['-S', SECRET, '--expires', '1h'], /unknown option --expires/],
    ] as const) {
      test(name, async () => {
        const run = await cli(['sign', ...args.map((a) => (a === 'EC_PEM' ? ec.pemPath : a))]);
        assert.equal(run.code, 2, show(run));
        assert.match(run.stderr, pattern);
        assert.equal(run.stdout, '');
      });
    }
  });
});
