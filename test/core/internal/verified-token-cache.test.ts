import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, mock, test } from 'node:test';
import { JwtGuardError, normalizeOptions, verifyToken, type JwtGuardPayload } from '../../../src/index.js';
import { VerifiedTokenCache } from '../../../src/core/internal/verified-token-cache.js';
import { cachedPayload } from '../../support/cache.js';
import { hmacToken, now, STRONG_SECRET, tamper } from '../../support/tokens.js';

/** Stores directly: a first `set` only notes the token (admission on the second). */
function store(cache: VerifiedTokenCache, token: string, payload: JwtGuardPayload): void {
  cache.set(token, payload);
  cache.set(token, payload);
}

describe('verified-token cache', () => {
  test('a repeated token is served from the cache (same frozen payload object) from its second verification on', async () => {
    const options = { secret: STRONG_SECRET };
    const token = await hmacToken({ sub: 'u', nested: { role: 'admin' } });
    const cache = normalizeOptions(options).cache;
    const first = await verifyToken(token, options);
    assert.equal(cache?.size, 0, 'a first verification is only noted');
    const second = await verifyToken(token, options);
    assert.notEqual(second, first);
    assert.equal(cache?.size, 1, 'the second is stored');
    assert.equal(await verifyToken(token, options), second);
    assert.ok(Object.isFrozen(second) && Object.isFrozen(second.nested));
    assert.ok(Object.isFrozen(first), 'every verified payload is frozen, cached or not');
  });

  test('single-use tokens are never stored: a stream of distinct valid tokens leaves the cache empty', async () => {
    const options = { secret: STRONG_SECRET };
    const tokens = await Promise.all(Array.from({ length: 500 }, (_, i) => hmacToken({ i })));
    for (const token of tokens) await verifyToken(token, options);
    // A few may be admitted by a fingerprint collision (about 1 in 65,536 per pair); never many.
    assert.ok((normalizeOptions(options).cache?.size ?? 0) <= 5, `size ${normalizeOptions(options).cache?.size}`);
  });

  test('cacheSize: 0 turns it off', async () => {
    const options = { secret: STRONG_SECRET, cacheSize: 0 };
    const token = await hmacToken({ sub: 'u' });
    assert.notEqual(await verifyToken(token, options), await verifyToken(token, options));
    assert.equal(normalizeOptions(options).cache, undefined);
  });

  test('a hit re-checks exp: the cache never extends a token\'s life', async () => {
    const options = { secret: STRONG_SECRET };
    const token = await hmacToken({ sub: 'u', exp: now() + 30 });
    await cachedPayload(token, options);
    mock.timers.enable({ apis: ['Date'], now: Date.now() + 31_000 });
    try {
      await assert.rejects(verifyToken(token, options), (e: unknown) => e instanceof JwtGuardError && e.code === 'token_expired');
    } finally {
      mock.timers.reset();
    }
  });

  test('a flood of forged tokens between two uses of a token does not stop its admission', async () => {
    const options = { secret: STRONG_SECRET };
    const token = await hmacToken({ sub: 'regular' });
    await verifyToken(token, options);
    const header = token.slice(0, token.indexOf('.'));
    // More forged tokens (each with its own signature) than the admission window: were they
    // noted, the regular token's first sighting would be cleared.
    for (let i = 0; i < 10_000; i++) {
      const input = `${header}.${Buffer.from(JSON.stringify({ sub: `forged-${i}` })).toString('base64url')}`;
      const forged = `${input}.${createHmac('sha256', 'not-the-secret').update(input).digest('base64url')}`;
      await assert.rejects(verifyToken(forged, options), { code: 'signature_invalid' });
    }
    await verifyToken(token, options);
    assert.equal(normalizeOptions(options).cache?.size, 1, 'admitted on its second verification');
  });

  test('bounded: many distinct valid tokens never grow it past cacheSize', async () => {
    const options = { secret: STRONG_SECRET, cacheSize: 50 };
    const cache = normalizeOptions(options).cache;
    for (let i = 0; i < 300; i++) {
      const token = await hmacToken({ i });
      await verifyToken(token, options);
      await verifyToken(token, options);
      assert.ok((cache?.size ?? 0) <= 50, `size ${cache?.size}`);
    }
    assert.ok((cache?.size ?? 0) >= 25);
  });

  test('failures are never cached', async () => {
    const options = { secret: STRONG_SECRET };
    const forged = tamper(await hmacToken({ role: 'user' }), { role: 'admin' });
    for (let i = 0; i < 3; i++) await assert.rejects(verifyToken(forged, options));
    await assert.rejects(verifyToken(await hmacToken({ exp: now() - 1 }), options));
    assert.equal(normalizeOptions(options).cache?.size, 0);
  });

  test('a forged token that keeps a cached token\'s signature (the same cache key) is verified, not served', async () => {
    const options = { secret: STRONG_SECRET };
    const genuine = await hmacToken({ role: 'user' });
    const payload = await cachedPayload(genuine, options);
    const forged = tamper(genuine, { role: 'admin' });
    assert.equal(forged.slice(-16), genuine.slice(-16), 'same signature, so the same cache key');
    await assert.rejects(verifyToken(forged, options), (e: unknown) => e instanceof JwtGuardError && e.code === 'signature_invalid');
    assert.equal(await verifyToken(genuine, options), payload, 'the genuine token is still served from the cache');
  });

  test('VerifiedTokenCache: tokens whose keys collide evict each other and are never confused', () => {
    const cache = new VerifiedTokenCache(8);
    const tail = '.signature-tail-0123456789';
    store(cache, `a${tail}`, { who: 'a' });
    assert.equal(cache.get(`b${tail}`, 0), undefined, 'a different token with the same tail misses');
    assert.equal(cache.delete(`b${tail}`), false, 'and cannot delete the other');
    assert.deepEqual(cache.get(`a${tail}`, 0), { who: 'a' });
    store(cache, `b${tail}`, { who: 'b' });
    assert.equal(cache.get(`a${tail}`, 0), undefined);
    assert.deepEqual(cache.get(`b${tail}`, 0), { who: 'b' });
    for (let i = 0; i < 4; i++) store(cache, `filler-${i}-0123456789abcdef`, {});
    assert.deepEqual(cache.get(`b${tail}`, 0), { who: 'b' }, 'found in the old generation too');
    assert.equal(cache.get(`c${tail}`, 0), undefined);
  });

  test('VerifiedTokenCache keeps tokens in use, forgets idle ones, drops expired ones on read', () => {
    const cache = new VerifiedTokenCache(8);
    store(cache, 'idle', {});
    store(cache, 'busy', {});
    for (let i = 0; i < 20; i++) {
      const token = `t${i}`;
      store(cache, token, {});
      assert.deepEqual(cache.get('busy', 0), {}, 'a token in use stays');
    }
    assert.equal(cache.get('idle', 0), undefined, 'an idle token is forgotten');
    assert.ok(cache.size <= 8);
    store(cache, 'x', { exp: 10 });
    assert.equal(cache.get('x', 10), undefined);
    store(cache, 'y', { nbf: 10 });
    assert.equal(cache.get('y', 9), undefined);
    assert.equal(cache.delete('busy'), true);
    cache.clear();
    assert.equal(cache.size, 0);
  });

  test('VerifiedTokenCache admits a token on its second set; clear() forgets first sightings too', () => {
    const cache = new VerifiedTokenCache(8);
    const token = 'header.payload.signature-0123456789';
    cache.set(token, { n: 1 });
    assert.equal(cache.size, 0);
    assert.equal(cache.get(token, 0), undefined);
    cache.set(token, { n: 2 });
    assert.deepEqual(cache.get(token, 0), { n: 2 });
    cache.clear();
    cache.set(token, { n: 3 });
    assert.equal(cache.size, 0, 'the earlier sighting was cleared');
  });
});
