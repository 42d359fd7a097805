// Claim options (issuer, audience, subject, typ, maxTokenAge, clockTolerance, requiredClaims,
// currentDate): jose's names, units and verdicts. Every case is decided three ways that must agree
// exactly: the default configuration (verified-token cache + HMAC fast path), `cacheSize: 0`
// (fast path, then jose) and jose alone (`precheck` + `verifyWithJose`), the reference.
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { describe, test, type TestContext } from 'node:test';
import fc from 'fast-check';
import { SignJWT, base64url, decodeProtectedHeader } from 'jose';
import { JwtGuardError, normalizeOptions, signToken, verifyToken, type JwtGuardOptions } from '../../../src/index.js';
import { precheck, verifyWith, verifyWithJose } from '../../../src/core/verify/verify-token.js';
import { cachedPayload } from '../../support/cache.js';
import { STRONG_SECRET, decodePayload } from '../../support/tokens.js';

/** The frozen "now" of every test, in seconds (between 2^30 and 2^31). */
const T = 1_770_000_000;
const ISS_A = 'https://issuer-a.example';
const ISS_B = 'https://issuer-b.example';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Freezes `Date` (only `Date`: timers stay real) at `seconds`; restored when the test ends. */
function freeze(t: TestContext, seconds = T): void {
  t.mock.timers.enable({ apis: ['Date'], now: seconds * 1000 });
}

/** A correctly HMAC-signed compact JWS with any header and payload (jose's SignJWT would refuse some of them). */
function sign(payload: unknown, header: unknown = { alg: 'HS256', typ: 'JWT' }): string {
  const input = `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(payload))}`;
  return `${input}.${createHmac('sha256', STRONG_SECRET).update(input).digest('base64url')}`;
}

type Verdict = { ok: true; payload: unknown } | { ok: false; code: string; claim: string | undefined; status: number };

async function settle(promise: Promise<unknown>): Promise<Verdict> {
  try {
    return { ok: true, payload: await promise };
  } catch (error) {
    assert.ok(error instanceof JwtGuardError, `non-library error: ${String(error)}`);
    return { ok: false, code: error.code, claim: error.claim, status: error.status };
  }
}

/** jose alone, behind the shared prechecks: the reference verdict. */
function joseAlone(token: string, options: JwtGuardOptions): Promise<Verdict> {
  const config = normalizeOptions({ ...options, cacheSize: 0 });
  const rejected = precheck(token, config);
  return settle(rejected ? Promise.reject(rejected) : verifyWithJose(token, config));
}

/** Decides `token` in all three configurations (the cached one three times: first, admission, hit), asserts they agree, returns the verdict. */
async function decide(token: string, claimOptions: JwtGuardOptions): Promise<Verdict> {
  const base: JwtGuardOptions = { secret: STRONG_SECRET, ...claimOptions };
  const reference = await joseAlone(token, base);
  const cached = { ...base };
  assert.deepEqual(await settle(verifyToken(token, cached)), reference, 'default (cache + fast path) disagrees with jose');
  assert.deepEqual(await settle(verifyToken(token, cached)), reference, 'default, second call (cache admission) disagrees with jose');
  assert.deepEqual(await settle(verifyToken(token, cached)), reference, 'default, third call (cache hit) disagrees with jose');
  assert.deepEqual(await settle(verifyToken(token, { ...base, cacheSize: 0 })), reference, 'cacheSize: 0 (fast path, then jose) disagrees with jose');
  return reference;
}

function assertVerdict(verdict: Verdict, expected: 'ok' | readonly [code: string, claim: string | undefined]): void {
  if (expected === 'ok') {
    assert.equal(verdict.ok, true, `expected acceptance, got ${JSON.stringify(verdict)}`);
    return;
  }
  const [code, claim] = expected;
  assert.deepEqual(verdict, { ok: false, code, claim, status: code === 'invalid_options' ? 500 : 401 });
}

interface Case {
  readonly name: string;
  readonly options: JwtGuardOptions;
  readonly payload: Record<string, unknown>;
  readonly header?: Record<string, unknown>;
  readonly expect: 'ok' | readonly [string, string | undefined];
}

const OK = 'ok' as const;
const invalid = (claim: string) => ['claim_invalid', claim] as const;
const expired = (claim: string) => ['token_expired', claim] as const;
const notYet = ['token_not_yet_valid', 'nbf'] as const;
const PAST = new Date((T - 100_000) * 1000); // a fixed currentDate, ~28h before the frozen now

