// Differential test: the synchronous node:crypto path must decide exactly as jose.jwtVerify does
// (same accept/reject, same error code, same payload) on valid, mutated and random tokens.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { base64url } from 'jose';
import { createHmac } from 'node:crypto';
import { JwtGuardError, normalizeOptions } from '../../../src/index.js';
import { precheck, verifyWith, verifyWithJose } from '../../../src/core/verify/verify-token.js';
import { STRONG_SECRET } from '../../support/tokens.js';

const config = normalizeOptions({ secret: STRONG_SECRET, algorithm: 'HS256', cacheSize: 0 });
const now = () => Math.floor(Date.now() / 1000);

type Verdict = { ok: true; payload: unknown } | { ok: false; code: string };

async function settle(promise: Promise<unknown>): Promise<Verdict> {
  try {
    return { ok: true, payload: await promise };
  } catch (error) {
    assert.ok(error instanceof JwtGuardError, `non-library error: ${String(error)}`);
    return { ok: false, code: error.code };
  }
}

/** jose alone, behind the same prechecks: the reference. */
function reference(token: string): Promise<Verdict> {
  const rejected = precheck(token, config);
  return settle(rejected ? Promise.reject(rejected) : verifyWithJose(token, config));
}

const fastDecisions = { decided: 0, deferred: 0 };
async function fastThenJose(token: string): Promise<Verdict> {
  if (precheck(token, config) === undefined) {
    if (config.fastPath?.(token, now()) === undefined) fastDecisions.deferred++;
    else fastDecisions.decided++;
  }
  return settle(verifyWith(token, config));
}

async function assertSameVerdict(token: string): Promise<void> {
  const [expected, actual] = await Promise.all([reference(token), fastThenJose(token)]);
  assert.deepEqual(actual, expected, `token ${token}`);
}

function sign(header: unknown, payload: unknown, secret = STRONG_SECRET): string {
  const input = `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(payload))}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const claimValue = fc.oneof(
  fc.constant(undefined),
  fc.integer({ min: -5, max: 5 }).map((d) => now() + d * 1000),
  fc.double({ noNaN: true }),
  fc.string({ maxLength: 5 }),
  fc.constant(null),
  fc.boolean(),
);
const header = fc.oneof(
  fc.constant({ alg: 'HS256', typ: 'JWT' }),
  fc.constant({ alg: 'HS256' }),
  fc.record({ alg: fc.constantFrom('HS256', 'HS384', 'none', 'RS256', 'hs256'), typ: fc.constantFrom('JWT', 'at+jwt') }),
  fc.record({ alg: fc.constant('HS256'), crit: fc.constantFrom(['b64'], [], ['exp'], 'b64'), b64: fc.boolean() }),
  fc.jsonValue(),
);
const payload = fc.oneof(
  fc.record({ sub: fc.string(), exp: claimValue, nbf: claimValue, iat: claimValue }, { requiredKeys: [] }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })),
  fc.jsonValue({ maxDepth: 2 }),
);

describe('HMAC fast path ≡ jose.jwtVerify', () => {
  test('the fast path exists on Node', () => {
    assert.equal(typeof config.fastPath, 'function');
  });

  test('valid-signature tokens with random headers and claims', async () => {
    await fc.assert(fc.asyncProperty(header, payload, async (h, p) => assertSameVerdict(sign(h, p))), { numRuns: 600 });
  });

  test('claim boundaries: exp and nbf at, just before and just after now; non-numeric and non-finite dates', async () => {
    const t = now();
    const values: unknown[] = [t - 1, t, t + 1, t + 0.5, t - 0.5, 1e308, -1, 0, '1', null, true, [t + 10]];
    for (const value of values) {
      for (const claim of ['exp', 'nbf', 'iat']) await assertSameVerdict(sign({ alg: 'HS256', typ: 'JWT' }, { sub: 'x', [claim]: value }));
    }
  });

  test('wrong secret, and single-character mutations of valid tokens', async () => {
    await fc.assert(
      fc.asyncProperty(payload, fc.nat(), fc.constantFrom(...B64URL), fc.boolean(), async (p, at, char, wrongSecret) => {
        const token = sign({ alg: 'HS256', typ: 'JWT' }, p, wrongSecret ? 'another-secret-of-decent-length-0123456789' : STRONG_SECRET);
        const i = at % token.length;
        await assertSameVerdict(`${token.slice(0, i)}${char}${token.slice(i + 1)}`);
        await assertSameVerdict(`${token.slice(0, i)}${token.slice(i + 1)}`);
      }),
      { numRuns: 400 },
    );
  });

  test('random strings', async () => {
    const segment = fc.string({ unit: fc.constantFrom(...B64URL, '=', '+', ' '), maxLength: 40 });
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), fc.tuple(segment, segment, segment).map((parts) => parts.join('.'))), assertSameVerdict),
      { numRuns: 400 },
    );
  });

  test('the fast path decided most canonical tokens itself (the comparison above was not vacuous)', () => {
    assert.ok(fastDecisions.decided > 200, JSON.stringify(fastDecisions));
  });
});
