// `profile: 'at+jwt'`: RFC 9068 access tokens — `typ` at+jwt (application/at+jwt too), and iss, aud,
// exp, sub, client_id, iat, jti present — checked through the existing claim machinery, so the
// verified-token cache, the HMAC and the asymmetric fast paths must give jose's verdict on every
// case. Options that cannot satisfy RFC 9068 §4 are refused at construction.
import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { describe, test } from 'node:test';
import { base64url } from 'jose';
import { JwtGuardError, normalizeOptions, verifyToken, type JwtGuardOptions } from '../../../src/index.js';
import { precheck, verifySync, verifyWithJose } from '../../../src/core/verify/verify-token.js';
import { STRONG_SECRET, now } from '../../support/tokens.js';

const ISSUER = 'https://as.example.test';
const API = 'https://orders.api.example.test';
const { privateKey: ecPrivate, publicKey: ecPublic } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

/** A signed compact JWS with any header and payload: HS256 with the test secret, or ES256 (IEEE P1363). */
function sign(header: Record<string, unknown>, payload: Record<string, unknown>): string {
  const input = `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(payload))}`;
  const signature =
    header.alg === 'ES256' ? nodeSign('sha256', Buffer.from(input), { key: ecPrivate, dsaEncoding: 'ieee-p1363' }) : createHmac('sha256', STRONG_SECRET).update(input).digest();
  return `${input}.${Buffer.from(signature).toString('base64url')}`;
}

/** An RFC 9068 access token's claims, as an authorization server issues them. */
function accessClaims(): Record<string, unknown> {
  const iat = now();
  return { iss: ISSUER, aud: API, exp: iat + 300, sub: 'user-42', client_id: 'web-app', iat, jti: `jti-${Math.random()}`, scope: 'orders:read' };
}

type Verdict = { ok: true } | { ok: false; code: string; claim: string | undefined };

async function settle(promise: Promise<unknown>): Promise<Verdict> {
  try {
    await promise;
    return { ok: true };
  } catch (error) {
    assert.ok(error instanceof JwtGuardError, `non-library error: ${String(error)}`);
    return { ok: false, code: error.code, claim: error.claim };
  }
}

const KEYS: Record<'HS256' | 'ES256', JwtGuardOptions> = { HS256: { secret: STRONG_SECRET }, ES256: { publicKey: ecPublic } };

/**
 * The verdict on a token made with `header` and `payload`, the same from jose alone, from a
 * fresh configuration (fast path, then jose) and from one that has verified good tokens of the
 * same alg before (a learned asymmetric key, the verified-token cache).
 */
async function decide(alg: 'HS256' | 'ES256', header: Record<string, unknown>, payload: Record<string, unknown>, extra: JwtGuardOptions = {}): Promise<Verdict> {
  const options: JwtGuardOptions = { ...KEYS[alg], issuer: ISSUER, audience: API, profile: 'at+jwt', ...extra };
  const token = sign({ alg, ...header }, payload);
  const joseConfig = normalizeOptions({ ...options, cacheSize: 0 });
  const rejected = precheck(token, joseConfig);
  const reference = await settle(rejected ? Promise.reject(rejected) : verifyWithJose(token, joseConfig));
  assert.deepEqual(await settle(verifyToken(token, { ...options })), reference, 'fresh configuration disagrees with jose');
  const warm = { ...options };
  for (let i = 0; i < 2; i++) await verifyToken(sign({ alg, typ: 'at+jwt' }, accessClaims()), warm); // the fast path learns the key
  const sync = verifySync(token, normalizeOptions(warm));
  if (sync !== undefined) assert.deepEqual(sync instanceof JwtGuardError ? { ok: false, code: sync.code, claim: sync.claim } : { ok: true }, reference, 'fast path disagrees with jose');
  for (let i = 0; i < 3; i++) assert.deepEqual(await settle(verifyToken(token, warm)), reference, `warm configuration, call ${i + 1}, disagrees with jose`);
  return reference;
}

describe("profile: 'at+jwt' — accepted tokens", () => {
  for (const alg of ['HS256', 'ES256'] as const) {
    test(`${alg}: typ at+jwt, application/at+jwt and AT+JWT with every required claim are accepted`, async () => {
      for (const typ of ['at+jwt', 'application/at+jwt', 'AT+JWT', 'Application/At+Jwt']) {
        assert.deepEqual(await decide(alg, { typ }, accessClaims()), { ok: true }, typ);
      }
    });

    test(`${alg}: once learned, a valid access token is verified synchronously (the fast path checks the profile)`, async () => {
      const options: JwtGuardOptions = { ...KEYS[alg], issuer: ISSUER, audience: API, profile: 'at+jwt', cacheSize: 0 };
      for (let i = 0; i < 2; i++) await verifyToken(sign({ alg, typ: 'at+jwt' }, accessClaims()), options);
      const payload = verifySync(sign({ alg, typ: 'at+jwt' }, { ...accessClaims(), sub: 'sync' }), normalizeOptions(options));
      assert.ok(payload !== undefined && !(payload instanceof JwtGuardError) && payload.sub === 'sync');
      assert.equal(verifySync(sign({ alg, typ: 'JWT' }, accessClaims()), normalizeOptions(options)), undefined, 'a wrong typ goes to jose for the verdict');
    });
  }
});