const cases: Case[] = [
  // issuer
  { name: 'issuer: matching iss', options: { issuer: ISS_A }, payload: { iss: ISS_A }, expect: OK },
  { name: 'issuer: other iss', options: { issuer: ISS_A }, payload: { iss: ISS_B }, expect: invalid('iss') },
  { name: 'issuer: missing iss', options: { issuer: ISS_A }, payload: { sub: 'u' }, expect: invalid('iss') },
  { name: 'issuer: non-string iss', options: { issuer: ISS_A }, payload: { iss: 42 }, expect: invalid('iss') },
  { name: 'issuer: iss as a list is not a match', options: { issuer: ISS_A }, payload: { iss: [ISS_A] }, expect: invalid('iss') },
  { name: 'issuer: iss differing in case', options: { issuer: ISS_A }, payload: { iss: ISS_A.toUpperCase() }, expect: invalid('iss') },
  { name: 'issuer list: second entry', options: { issuer: [ISS_A, ISS_B] }, payload: { iss: ISS_B }, expect: OK },
  { name: 'issuer list: none of them', options: { issuer: [ISS_A, ISS_B] }, payload: { iss: 'https://c.example' }, expect: invalid('iss') },
  // audience
  { name: 'audience: aud string match', options: { audience: 'api' }, payload: { aud: 'api' }, expect: OK },
  { name: 'audience: aud list naming it', options: { audience: 'api' }, payload: { aud: ['other', 'api'] }, expect: OK },
  { name: 'audience: other aud', options: { audience: 'api' }, payload: { aud: 'other' }, expect: invalid('aud') },
  { name: 'audience: empty aud list', options: { audience: 'api' }, payload: { aud: [] }, expect: invalid('aud') },
  { name: 'audience: missing aud', options: { audience: 'api' }, payload: { sub: 'u' }, expect: invalid('aud') },
  { name: 'audience: numeric aud', options: { audience: 'api' }, payload: { aud: 7 }, expect: invalid('aud') },
  { name: 'audience list: aud names the second', options: { audience: ['api', 'admin'] }, payload: { aud: 'admin' }, expect: OK },
  { name: 'audience list: aud list overlaps', options: { audience: ['api', 'admin'] }, payload: { aud: ['x', 'admin'] }, expect: OK },
  { name: 'audience list: no overlap', options: { audience: ['api', 'admin'] }, payload: { aud: ['x', 'y'] }, expect: invalid('aud') },
  // subject
  { name: 'subject: matching sub', options: { subject: 'user-1' }, payload: { sub: 'user-1' }, expect: OK },
  { name: 'subject: other sub', options: { subject: 'user-1' }, payload: { sub: 'user-2' }, expect: invalid('sub') },
  { name: 'subject: missing sub', options: { subject: 'user-1' }, payload: { iss: ISS_A }, expect: invalid('sub') },
  { name: 'subject: numeric sub', options: { subject: '1' }, payload: { sub: 1 }, expect: invalid('sub') },
  // typ (a header, compared case-insensitively with "application/" implied, as jose does)
  { name: 'typ: exact', options: { typ: 'at+jwt' }, header: { alg: 'HS256', typ: 'at+jwt' }, payload: {}, expect: OK },
  { name: 'typ: different case', options: { typ: 'at+jwt' }, header: { alg: 'HS256', typ: 'AT+JWT' }, payload: {}, expect: OK },
  { name: 'typ: with application/ prefix', options: { typ: 'at+jwt' }, header: { alg: 'HS256', typ: 'application/at+jwt' }, payload: {}, expect: OK },
  { name: 'typ: option with prefix, header without', options: { typ: 'application/at+jwt' }, header: { alg: 'HS256', typ: 'at+jwt' }, payload: {}, expect: OK },
  { name: 'typ: JWT vs jwt', options: { typ: 'JWT' }, header: { alg: 'HS256', typ: 'jwt' }, payload: {}, expect: OK },
  { name: 'typ: wrong typ', options: { typ: 'at+jwt' }, header: { alg: 'HS256', typ: 'JWT' }, payload: {}, expect: invalid('typ') },
  { name: 'typ: missing typ', options: { typ: 'at+jwt' }, header: { alg: 'HS256' }, payload: {}, expect: invalid('typ') },
  { name: 'typ: non-string typ', options: { typ: 'at+jwt' }, header: { alg: 'HS256', typ: 5 }, payload: {}, expect: invalid('typ') },
  // requiredClaims (jose reports the last listed missing claim first)
  { name: 'requiredClaims: all present', options: { requiredClaims: ['jti', 'sub'] }, payload: { jti: 'j', sub: 'u' }, expect: OK },
  { name: 'requiredClaims: present with a null value', options: { requiredClaims: ['jti'] }, payload: { jti: null }, expect: OK },
  { name: 'requiredClaims: jti missing', options: { requiredClaims: ['jti', 'sub'] }, payload: { sub: 'u' }, expect: invalid('jti') },
  { name: 'requiredClaims: both missing', options: { requiredClaims: ['jti', 'sub'] }, payload: { x: 1 }, expect: invalid('sub') },
  { name: 'requiredClaims: exp missing', options: { requiredClaims: ['exp'] }, payload: { sub: 'u' }, expect: invalid('exp') },
  { name: 'requiredClaims: [] requires nothing', options: { requiredClaims: [] }, payload: {}, expect: OK },
  // maxTokenAge (makes iat required; numbers are seconds)
  { name: 'maxTokenAge: young token', options: { maxTokenAge: 60 }, payload: { iat: T - 30 }, expect: OK },
  { name: 'maxTokenAge: exactly max old', options: { maxTokenAge: 60 }, payload: { iat: T - 60 }, expect: OK },
  { name: 'maxTokenAge: one second too old', options: { maxTokenAge: 60 }, payload: { iat: T - 61 }, expect: expired('iat') },
  { name: 'maxTokenAge "1m": one second too old', options: { maxTokenAge: '1m' }, payload: { iat: T - 61 }, expect: expired('iat') },
  { name: 'maxTokenAge "1m": exactly max old', options: { maxTokenAge: '1m' }, payload: { iat: T - 60 }, expect: OK },
  { name: 'maxTokenAge: missing iat', options: { maxTokenAge: 60 }, payload: { sub: 'u' }, expect: invalid('iat') },
  { name: 'maxTokenAge: string iat', options: { maxTokenAge: 60 }, payload: { iat: String(T) }, expect: invalid('iat') },
  { name: 'maxTokenAge: iat one second in the future', options: { maxTokenAge: 60 }, payload: { iat: T + 1 }, expect: invalid('iat') },
  { name: 'maxTokenAge: iat now', options: { maxTokenAge: 60 }, payload: { iat: T }, expect: OK },
  { name: 'maxTokenAge + tolerance 5: iat 5s in the future', options: { maxTokenAge: 60, clockTolerance: 5 }, payload: { iat: T + 5 }, expect: OK },
  { name: 'maxTokenAge + tolerance 5: iat 6s in the future', options: { maxTokenAge: 60, clockTolerance: 5 }, payload: { iat: T + 6 }, expect: invalid('iat') },
  { name: 'maxTokenAge + tolerance 5: 65s old', options: { maxTokenAge: 60, clockTolerance: 5 }, payload: { iat: T - 65 }, expect: OK },
  { name: 'maxTokenAge + tolerance 5: 66s old', options: { maxTokenAge: 60, clockTolerance: 5 }, payload: { iat: T - 66 }, expect: expired('iat') },
  { name: 'no maxTokenAge: a future iat is not checked', options: {}, payload: { iat: T + 100_000 }, expect: OK },
  { name: 'no maxTokenAge: a non-numeric iat is still invalid', options: {}, payload: { iat: 'yesterday' }, expect: invalid('iat') },
  // exp / nbf without tolerance
  { name: 'exp one second ahead', options: {}, payload: { exp: T + 1 }, expect: OK },
  { name: 'exp now', options: {}, payload: { exp: T }, expect: expired('exp') },
  { name: 'nbf now', options: {}, payload: { nbf: T }, expect: OK },
  { name: 'nbf one second ahead', options: {}, payload: { nbf: T + 1 }, expect: notYet },
  { name: 'non-numeric exp', options: {}, payload: { exp: String(T + 60) }, expect: invalid('exp') },
  { name: 'null nbf', options: {}, payload: { nbf: null }, expect: invalid('nbf') },
  // clockTolerance as a number and as a string widens exp and nbf
  { name: 'clockTolerance 30: exp 29s ago', options: { clockTolerance: 30 }, payload: { exp: T - 29 }, expect: OK },
  { name: 'clockTolerance 30: exp 30s ago', options: { clockTolerance: 30 }, payload: { exp: T - 30 }, expect: expired('exp') },
  { name: 'clockTolerance 30: nbf 30s ahead', options: { clockTolerance: 30 }, payload: { nbf: T + 30 }, expect: OK },
  { name: 'clockTolerance 30: nbf 31s ahead', options: { clockTolerance: 30 }, payload: { nbf: T + 31 }, expect: notYet },
  { name: 'clockTolerance "30s": exp 29s ago', options: { clockTolerance: '30s' }, payload: { exp: T - 29 }, expect: OK },
  { name: 'clockTolerance "30s": exp 30s ago', options: { clockTolerance: '30s' }, payload: { exp: T - 30 }, expect: expired('exp') },
  { name: 'clockTolerance "30s": nbf 30s ahead', options: { clockTolerance: '30s' }, payload: { nbf: T + 30 }, expect: OK },
  { name: 'clockTolerance "30s": nbf 31s ahead', options: { clockTolerance: '30s' }, payload: { nbf: T + 31 }, expect: notYet },
  { name: 'clockTolerance "1m": exp 59s ago', options: { clockTolerance: '1m' }, payload: { exp: T - 59 }, expect: OK },
  { name: 'clockTolerance 0.5: exp 0.25s ago', options: { clockTolerance: 0.5 }, payload: { exp: T - 0.25 }, expect: OK },
  { name: 'clockTolerance 0.5: exp 0.5s ago', options: { clockTolerance: 0.5 }, payload: { exp: T - 0.5 }, expect: expired('exp') },
  { name: 'clockTolerance 0: same as none', options: { clockTolerance: 0 }, payload: { exp: T }, expect: expired('exp') },
  // currentDate fixes "now"
  { name: 'currentDate: a token expired in real time is valid at currentDate', options: { currentDate: PAST }, payload: { exp: T - 50_000 }, expect: OK },
  { name: 'currentDate: exp at currentDate', options: { currentDate: PAST }, payload: { exp: T - 100_000 }, expect: expired('exp') },
  { name: 'currentDate: a token valid in real time is not yet valid at currentDate', options: { currentDate: PAST }, payload: { nbf: T - 50_000 }, expect: notYet },
  { name: 'currentDate + maxTokenAge: age measured from currentDate', options: { currentDate: PAST, maxTokenAge: 60 }, payload: { iat: T - 100_030 }, expect: OK },
  { name: 'currentDate + maxTokenAge: too old at currentDate', options: { currentDate: PAST, maxTokenAge: 60 }, payload: { iat: T - 100_061 }, expect: expired('iat') },
  { name: 'currentDate + maxTokenAge: a real-time iat is in the future at currentDate', options: { currentDate: PAST, maxTokenAge: 60 }, payload: { iat: T }, expect: invalid('iat') },
  { name: 'currentDate + clockTolerance', options: { currentDate: PAST, clockTolerance: '10s' }, payload: { exp: T - 100_009 }, expect: OK },
  // everything at once
  {
    name: 'all claim options together: accepted',
    options: { issuer: [ISS_A, ISS_B], audience: 'api', subject: 'user-1', typ: 'at+jwt', maxTokenAge: '5m', clockTolerance: '10s', requiredClaims: ['jti'] },
    header: { alg: 'HS256', typ: 'at+jwt' },
    payload: { iss: ISS_B, aud: ['api'], sub: 'user-1', jti: 'j1', iat: T - 300, nbf: T + 10, exp: T - 9 },
    expect: OK,
  },
  {
    name: 'all claim options together: typ is checked before the claims',
    options: { issuer: ISS_A, audience: 'api', subject: 'user-1', typ: 'at+jwt', maxTokenAge: 60 },
    header: { alg: 'HS256', typ: 'JWT' },
    payload: { iss: ISS_B, aud: 'x', sub: 'other' },
    expect: invalid('typ'),
  },
];

