// Property-based tests for verifyToken (fast-check). Every verdict is taken three ways, which must
// agree exactly (same code and claim, or deep-equal payloads):
//   - `cached`:   default options (verified-token cache + synchronous node:crypto HMAC fast path);
//   - `uncached`: `cacheSize: 0` (fast path, falling back to jose);
//   - `jose`:     fast path and cache removed, so jose alone decides (the reference).
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { JwtGuardError, verifyToken, type HmacAlgorithm, type JwtGuardErrorCode, type JwtGuardOptions, type JwtGuardPayload } from '../../../src/index.js';
import { normalizeOptions, type NormalizedOptions } from '../../../src/core/options/normalize-options.js';
import { verifyWith } from '../../../src/core/verify/verify-token.js';
import { STRONG_SECRET } from '../../support/tokens.js';

const SECRET = STRONG_SECRET;
const KEY = new TextEncoder().encode(SECRET);
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const ALGS = ['HS256', 'HS384', 'HS512'] as const;
const HASH: Readonly<Record<HmacAlgorithm, string>> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };
/** Every code a token (as opposed to the options) can be rejected with. */
const TOKEN_CODES: ReadonlySet<JwtGuardErrorCode> = new Set([
  'token_missing',
  'token_malformed',
  'token_too_long',
  'algorithm_not_allowed',
  'signature_invalid',
  'token_expired',
  'token_not_yet_valid',
  'claim_invalid',
]);
/** Per-run limit: a verification that takes longer than this counts as a hang. */
const TIMEOUT_MS = 2000;

interface Verifiers {
  readonly cached: JwtGuardOptions;
  readonly uncached: JwtGuardOptions;
  readonly jose: NormalizedOptions;
}
const verifiers = Object.fromEntries(
  ALGS.map((algorithm) => [
    algorithm,
    {
      cached: { secret: SECRET, algorithm },
      uncached: { secret: SECRET, algorithm, cacheSize: 0 },
      jose: { ...normalizeOptions({ secret: SECRET, algorithm, cacheSize: 0 }), fastPath: undefined, cache: undefined },
    } satisfies Verifiers,
  ]),
) as Record<HmacAlgorithm, Verifiers>;

type Outcome = { ok: true; payload: JwtGuardPayload } | { ok: false; code: JwtGuardErrorCode; claim: string | undefined };

async function outcomeOf(run: () => Promise<JwtGuardPayload>, label: string): Promise<Outcome> {
  try {
    return { ok: true, payload: await run() };
  } catch (error) {
    if (!(error instanceof JwtGuardError)) throw new Error(`[${label}] rejected with something other than a JwtGuardError: ${String(error)}`, { cause: error });
    assert.ok(TOKEN_CODES.has(error.code), `[${label}] unexpected code ${error.code}`);
    assert.equal(error.status, 401, `[${label}] status`);
    return { ok: false, code: error.code, claim: error.claim };
  }
}

/** The verdict under `algorithm`, after checking that the cached, uncached and jose-only paths agree. */
async function verdict(token: unknown, algorithm: HmacAlgorithm = 'HS256'): Promise<Outcome> {
  const v = verifiers[algorithm];
  const cached = await outcomeOf(() => verifyToken(token as string, v.cached), 'cached');
  const uncached = await outcomeOf(() => verifyToken(token as string, v.uncached), 'uncached');
  const jose = await outcomeOf(() => verifyWith(token, v.jose), 'jose');
  assert.deepEqual(uncached, jose, 'the fast path disagrees with jose');
  assert.deepEqual(cached, jose, 'the cached path disagrees with jose');
  return jose;
}

async function rejected(token: unknown, algorithm: HmacAlgorithm = 'HS256'): Promise<JwtGuardErrorCode> {
  const result = await verdict(token, algorithm);
  if (result.ok) assert.fail(`accepted: ${JSON.stringify(token).slice(0, 200)} → ${JSON.stringify(result.payload)}`);
  return result.code;
}

const b64u = (text: string): string => Buffer.from(text).toString('base64url');
function signTexts(headerText: string, payloadText: string, hash = 'sha256'): string {
  const input = `${b64u(headerText)}.${b64u(payloadText)}`;
  return `${input}.${createHmac(hash, SECRET).update(input).digest('base64url')}`;
}

// --- (a) single-character edits ------------------------------------------------------------------

type Edit =
  | { readonly kind: 'substitute'; readonly at: number; readonly shift: number }
  | { readonly kind: 'delete'; readonly at: number }
  | { readonly kind: 'insert'; readonly at: number; readonly char: string };

