import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { JwtGuardError, normalizeOptions, type JwtGuardOptions } from '../../../src/index.js';

const quiet = { onWarning: () => {} };

function rejects(options: unknown, pattern: RegExp): void {
  assert.throws(
    () => normalizeOptions(options as JwtGuardOptions),
    (error: unknown) => error instanceof JwtGuardError && error.code === 'invalid_options' && pattern.test(error.message),
  );
}

describe('normalizeOptions', () => {
  test('defaults: HS256, Authorization header, 1h expiry, no delay, preflight unguarded', () => {
    const config = normalizeOptions({ secret: 'x'.repeat(32) });
    assert.equal(config.algorithm, 'HS256');
    assert.deepEqual(config.algorithms, ['HS256']);
    assert.deepEqual({ ...config.sources }, { header: 'authorization', cookie: undefined, query: undefined });
    assert.equal(config.expiresInSeconds, 3600);
    assert.equal(config.delayMs, 0);
    assert.equal(config.guardPreflight, false);
    assert.equal(config.authPath, undefined);
  });

  test('a missing, empty or non-string secret fails with a message that says how to fix it', () => {
    rejects({}, /a key is required: `secret` for HS256/);
    rejects({ secret: '' }, /`secret` is empty/);
    rejects({ secret: new Uint8Array() }, /empty byte array/);
    rejects({ secret: 42 }, /`secret` must be a string, Uint8Array/);
    rejects(undefined, /options are required/);
  });

  test('an unknown algorithm fails and lists the allowed ones', () => {
    rejects({ secret: 's'.repeat(64), algorithm: 'XX256' }, /`algorithm` must be one of "HS256", .*"EdDSA"/);
    rejects({ secret: 's'.repeat(64), algorithm: 'none' }, /"HS256"/);
    rejects({ secret: 's'.repeat(64), algorithm: 'hs256' }, /"HS256"/);
    rejects({ secret: 's'.repeat(64), algorithm: 'RS256' }, /RS256 is allowed but no configured key can verify it/);
  });

  test('delay accepts ms strings and numbers; anything unparsable fails', () => {
    assert.equal(normalizeOptions({ secret: 's'.repeat(32), delay: '100ms' }).delayMs, 100);
    assert.equal(normalizeOptions({ secret: 's'.repeat(32), delay: '1s' }).delayMs, 1000);
    assert.equal(normalizeOptions({ secret: 's'.repeat(32), delay: 250 }).delayMs, 250);
    rejects({ secret: 's'.repeat(32), delay: 'soon' }, /`delay` must be a non-negative duration/);
    rejects({ secret: 's'.repeat(32), delay: -5 }, /`delay`/);
    rejects({ secret: 's'.repeat(32), delay: Number.NaN }, /`delay`/);
  });

  test('expiresIn: ms strings become seconds, numbers are seconds, false disables, junk fails', () => {
    assert.equal(normalizeOptions({ secret: 's'.repeat(32), expiresIn: '15m' }).expiresInSeconds, 900);
    assert.equal(normalizeOptions({ secret: 's'.repeat(32), expiresIn: 60 }).expiresInSeconds, 60);
    assert.equal(normalizeOptions({ secret: 's'.repeat(32), expiresIn: false }).expiresInSeconds, undefined);
    rejects({ secret: 's'.repeat(32), expiresIn: 'later' }, /`expiresIn`/);
    rejects({ secret: 's'.repeat(32), expiresIn: 0 }, /`expiresIn`/);
  });

  test('mintBodyLimit: 64 KiB by default, any whole number of bytes from 1; anything else fails', () => {
    assert.equal(normalizeOptions({ secret: 's'.repeat(32) }).mintBodyLimit, 65_536);
    assert.equal(normalizeOptions({ secret: 's'.repeat(32), mintBodyLimit: 1 }).mintBodyLimit, 1);
    assert.equal(normalizeOptions({ secret: 's'.repeat(32), mintBodyLimit: 1_000_000 }).mintBodyLimit, 1_000_000);
    for (const bad of [0, -1, 1.5, Number.NaN, Infinity, 2 ** 31, '64kb', null]) {
      rejects({ secret: 's'.repeat(32), mintBodyLimit: bad }, /`mintBodyLimit` must be a whole number of bytes from 1 to \d+, e\.g\. 65536/);
    }
  });

  test('maxExpiresIn: unset by default; caps expiresIn, fills in for expiresIn: false, shrinks the default', () => {
    const secret = 's'.repeat(32);
    assert.equal(normalizeOptions({ secret }).maxExpiresInSeconds, undefined);
    assert.deepEqual(
      [normalizeOptions({ secret, maxExpiresIn: '1d' }), normalizeOptions({ secret, maxExpiresIn: 600 }), normalizeOptions({ secret, maxExpiresIn: '1h', expiresIn: false }), normalizeOptions({ secret, maxExpiresIn: '1h', expiresIn: '1h' })].map((c) => [
        c.maxExpiresInSeconds,
        c.expiresInSeconds,
      ]),
      [
        [86_400, 3600],
        [600, 600],
        [3600, 3600],
        [3600, 3600],
      ],
    );
    rejects({ secret, maxExpiresIn: '1h', expiresIn: '2h' }, /`expiresIn` \(7200 s\) is longer than `maxExpiresIn` \(3600 s\): shorten `expiresIn` or raise `maxExpiresIn`/);
    for (const bad of ['soon', 0, -1, '500ms', '3600', false, null]) rejects({ secret, maxExpiresIn: bad }, /`maxExpiresIn` must be a duration of at least one second/);
  });

  test('authPath must be a path without query', () => {
    rejects({ secret: 's'.repeat(32), authPath: 'api/login' }, /`authPath` must be a path/);
    rejects({ secret: 's'.repeat(32), authPath: '/login?x=1' }, /`authPath`/);
  });

  test('empty source names fail', () => {
    rejects({ secret: 's'.repeat(32), header: ' ' }, /`header` must be a non-empty string/);
    rejects({ secret: 's'.repeat(32), cookie: '' }, /`cookie`/);
  });

  test('a secret shorter than the hash output warns (without the secret) but works — the seed example', () => {
    const warnings: string[] = [];
    const secret = 'MySuperSecretKeyThatIsVeryLongAndSecure';
    const config = normalizeOptions({ secret, algorithm: 'HS512', onWarning: (m) => warnings.push(m) });
    assert.equal(config.algorithm, 'HS512');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0] ?? '', /39 bytes, shorter than the 64-byte output of HS512/);
    assert.ok(!warnings[0]?.includes(secret));
    normalizeOptions({ secret: 's'.repeat(64), algorithm: 'HS512', onWarning: (m) => warnings.push(m) });
    assert.equal(warnings.length, 1, 'a long enough secret does not warn');
  });

  test('error messages never contain the secret', () => {
    const secret = 'top-secret-value-that-must-not-leak';
    for (const bad of [{ secret, algorithm: 'XX' }, { secret, delay: 'x' }, { secret, expiresIn: 'x' }, { secret, header: '' }]) {
      assert.throws(() => normalizeOptions({ ...quiet, ...bad } as JwtGuardOptions), (e: unknown) => e instanceof Error && !e.message.includes(secret));
    }
  });

  test('the result is cached per options object, and a Uint8Array secret is copied', () => {
    const bytes = new Uint8Array(32).fill(7);
    const options = { secret: bytes };
    const first = normalizeOptions(options);
    assert.equal(normalizeOptions(options), first);
    bytes.fill(0);
    assert.equal(first.keys.secret?.[0], 7);
  });
});