describe('claim options: the same verdict with cache + fast path, fast path + jose, and jose alone', () => {
  for (const c of cases) {
    test(c.name, async (t) => {
      freeze(t);
      const token = sign(c.payload, c.header ?? { alg: 'HS256', typ: 'JWT' });
      assertVerdict(await decide(token, c.options), c.expect);
    });
  }

  test('the fast path itself accepts the accepted HMAC cases (they did not all fall through to jose)', async (t) => {
    freeze(t);
    const accepted = cases.filter((c) => c.expect === OK);
    let decided = 0;
    for (const c of accepted) {
      const config = normalizeOptions({ secret: STRONG_SECRET, cacheSize: 0, ...c.options });
      const verdict = config.fastPath?.(sign(c.payload, c.header ?? { alg: 'HS256', typ: 'JWT' }), config.claims.now());
      if (verdict !== undefined && !(verdict instanceof JwtGuardError)) decided++;
    }
    assert.equal(decided, accepted.length);
  });

  test('an asymmetric (jose-only) token gets the same claim verdicts', async (t) => {
    freeze(t);
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const options: JwtGuardOptions = { publicKey, issuer: ISS_A, audience: 'api', maxTokenAge: 60 };
    const good = await new SignJWT({ iss: ISS_A, aud: 'api', iat: T - 10 }).setProtectedHeader({ alg: 'ES256' }).sign(privateKey);
    const old = await new SignJWT({ iss: ISS_A, aud: 'api', iat: T - 61 }).setProtectedHeader({ alg: 'ES256' }).sign(privateKey);
    const wrongAud = await new SignJWT({ iss: ISS_A, aud: 'web', iat: T }).setProtectedHeader({ alg: 'ES256' }).sign(privateKey);
    assert.equal((await verifyToken(good, { ...options })).aud, 'api');
    await assert.rejects(verifyToken(old, { ...options }), { code: 'token_expired', claim: 'iat' });
    await assert.rejects(verifyToken(wrongAud, { ...options }), { code: 'claim_invalid', claim: 'aud' });
  });
});