/** Positions: anywhere, with extra weight on the last three characters (trailing-bit territory). */
const position = fc.oneof(fc.nat({ max: 100_000 }), fc.integer({ min: -3, max: -1 }));
const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('substitute' as const), at: position, shift: fc.integer({ min: 1, max: 63 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: position }),
  fc.record({ kind: fc.constant('insert' as const), at: position, char: fc.constantFrom(...BASE64URL, '.') }),
);

function applyEdit(token: string, edit: Edit): string {
  const span = edit.kind === 'insert' ? token.length + 1 : token.length;
  const at = edit.at < 0 ? span + edit.at : edit.at % span;
  if (edit.kind === 'delete') return token.slice(0, at) + token.slice(at + 1);
  if (edit.kind === 'insert') return token.slice(0, at) + edit.char + token.slice(at);
  const original = token.charAt(at);
  const index = BASE64URL.indexOf(original); // -1 for a dot: then any base64url char replaces it
  const replacement = BASE64URL.charAt(index === -1 ? edit.shift : (index + edit.shift) % 64);
  return token.slice(0, at) + replacement + token.slice(at + 1);
}

const validTokenArb = fc.record({
  alg: fc.constantFrom(...ALGS),
  sub: fc.string({ maxLength: 20 }),
  data: fc.jsonValue({ maxDepth: 2 }),
  withExp: fc.boolean(),
});

async function signValid(t: { alg: HmacAlgorithm; sub: string; data: unknown; withExp: boolean }): Promise<string> {
  const jwt = new SignJWT({ sub: t.sub, data: t.data }).setProtectedHeader({ alg: t.alg, typ: 'JWT' });
  if (t.withExp) jwt.setExpirationTime('1h');
  return jwt.sign(KEY);
}

/** What a single-character edit may be rejected with: claims are checked after the signature, so never a claim code. */
const EDIT_CODES: ReadonlySet<JwtGuardErrorCode> = new Set(['token_malformed', 'algorithm_not_allowed', 'signature_invalid']);

describe('properties: single-character edits of a valid token', () => {
  test('(a) any substitution (another base64url char), deletion or insertion anywhere is rejected — never accepted', async () => {
    await fc.assert(
      fc.asyncProperty(validTokenArb, editArb, async (spec, edit) => {
        const token = await signValid(spec);
        // The original verifies (and is now in the cache, so a near miss cannot hit it).
        assert.equal((await verdict(token, spec.alg)).ok, true, 'the control token does not verify');
        const edited = applyEdit(token, edit);
        assert.notEqual(edited, token);
        const code = await rejected(edited, spec.alg);
        assert.ok(EDIT_CODES.has(code), `an edit was rejected with ${code}`);
      }),
      { numRuns: 400, timeout: TIMEOUT_MS },
    );
  });

  test('(a, exhaustive) every single-character edit of one HS256 and one HS512 token is rejected', async () => {
    // Exhaustive over positions and characters, including every respelling of each segment's last
    // character (lenient base64 decoders ignore its unused trailing bits; the canonical check must not).
    for (const alg of ['HS256', 'HS512'] as const) {
      const token = await signValid({ alg, sub: 'u1', data: null, withExp: false });
      assert.equal((await verdict(token, alg)).ok, true);
      const seen = new Set<string>();
      for (let at = 0; at <= token.length; at++) {
        const edits: Edit[] = [...BASE64URL, '.'].map((char) => ({ kind: 'insert', at, char }));
        if (at < token.length) {
          edits.push({ kind: 'delete', at });
          for (let shift = 1; shift < 64; shift++) edits.push({ kind: 'substitute', at, shift });
        }
        for (const edit of edits) {
          const edited = applyEdit(token, edit);
          if (seen.has(edited)) continue;
          seen.add(edited);
          const result = await verdict(edited, alg);
          if (result.ok) assert.fail(`${JSON.stringify(edit)} of ${token} was accepted as ${edited}`);
          assert.ok(EDIT_CODES.has(result.code), `${JSON.stringify(edit)} rejected with ${result.code}`);
        }
      }
      assert.ok(seen.size > 100 * 64, `only ${seen.size} edits tried`);
    }
  });
});

// --- (b) arbitrary strings -----------------------------------------------------------------------

