import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeProtectedHeader, jwtVerify } from 'jose';
import { JwtGuardError, signToken, verifyToken } from '../../../src/index.js';
import { decodePayload, now, STRONG_SECRET } from '../../support/tokens.js';

const key = new TextEncoder().encode(STRONG_SECRET);

describe('signToken', () => {
  test('signs with the configured algorithm; jose verifies it; iat is now; default exp is 1h', async () => {
    const token = await signToken({ sub: 'u1' }, { secret: STRONG_SECRET, algorithm: 'HS384' });
    assert.deepEqual(decodeProtectedHeader(token), { alg: 'HS384', typ: 'JWT' });
    const { payload } = await jwtVerify(token, key, { algorithms: ['HS384'] });
    assert.equal(payload.sub, 'u1');
    assert.ok(Math.abs((payload.iat ?? 0) - now()) <= 2);
    assert.equal(payload.exp, (payload.iat ?? 0) + 3600);
  });

  test('keeps an exp the payload has; overwrites iat', async () => {
    const exp = now() + 42;
    const payload = decodePayload(await signToken({ exp, iat: 1 }, { secret: STRONG_SECRET }));
    assert.equal(payload.exp, exp);
    assert.notEqual(payload.iat, 1);
  });

  test('expiresIn as a string or seconds; false signs without expiry', async () => {
    const p1 = decodePayload(await signToken({}, { secret: STRONG_SECRET, expiresIn: '15m' }));
    assert.equal((p1.exp as number) - (p1.iat as number), 900);
    const p2 = decodePayload(await signToken({}, { secret: STRONG_SECRET, expiresIn: 30 }));
    assert.equal((p2.exp as number) - (p2.iat as number), 30);
    const p3 = decodePayload(await signToken({}, { secret: STRONG_SECRET, expiresIn: false }));
    assert.equal(p3.exp, undefined);
  });

  test('round-trips through verifyToken', async () => {
    const options = { secret: STRONG_SECRET, algorithm: 'HS512' as const };
    assert.equal((await verifyToken(await signToken({ role: 'admin' }, options), options)).role, 'admin');
  });

  test('a non-object payload or a non-numeric exp rejects with sign_failed', async () => {
    for (const payload of [null, [], 'x', { exp: 'tomorrow' }, { exp: Number.NaN }]) {
      await assert.rejects(signToken(payload as never, { secret: STRONG_SECRET }), (e: unknown) => e instanceof JwtGuardError && e.code === 'sign_failed');
    }
  });
});