// --- differential property ---------------------------------------------------------------------

const FIXED = new Date((T - 86_400) * 1000);
const w = <V>(arbitrary: fc.Arbitrary<V>, weight: number) => ({ arbitrary, weight });

const configArb = fc.record({
  issuer: fc.oneof(w(fc.constant(undefined), 2), w(fc.constant(ISS_A), 2), w(fc.constant<string[]>([ISS_A, ISS_B]), 1)),
  audience: fc.oneof(w(fc.constant(undefined), 2), w(fc.constant('api'), 2), w(fc.constant<string[]>(['api', 'admin']), 1)),
  subject: fc.oneof(w(fc.constant(undefined), 3), w(fc.constant('user-1'), 1)),
  typ: fc.oneof(w(fc.constant(undefined), 3), w(fc.constantFrom('JWT', 'at+jwt', 'application/at+jwt'), 1)),
  maxTokenAge: fc.oneof(w(fc.constant(undefined), 2), w(fc.constantFrom<string | number>(60, '2m', 0.5), 1)),
  clockTolerance: fc.oneof(w(fc.constant(undefined), 2), w(fc.constantFrom<string | number>(0, 5, '30s', 0.5, 0.25), 1)),
  requiredClaims: fc.oneof(w(fc.constant(undefined), 3), w(fc.constantFrom<string[]>([], ['jti'], ['sub', 'exp'], ['iss', 'nbf']), 1)),
  currentDate: fc.oneof(w(fc.constant(undefined), 3), w(fc.constant(FIXED), 1)),
});

