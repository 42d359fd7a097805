import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createGuard, verifyToken } from '../../../src/index.js';
import { now, STRONG_SECRET } from '../../support/tokens.js';

const options = { secret: STRONG_SECRET, authPath: '/login' };
const guard = createGuard(options);

async function tokenOf(status: number, body: Parameters<typeof guard.mint>[1]): Promise<string> {
  const response = await guard.mint(status, body);
  assert.ok(response, 'expected a minted response');
  assert.equal(response.status, status);
  assert.equal(response.headers['content-length'], String(Buffer.byteLength(response.body)));
  assert.equal(response.headers['cache-control'], 'no-store');
  return (JSON.parse(response.body) as { token: string }).token;
}

describe('mint (guard.mint)', () => {
  test('any 2xx JSON object, as object, string, bytes or ArrayBuffer, becomes a verifiable token', async () => {
    const json = JSON.stringify({ userId: 1 });
    for (const body of [{ userId: 1 }, json, new TextEncoder().encode(json), new TextEncoder().encode(json).buffer]) {
      const payload = await verifyToken(await tokenOf(200, body), options);
      assert.equal(payload.userId, 1);
    }
    assert.equal((await verifyToken(await tokenOf(201, { userId: 2 }), options)).userId, 2);
  });

  test('the object is re-serialised: functions and undefined vanish, toJSON applies', async () => {
    const payload = await verifyToken(await tokenOf(200, { a: 1, f: () => 1, u: undefined, d: new Date(0) }), options);
    assert.equal(payload.a, 1);
    assert.equal('f' in payload, false);
    assert.equal(payload.d, '1970-01-01T00:00:00.000Z');
  });

  test('non-2xx statuses pass through (undefined)', async () => {
    for (const status of [100, 199, 300, 302, 401, 404, 500]) assert.equal(await guard.mint(status, { userId: 1 }), undefined);
  });

  test('2xx bodies that are not JSON objects → 500 mint_body_invalid, never the original body', async () => {
    const bodies = ['welcome', '[1,2]', '', '   ', '{"a":', 'null', '42', null, undefined, [1], new Uint8Array([0xff, 0xfe]), JSON.stringify({ exp: 'soon' })];
    for (const body of bodies) {
      const response = await guard.mint(200, body as never);
      assert.ok(response);
      assert.equal(response.status, 500);
      const parsed = JSON.parse(response.body) as { error: string; token?: string };
      assert.equal(parsed.error, 'mint_body_invalid', `body ${JSON.stringify(body)}`);
      assert.equal(parsed.token, undefined);
    }
  });

  test('mints() is true for 2xx only; 204 and 205 cannot carry a token and answer 500', async () => {
    assert.deepEqual([199, 200, 201, 299, 300, 401].map((status) => guard.mints(status)), [false, true, true, true, false, false]);
    for (const status of [204, 205]) {
      const response = await guard.mint(status, { userId: 1 });
      assert.equal(response?.status, 500);
      assert.equal((JSON.parse(response?.body ?? '{}') as { error?: string }).error, 'mint_body_invalid');
    }
  });

  test('an exp in the body is kept', async () => {
    const exp = now() + 100;
    assert.equal((await verifyToken(await tokenOf(200, { exp }), options)).exp, exp);
  });
});