const base64urlChar = fc.constantFrom(...BASE64URL);
const segmentArb = fc.string({ unit: base64urlChar, maxLength: 60 });
const dirtyChar = fc.oneof(
  { weight: 30, arbitrary: base64urlChar },
  { weight: 1, arbitrary: fc.constantFrom('=', '+', '/', ' ', '.', '%', '\n', '\t', '\u00a0', 'é', '\u{1F600}') },
  { weight: 1, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code)) },
);
const HS256_HEADER = b64u('{"alg":"HS256","typ":"JWT"}');

const arbitraryStrings: ReadonlyArray<readonly [string, fc.Arbitrary<string>]> = [
  ['fc.string (printable ASCII)', fc.string({ maxLength: 200 })],
  ['full-Unicode strings (unit "binary")', fc.string({ unit: 'binary', maxLength: 120 })],
  ['grapheme strings', fc.string({ unit: 'grapheme', maxLength: 60 })],
  ['strings with lone surrogates and stray characters', fc.string({ unit: dirtyChar, maxLength: 150 })],
  ['three dot-separated base64url segments', fc.tuple(segmentArb, segmentArb, segmentArb).map((parts) => parts.join('.'))],
  ['three segments of base64url with occasional foreign characters', fc.tuple(...[0, 1, 2].map(() => fc.string({ unit: dirtyChar, maxLength: 60 }))).map((parts) => parts.join('.'))],
  ['a real HS256 header, then random payload and signature segments', fc.tuple(segmentArb, segmentArb).map(([p, s]) => `${HS256_HEADER}.${p}.${s}`)],
  [
    'a real header and JSON payload, then a random signature',
    fc.tuple(fc.jsonValue({ maxDepth: 2 }), segmentArb).map(([payload, s]) => `${HS256_HEADER}.${b64u(JSON.stringify(payload))}.${s}`),
  ],
  ['lengths around the 8192-character limit', fc.string({ unit: fc.constantFrom(...BASE64URL, '.'), minLength: 8185, maxLength: 8200 })],
];

describe('properties: arbitrary input never verifies', () => {
  for (const [label, arbitrary] of arbitraryStrings) {
    test(`(b) ${label}: never resolves, rejects only with a JwtGuardError`, async () => {
      await fc.assert(
        fc.asyncProperty(arbitrary, async (token) => {
          await rejected(token);
        }),
        { numRuns: label.startsWith('lengths') ? 60 : 300, timeout: TIMEOUT_MS },
      );
    });
  }

  test('(b) arbitrary non-string values → token_missing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.anything().filter((value) => typeof value !== 'string'),
        async (value) => {
          assert.equal(await rejected(value), 'token_missing');
        },
      ),
      { numRuns: 300, timeout: TIMEOUT_MS },
    );
  });
});

// --- (c) random JSON headers and payloads, correctly signed ---------------------------------------

// Time is frozen in these properties, so claim boundaries are exact and never race the clock.
const NOW = 1_900_000_000;

const timeValue = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -120, max: 120 }).map((offset) => NOW + offset) },
  { weight: 2, arbitrary: fc.double({ min: NOW - 120, max: NOW + 120, noNaN: true }) },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.oneof(fc.string(), fc.constant(null), fc.boolean(), fc.constant([]), fc.constant({})) },
);

const headerArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  {
    weight: 6,
    arbitrary: fc
      .tuple(
        fc.record(
          {
            alg: fc.oneof({ weight: 6, arbitrary: fc.constant('HS256') }, { weight: 1, arbitrary: fc.constantFrom('HS384', 'HS512', 'none', 'RS256', 'hs256', '', 7, null) }),
            typ: fc.constantFrom('JWT', 'at+jwt', 'jwt'),
            kid: fc.string(),
            jku: fc.webUrl(),
          },
          { requiredKeys: ['alg'] },
        ),
        // crit and b64 are rare, so most headers get as far as the signature and the claims.
        fc.oneof(
          { weight: 4, arbitrary: fc.constant({}) },
          {
            weight: 1,
            arbitrary: fc.record(
              {
                crit: fc.oneof(fc.constant(['b64']), fc.constant(['exp']), fc.constant([]), fc.array(fc.string(), { maxLength: 2 })),
                b64: fc.boolean(),
              },
              { requiredKeys: [] },
            ),
          },
        ),
        fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
      )
      .map(([known, extension, extra]) => ({ ...extra, ...extension, ...known })),
  },
);

const payloadArb: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })) },
  {
    weight: 3,
    arbitrary: fc
      .tuple(
        fc.record({ sub: fc.string(), exp: timeValue, nbf: timeValue, iat: timeValue }, { requiredKeys: [] }),
        fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }),
      )
      .map(([claims, extra]) => ({ ...extra, ...claims })),
  },
);