/** A time claim as an offset from "now" (numbers) or a junk value (anything else). */
const timeArb = fc.oneof(
  w(fc.constant(undefined), 6),
  w(fc.integer({ min: -150, max: 150 }), 3),
  w(fc.constantFrom(-121, -120, -61, -60, -59, -31, -30, -29, -6, -5, -4, -1, 0, 1, 4, 5, 6, 29, 30, 31, 59, 60, 61), 4),
  w(fc.constantFrom(-0.75, -0.5, -0.25, 0.25, 0.5, 0.75, -60.5, 60.5, -30.25, 30.25, -5.5, 5.5), 2),
  w(fc.constantFrom<unknown>('1', null, true, 1e308, -1e308, [0], {}), 1),
);

const payloadArb = fc.record(
  {
    iss: fc.oneof(w(fc.constant(ISS_A), 5), w(fc.constant(ISS_B), 2), w(fc.constantFrom<unknown>('https://c.example', 42, null, [ISS_A], ''), 1)),
    aud: fc.oneof(w(fc.constantFrom<unknown>('api', ['api'], ['x', 'admin']), 5), w(fc.constantFrom<unknown>('admin', 'x', [], ['x'], 7, null, [1, 'y']), 1)),
    sub: fc.oneof(w(fc.constant('user-1'), 5), w(fc.constantFrom<unknown>('user-2', 1, null, ''), 1)),
    jti: fc.constantFrom<unknown>('j1', null),
    exp: timeArb,
    nbf: timeArb,
    iat: timeArb,
  },
  { requiredKeys: [] },
);

const headerArb = fc.oneof(
  w(fc.constantFrom<unknown>({ alg: 'HS256', typ: 'JWT' }, { alg: 'HS256', typ: 'at+jwt' }), 5),
  w(
    fc.record({ alg: fc.constant('HS256'), typ: fc.constantFrom<unknown>(undefined, 'jwt', 'AT+JWT', 'application/at+jwt', 'application/jwt', 'at-jwt', 5, null) }, { requiredKeys: ['alg'] }),
    2,
  ),
);

function materialize(spec: Record<string, unknown>, base: number): Record<string, unknown> {
  const payload: Record<string, unknown> = {};
  for (const [claim, value] of Object.entries(spec)) {
    if (value === undefined) continue;
    payload[claim] = ['exp', 'nbf', 'iat'].includes(claim) && typeof value === 'number' ? base + value : value;
  }
  return payload;
}