describe("profile: 'at+jwt' — refused tokens", () => {
  for (const alg of ['HS256', 'ES256'] as const) {
    test(`${alg}: a typ other than at+jwt, or none → claim_invalid (typ)`, async () => {
      for (const typ of ['JWT', 'jwt', 'application/jwt', 'at+JWS', 'application/at+jwt+x', undefined]) {
        const header = typ === undefined ? {} : { typ };
        assert.deepEqual(await decide(alg, header, accessClaims()), { ok: false, code: 'claim_invalid', claim: 'typ' }, String(typ));
      }
    });

    test(`${alg}: each required claim missing → claim_invalid naming it`, async () => {
      for (const claim of ['iss', 'aud', 'exp', 'sub', 'client_id', 'iat', 'jti']) {
        const payload = accessClaims();
        delete payload[claim];
        assert.deepEqual(await decide(alg, { typ: 'at+jwt' }, payload), { ok: false, code: 'claim_invalid', claim }, claim);
      }
    });

    test(`${alg}: the wrong audience or issuer → claim_invalid; an expired token → token_expired`, async () => {
      assert.deepEqual(await decide(alg, { typ: 'at+jwt' }, { ...accessClaims(), aud: 'https://other.api.example.test' }), { ok: false, code: 'claim_invalid', claim: 'aud' });
      assert.deepEqual(await decide(alg, { typ: 'at+jwt' }, { ...accessClaims(), iss: 'https://other-as.example.test' }), { ok: false, code: 'claim_invalid', claim: 'iss' });
      assert.deepEqual(await decide(alg, { typ: 'at+jwt' }, { ...accessClaims(), exp: now() - 10 }), { ok: false, code: 'token_expired', claim: 'exp' });
    });

    test(`${alg}: requiredClaims adds to the profile's claims`, async () => {
      const payload = accessClaims();
      assert.deepEqual(await decide(alg, { typ: 'at+jwt' }, payload, { requiredClaims: ['scope'] }), { ok: true });
      delete payload.scope;
      assert.deepEqual(await decide(alg, { typ: 'at+jwt' }, payload, { requiredClaims: ['scope'] }), { ok: false, code: 'claim_invalid', claim: 'scope' });
      delete payload.jti;
      assert.equal(((await decide(alg, { typ: 'at+jwt' }, payload, { requiredClaims: ['scope'] })) as { code: string }).code, 'claim_invalid');
    });
  }

  test('without the profile, the same token missing client_id and jti with typ JWT is accepted (the profile is what refuses it)', async () => {
    const payload = accessClaims();
    delete payload.client_id;
    delete payload.jti;
    await verifyToken(sign({ alg: 'HS256', typ: 'JWT' }, payload), { secret: STRONG_SECRET, issuer: ISSUER, audience: API });
  });
});

describe("profile: 'at+jwt' — options", () => {
  const refused = (options: Record<string, unknown>, pattern: RegExp) =>
    assert.throws(
      () => normalizeOptions({ secret: STRONG_SECRET, ...options } as JwtGuardOptions),
      (e: unknown) => e instanceof JwtGuardError && e.code === 'invalid_options' && pattern.test(e.message),
      JSON.stringify(options),
    );

  test('needs audience and an issuer; refuses another typ and unknown profiles', () => {
    refused({ profile: 'at+jwt', issuer: ISSUER }, /needs `audience`/);
    refused({ profile: 'at+jwt', audience: API }, /needs `issuer` or `issuerBaseURL`/);
    refused({ profile: 'at+jwt', audience: API, issuer: ISSUER, typ: 'JWT' }, /requires the typ "at\+jwt"; drop `typ`/);
    refused({ profile: 'id_token', audience: API, issuer: ISSUER }, /`profile` must be "at\+jwt"/);
    refused({ profile: true, audience: API, issuer: ISSUER }, /`profile` must be "at\+jwt"/);
  });

  test('typ at+jwt or application/at+jwt alongside the profile is fine; issuerBaseURL counts as the issuer', () => {
    for (const typ of ['at+jwt', 'application/at+jwt']) assert.doesNotThrow(() => normalizeOptions({ secret: STRONG_SECRET, profile: 'at+jwt', audience: API, issuer: ISSUER, typ }));
    const config = normalizeOptions({ issuerBaseURL: ISSUER, profile: 'at+jwt', audience: API, onWarning: () => undefined });
    assert.equal(config.claims.jose.typ, 'at+jwt');
    assert.deepEqual(config.claims.jose.requiredClaims, ['iss', 'aud', 'exp', 'sub', 'client_id', 'iat', 'jti']);
    assert.deepEqual(config.claims.jose.issuer, [ISSUER]);
  });
});