function hashFor(header: unknown): string {
  const alg = typeof header === 'object' && header !== null ? (header as { alg?: unknown }).alg : undefined;
  return alg === 'HS384' || alg === 'HS512' ? HASH[alg] : 'sha256';
}

describe('properties: random JSON headers and payloads, correctly signed', () => {
  test('(c) either verify with exactly the signed payload, or reject with a JwtGuardError — the three paths agree', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: NOW * 1000 });
    await fc.assert(
      fc.asyncProperty(headerArb, payloadArb, async (header, payload) => {
        const headerText = JSON.stringify(header);
        const payloadText = JSON.stringify(payload);
        const result = await verdict(signTexts(headerText, payloadText, hashFor(header)));
        if (result.ok) {
          assert.deepEqual(result.payload, JSON.parse(payloadText));
          assert.equal((header as { alg?: unknown }).alg, 'HS256', 'accepted a token whose alg is not the configured one');
        }
      }),
      { numRuns: 500, timeout: TIMEOUT_MS },
    );
  });

  test('(c) JSON texts with random whitespace, duplicate members and escapes: same rule', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: NOW * 1000 });
    const ws = fc.constantFrom('', ' ', '\n', '\t', '\r\n  ');
    const member = fc.tuple(fc.constantFrom('sub', 'exp', 'nbf', 'iat', '__proto__', 'x'), fc.jsonValue({ maxDepth: 1 }), ws);
    const objectText = fc
      .tuple(ws, fc.array(member, { maxLength: 5 }), ws)
      .map(([before, members, after]) => `${before}{${members.map(([k, v, w]) => `${w}${JSON.stringify(k)}${w}:${w}${JSON.stringify(v)}`).join(',')}}${after}`);
    await fc.assert(
      fc.asyncProperty(objectText, async (payloadText) => {
        const result = await verdict(signTexts('{"alg":"HS256"}', payloadText));
        if (result.ok) assert.deepEqual(result.payload, JSON.parse(payloadText));
      }),
      { numRuns: 400, timeout: TIMEOUT_MS },
    );
  });
});

// --- (d) the claim rules, as a model ---------------------------------------------------------------

/**
 * The claim checks every path must implement, in jose's order: iat's type, nbf, exp's type, exp.
 */
function expectedClaimVerdict(claims: Record<string, unknown>): Outcome | 'accepted' {
  const { iat, nbf, exp } = claims;
  if (iat !== undefined && typeof iat !== 'number') return { ok: false, code: 'claim_invalid', claim: 'iat' };
  if (nbf !== undefined && typeof nbf !== 'number') return { ok: false, code: 'claim_invalid', claim: 'nbf' };
  if (typeof nbf === 'number' && nbf > NOW) return { ok: false, code: 'token_not_yet_valid', claim: 'nbf' };
  if (exp !== undefined && typeof exp !== 'number') return { ok: false, code: 'claim_invalid', claim: 'exp' };
  if (typeof exp === 'number' && exp <= NOW) return { ok: false, code: 'token_expired', claim: 'exp' };
  return 'accepted';
}

describe('properties: claim checks follow the model', () => {
  test('(d) exp / nbf / iat near now, of any type: the verdict the model predicts', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: NOW * 1000 + 999 });
    const numericTime = fc.oneof(fc.integer({ min: -3, max: 3 }).map((offset) => NOW + offset), fc.double({ min: NOW - 3, max: NOW + 3, noNaN: true }), fc.integer());
    const claimsArb = fc.record({ sub: fc.string(), exp: timeValue, nbf: fc.oneof(numericTime, timeValue), iat: timeValue }, { requiredKeys: [] });
    await fc.assert(
      fc.asyncProperty(claimsArb, async (claims) => {
        const payloadText = JSON.stringify(claims);
        const result = await verdict(signTexts('{"alg":"HS256","typ":"JWT"}', payloadText));
        const expected = expectedClaimVerdict(JSON.parse(payloadText) as Record<string, unknown>);
        if (expected === 'accepted') {
          assert.ok(result.ok, `rejected ${payloadText}: ${result.ok ? '' : result.code}`);
          assert.deepEqual(result.payload, JSON.parse(payloadText));
        } else {
          assert.deepEqual(result, expected, payloadText);
        }
      }),
      { numRuns: 500, timeout: TIMEOUT_MS },
    );
  });
});