describe('claim options: fast path ≡ jose (property)', () => {
  test('random claim configurations and payloads around their boundaries', async (t) => {
    freeze(t);
    const stats = { runs: 0, fastAccepted: 0, joseAccepted: 0 };
    await fc.assert(
      fc.asyncProperty(configArb, payloadArb, headerArb, async (claimOptions, spec, header) => {
        const options: JwtGuardOptions = { secret: STRONG_SECRET, ...claimOptions };
        const base = claimOptions.currentDate === undefined ? T : Math.floor(claimOptions.currentDate.getTime() / 1000);
        const token = sign(materialize(spec, base), header);
        const config = normalizeOptions({ ...options, cacheSize: 0 });
        const fast = config.fastPath?.(token, config.claims.now());
        assert.ok(!(fast instanceof JwtGuardError), 'a correctly signed token must never be rejected by the fast path itself');
        const reference = await joseAlone(token, options);
        assert.deepEqual(await settle(verifyWith(token, config)), reference, 'fast path + jose disagrees with jose');
        if (fast !== undefined) assert.equal(reference.ok, true, 'the fast path accepted what jose rejects');
        // and the cached configuration, three times (the third call is a cache hit when accepted)
        const cached = { ...options };
        for (let call = 0; call < 3; call++) assert.deepEqual(await settle(verifyToken(token, cached)), reference);
        stats.runs++;
        if (fast !== undefined) stats.fastAccepted++;
        if (reference.ok) stats.joseAccepted++;
      }),
      { numRuns: 1500 },
    );
    // Not vacuous: many tokens were accepted, and the fast path decided (almost) all of those itself.
    assert.ok(stats.joseAccepted >= stats.runs * 0.08, JSON.stringify(stats));
    assert.ok(stats.fastAccepted >= stats.joseAccepted * 0.9, JSON.stringify(stats));
  });
});

// --- known disagreements (BUG) ---------------------------------------------------------------------

describe('claim options: known fast-path disagreements with jose', () => {
  test(
    'requiredClaims naming an Object.prototype member (toString, constructor, __proto__, hasOwnProperty) that the token lacks',
    async (t) => {
      freeze(t);
      for (const name of ['toString', 'constructor', '__proto__', 'hasOwnProperty', 'valueOf']) {
        const verdict = await decide(sign({ sub: 'u' }), { requiredClaims: [name] });
        assertVerdict(verdict, invalid(name));
      }
    },
  );

  test(
    'an iat just beyond a fractional clockTolerance in the future (maxTokenAge set)',
    async (t) => {
      freeze(t);
      // iat is 0.70000004768… s ahead of now: jose refuses it (> 0.7), but T + x - 0.7 rounds to exactly T.
      const iat = T + 2_936_013 / 2 ** 22;
      assert.ok(!(iat - 0.7 > T) && T - iat < -0.7, 'precondition: the two forms of the check disagree on this input');
      for (const clockTolerance of [0.7, '700ms']) {
        const verdict = await decide(sign({ iat }), { maxTokenAge: 60, clockTolerance, currentDate: new Date(T * 1000) });
        assertVerdict(verdict, invalid('iat'));
      }
    },
  );
});

// --- the cache never outlives the claims -------------------------------------------------------

describe('claim options: verified-token cache hits re-check the time claims', () => {
  test('maxTokenAge: a cached token becomes token_expired (claim iat) once too old', async (t) => {
    freeze(t);
    const options: JwtGuardOptions = { secret: STRONG_SECRET, maxTokenAge: 60 };
    const token = sign({ sub: 'u', iat: T, exp: T + 3600 });
    const first = await cachedPayload(token, options);
    assert.equal(normalizeOptions(options).cache?.size, 1);
    t.mock.timers.tick(60_000);
    assert.equal(await verifyToken(token, options), first, 'exactly maxTokenAge old is still accepted (from the cache)');
    t.mock.timers.tick(1_000);
    await assert.rejects(verifyToken(token, options), { code: 'token_expired', claim: 'iat', status: 401 });
    assertVerdict(await decide(token, { maxTokenAge: 60 }), expired('iat'));
  });

  test('maxTokenAge "1m" with clockTolerance "5s": accepted at 65s, expired at 66s', async (t) => {
    freeze(t);
    const options: JwtGuardOptions = { secret: STRONG_SECRET, maxTokenAge: '1m', clockTolerance: '5s' };
    const token = sign({ iat: T });
    const first = await cachedPayload(token, options);
    t.mock.timers.tick(65_000);
    assert.equal(await verifyToken(token, options), first);
    t.mock.timers.tick(1_000);
    await assert.rejects(verifyToken(token, options), { code: 'token_expired', claim: 'iat' });
  });

  test('exp with clockTolerance: a cached token expires exactly when jose says so', async (t) => {
    freeze(t);
    const options: JwtGuardOptions = { secret: STRONG_SECRET, clockTolerance: 30 };
    const token = sign({ exp: T + 10 });
    const first = await cachedPayload(token, options);
    t.mock.timers.tick(39_000);
    assert.equal(await verifyToken(token, options), first);
    t.mock.timers.tick(1_000);
    await assert.rejects(verifyToken(token, options), { code: 'token_expired', claim: 'exp' });
  });

  test('nbf with clockTolerance: a clock stepped back makes a cached token not yet valid', async (t) => {
    freeze(t);
    const options: JwtGuardOptions = { secret: STRONG_SECRET, clockTolerance: 5 };
    const token = sign({ nbf: T });
    const first = await cachedPayload(token, options);
    t.mock.timers.setTime((T - 5) * 1000);
    assert.equal(await verifyToken(token, options), first);
    t.mock.timers.setTime((T - 6) * 1000);
    await assert.rejects(verifyToken(token, options), { code: 'token_not_yet_valid', claim: 'nbf' });
  });

  test('a jose-verified (ES256) token in the cache also expires by maxTokenAge', async (t) => {
    freeze(t);
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const options: JwtGuardOptions = { publicKey, maxTokenAge: 60 };
    const token = await new SignJWT({ sub: 'u' }).setProtectedHeader({ alg: 'ES256' }).setIssuedAt(T).sign(privateKey);
    // The asymmetric fast path knows no key before jose has verified with it: this first verification is jose's.
    assert.equal(normalizeOptions(options).fastPath?.(token, T), undefined);
    await cachedPayload(token, options);
    t.mock.timers.tick(61_000);
    await assert.rejects(verifyToken(token, options), { code: 'token_expired', claim: 'iat' });
  });

  test('currentDate: cache hits are judged at the fixed date, not the wall clock', async (t) => {
    freeze(t);
    const options: JwtGuardOptions = { secret: STRONG_SECRET, currentDate: PAST, maxTokenAge: 60 };
    const token = sign({ iat: T - 100_000, exp: T - 99_000 });
    const first = await cachedPayload(token, options);
    t.mock.timers.tick(10 * 86_400_000);
    assert.equal(await verifyToken(token, options), first);
  });
});

