import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { base64url, SignJWT } from 'jose';
import { JwtGuardError, verifyToken, type JwtGuardErrorCode, type JwtGuardOptions } from '../../../src/index.js';
import { hmacToken, now, STRONG_SECRET, tamper, unsecuredToken } from '../../support/tokens.js';

const options: JwtGuardOptions = { secret: STRONG_SECRET };

async function rejectsWith(token: unknown, code: JwtGuardErrorCode, opts: JwtGuardOptions = options): Promise<JwtGuardError> {
  let caught: unknown;
  await verifyToken(token as string, opts).then(
    () => assert.fail(`accepted a token that should fail with ${code}`),
    (error: unknown) => (caught = error),
  );
  assert.ok(caught instanceof JwtGuardError, `rejected with ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.equal(caught.status, 401);
  if (typeof token === 'string' && token.length > 0) assert.ok(!caught.message.includes(token), 'message contains the token');
  assert.ok(!caught.message.includes(STRONG_SECRET), 'message contains the secret');
  return caught;
}

const segment = (value: unknown) => base64url.encode(JSON.stringify(value));

describe('verifyToken', () => {
  test('accepts a valid token and resolves with its payload', async () => {
    const payload = await verifyToken(await hmacToken({ sub: 'u1', exp: now() + 60 }), options);
    assert.equal(payload.sub, 'u1');
  });

  for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
    test(`${alg}: accepted when configured, rejected as algorithm_not_allowed otherwise`, async () => {
      const token = await hmacToken({ sub: 'u1' }, STRONG_SECRET, alg);
      assert.equal((await verifyToken(token, { secret: STRONG_SECRET, algorithm: alg })).sub, 'u1');
      const other = alg === 'HS256' ? 'HS512' : 'HS256';
      await rejectsWith(token, 'algorithm_not_allowed', { secret: STRONG_SECRET, algorithm: other });
    });
  }

  test('missing: undefined, empty string, non-string', async () => {
    await rejectsWith(undefined, 'token_missing');
    await rejectsWith('', 'token_missing');
    await rejectsWith(42, 'token_missing');
  });

  test('expired, and exp equal to now, are rejected as token_expired', async () => {
    const error = await rejectsWith(await hmacToken({ exp: now() - 1 }), 'token_expired');
    assert.equal(error.claim, 'exp');
    await rejectsWith(await hmacToken({ exp: now() }), 'token_expired');
  });

  test('nbf in the future → token_not_yet_valid', async () => {
    await rejectsWith(await hmacToken({ nbf: now() + 60 }), 'token_not_yet_valid');
  });

  test('tampered payload or header → signature_invalid; another secret → signature_invalid', async () => {
    await rejectsWith(tamper(await hmacToken({ role: 'user' }), { role: 'admin' }), 'signature_invalid');
    await rejectsWith(await hmacToken({ role: 'user' }, 'another-secret-another-secret-another-secret'), 'signature_invalid');
    const [, payload, signature] = (await hmacToken({ a: 1 })).split('.');
    await rejectsWith(`${segment({ alg: 'HS256', typ: 'JWT', kid: 'x' })}.${payload}.${signature}`, 'signature_invalid');
  });

  test('format: two or four segments, padding, whitespace, foreign characters → token_malformed', async () => {
    const token = await hmacToken({ a: 1 });
    await rejectsWith(token.split('.').slice(0, 2).join('.'), 'token_malformed');
    await rejectsWith(`${token}.abc`, 'token_malformed');
    await rejectsWith(`${token}=`, 'token_malformed');
    await rejectsWith(` ${token}`, 'token_malformed');
    await rejectsWith(token.replace('.', '+.'), 'token_malformed');
    await rejectsWith('a.b.c', 'token_malformed');
  });

  test('alg: none (any casing) never verifies', async () => {
    await rejectsWith(unsecuredToken({ sub: 'admin' }), 'token_malformed');
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      await rejectsWith(`${unsecuredToken({ sub: 'admin' }, alg)}AAAA`, 'algorithm_not_allowed');
    }
  });

  test('a non-object payload is malformed', async () => {
    const key = new TextEncoder().encode(STRONG_SECRET);
    const { CompactSign } = await import('jose');
    const token = await new CompactSign(new TextEncoder().encode('"just a string"')).setProtectedHeader({ alg: 'HS256' }).sign(key);
    await rejectsWith(token, 'token_malformed');
  });

  test('a token over maxTokenLength is rejected before decoding', async () => {
    await rejectsWith(`${'a'.repeat(9000)}.b.c`, 'token_too_long');
  });

  test('invalid options reject (not throw synchronously) with invalid_options', async () => {
    await assert.rejects(verifyToken('a.b.c', { secret: '' }), (e: unknown) => e instanceof JwtGuardError && e.code === 'invalid_options');
  });

  test('a jose-signed token with an iat and custom header typ verifies', async () => {
    const token = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' }).setIssuedAt().setExpirationTime('5m').sign(new TextEncoder().encode(STRONG_SECRET));
    assert.equal((await verifyToken(token, options)).sub, 'x');
  });
});