// --- signing adds the claims the guard checks ------------------------------------------------------

describe('claim options: signToken', () => {
  test('issuer, audience, notBefore and jti are added, and the token verifies under the same options', async (t) => {
    freeze(t);
    const options: JwtGuardOptions = { secret: STRONG_SECRET, issuer: ISS_A, audience: ['api', 'admin'], notBefore: '10s', jti: true, maxTokenAge: '1h' };
    const token = await signToken({ sub: 'user-1' }, options);
    const payload = decodePayload(token);
    assert.equal(payload.iss, ISS_A);
    assert.deepEqual(payload.aud, ['api', 'admin']);
    assert.equal(payload.iat, T);
    assert.equal(payload.nbf, T + 10);
    assert.equal(payload.exp, T + 3600);
    assert.match(String(payload.jti), UUID);
    await assert.rejects(verifyToken(token, options), { code: 'token_not_yet_valid', claim: 'nbf' });
    t.mock.timers.tick(10_000);
    const verified = await verifyToken(token, options);
    assert.equal(verified.jti, payload.jti);
    assertVerdict(await decide(token, { issuer: ISS_A, audience: ['api', 'admin'], maxTokenAge: '1h' }), OK);
  });

  test('notBefore 0 and a string audience: verifies at once', async (t) => {
    freeze(t);
    const options: JwtGuardOptions = { secret: STRONG_SECRET, issuer: ISS_A, audience: 'api', notBefore: 0 };
    const token = await signToken({}, options);
    assert.equal(decodePayload(token).nbf, T);
    assert.deepEqual(decodePayload(token).aud, ['api']);
    assert.equal((await verifyToken(token, options)).iss, ISS_A);
  });

  test('an issuer list signs with the first issuer', async (t) => {
    freeze(t);
    const options: JwtGuardOptions = { secret: STRONG_SECRET, issuer: [ISS_B, ISS_A] };
    const token = await signToken({}, options);
    assert.equal(decodePayload(token).iss, ISS_B);
    assert.equal((await verifyToken(token, options)).iss, ISS_B);
  });

  test('jti: two tokens get different random jti; without jti: true there is none', async (t) => {
    freeze(t);
    const options: JwtGuardOptions = { secret: STRONG_SECRET, jti: true };
    const a = decodePayload(await signToken({ sub: 'u' }, options));
    const b = decodePayload(await signToken({ sub: 'u' }, options));
    assert.match(String(a.jti), UUID);
    assert.match(String(b.jti), UUID);
    assert.notEqual(a.jti, b.jti);
    assert.equal(decodePayload(await signToken({ sub: 'u' }, { secret: STRONG_SECRET })).jti, undefined);
  });

  test('claims already in the payload are kept (iss, aud, nbf, jti)', async (t) => {
    freeze(t);
    const options: JwtGuardOptions = { secret: STRONG_SECRET, issuer: ISS_A, audience: 'api', notBefore: '1h', jti: true };
    const payload = decodePayload(await signToken({ iss: ISS_B, aud: 'web', nbf: T - 5, jti: 'mine' }, options));
    assert.deepEqual([payload.iss, payload.aud, payload.nbf, payload.jti], [ISS_B, 'web', T - 5, 'mine']);
  });

  test(
    'typ: a guard configured with typ "at+jwt" verifies the tokens it signs',
    async (t) => {
      freeze(t);
      const options: JwtGuardOptions = { secret: STRONG_SECRET, typ: 'at+jwt' };
      const token = await signToken({ sub: 'u' }, options);
      assert.equal(decodeProtectedHeader(token).typ, 'at+jwt');
      assert.equal((await verifyToken(token, options)).sub, 'u');
    },
  );
});

// --- invalid claim options ---------------------------------------------------------------------

describe('claim options: invalid values fail at construction with invalid_options', () => {
  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['audience: []', { audience: [] }, /`audience`/],
    ['audience: ""', { audience: '' }, /`audience`/],
    ['audience: ["api", 1]', { audience: ['api', 1] }, /`audience`/],
    ['audience: 5', { audience: 5 }, /`audience`/],
    ['issuer: []', { issuer: [] }, /`issuer`/],
    ['issuer: [""]', { issuer: [''] }, /`issuer`/],
    ['issuer: {}', { issuer: {} }, /`issuer`/],
    ['subject: ""', { subject: '' }, /`subject`/],
    ['subject: 1', { subject: 1 }, /`subject`/],
    ['typ: ""', { typ: '' }, /`typ`/],
    ['typ: 5', { typ: 5 }, /`typ`/],
    ['clockTolerance: "soon"', { clockTolerance: 'soon' }, /`clockTolerance`/],
    ['clockTolerance: -1', { clockTolerance: -1 }, /`clockTolerance`/],
    ['clockTolerance: NaN', { clockTolerance: Number.NaN }, /`clockTolerance`/],
    ['clockTolerance: Infinity', { clockTolerance: Number.POSITIVE_INFINITY }, /`clockTolerance`/],
    ['clockTolerance: true', { clockTolerance: true }, /`clockTolerance`/],
    ['maxTokenAge: 0', { maxTokenAge: 0 }, /`maxTokenAge`/],
    ['maxTokenAge: -60', { maxTokenAge: -60 }, /`maxTokenAge`/],
    ['maxTokenAge: "old"', { maxTokenAge: 'old' }, /`maxTokenAge`/],
    ['requiredClaims: "sub"', { requiredClaims: 'sub' }, /`requiredClaims`/],
    ['requiredClaims: [1]', { requiredClaims: [1] }, /`requiredClaims`/],
    ['currentDate: Invalid Date', { currentDate: new Date(Number.NaN) }, /`currentDate`/],
    ['currentDate: a string', { currentDate: '2026-01-01' }, /`currentDate`/],
    ['currentDate: a number', { currentDate: T * 1000 }, /`currentDate`/],
    ['notBefore: -1', { notBefore: -1 }, /`notBefore`/],
    ['notBefore: "later"', { notBefore: 'later' }, /`notBefore`/],
  ];
  for (const [name, extra, message] of bad) {
    test(name, async () => {
      const options = { secret: STRONG_SECRET, ...extra } as JwtGuardOptions;
      assert.throws(() => normalizeOptions(options), (e: unknown) => e instanceof JwtGuardError && e.code === 'invalid_options' && e.status === 500 && message.test(e.message));
      await assert.rejects(verifyToken(sign({}), { ...options }), { code: 'invalid_options' });
      await assert.rejects(signToken({}, { ...options }), { code: 'invalid_options' });
    });
  }

  test('valid edge values are accepted: clockTolerance 0, a single-string list, requiredClaims []', () => {
    const config = normalizeOptions({ secret: STRONG_SECRET, clockTolerance: 0, issuer: [ISS_A], audience: ['api'], requiredClaims: [] });
    assert.deepEqual({ ...config.claims.jose }, { issuer: [ISS_A], audience: ['api'], requiredClaims: [] });
  });

  test('durations are handed to jose in seconds', () => {
    const { jose } = normalizeOptions({ secret: STRONG_SECRET, clockTolerance: '30s', maxTokenAge: '2h' }).claims;
    assert.equal(jose.clockTolerance, 30);
    assert.equal(jose.maxTokenAge, 7200);
  });

  test(
    'a unit-less duration string ("30") is refused, as jose refuses it, rather than read as milliseconds',
    () => {
      for (const option of ['clockTolerance', 'maxTokenAge']) {
        assert.throws(() => normalizeOptions({ secret: STRONG_SECRET, [option]: '30' }), { code: 'invalid_options' }, option);
      }
    },
  );
});
