// Interoperability: tokens jwtguard signs verify with jose, fast-jwt and jsonwebtoken; tokens they
// sign verify with jwtguard; and the published RFC 7515 Appendix A examples verify byte for byte.
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { describe, test } from 'node:test';
import { createSigner, createVerifier } from 'fast-jwt';
import { base64url, compactVerify, decodeProtectedHeader, importJWK, importPKCS8, importSPKI, jwtVerify, SignJWT, type JWK } from 'jose';
import jsonwebtoken from 'jsonwebtoken';
import { signToken, verifyToken, type JwtGuardOptions } from '../../../src/index.js';
import { STRONG_SECRET } from '../../support/tokens.js';
import { rejectsWith } from '../../support/assertions.js';

type Alg = 'HS256' | 'RS256' | 'ES256';


// --- other libraries ------------------------------------------------------------------------------

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } });

/** Per algorithm: what signs, what verifies, as PEM text or the shared secret (what all three libraries take). */
const KEYS: Readonly<Record<Alg, { sign: string; verify: string; guard: JwtGuardOptions }>> = {
  HS256: { sign: STRONG_SECRET, verify: STRONG_SECRET, guard: { secret: STRONG_SECRET, algorithm: 'HS256' } },
  RS256: { sign: rsa.privateKey, verify: rsa.publicKey, guard: { privateKey: rsa.privateKey, publicKey: rsa.publicKey, algorithm: 'RS256' } },
  ES256: { sign: p256.privateKey, verify: p256.publicKey, guard: { privateKey: p256.privateKey, publicKey: p256.publicKey, algorithm: 'ES256' } },
};

const joseKey = async (alg: Alg, use: 'sign' | 'verify') => {
  if (alg === 'HS256') return new TextEncoder().encode(STRONG_SECRET);
  return use === 'sign' ? importPKCS8(KEYS[alg].sign, alg) : importSPKI(KEYS[alg].verify, alg);
};

describe('interop with jose, fast-jwt and jsonwebtoken', () => {
  for (const alg of ['HS256', 'RS256', 'ES256'] as const) {
    describe(alg, () => {
      const { sign, verify, guard } = KEYS[alg];

      test('a jwtguard token verifies with jose, fast-jwt and jsonwebtoken', async () => {
        const token = await signToken({ sub: 'interop', scope: 'read write', n: 42 }, { ...guard, kid: 'k1', issuer: 'https://issuer.example', audience: 'api' });
        assert.deepEqual(decodeProtectedHeader(token), { alg, typ: 'JWT', kid: 'k1' });

        const { payload } = await jwtVerify(token, await joseKey(alg, 'verify'), { algorithms: [alg], issuer: 'https://issuer.example', audience: 'api' });
        assert.equal(payload.sub, 'interop');

        const fast = createVerifier({ key: verify, algorithms: [alg], allowedIss: 'https://issuer.example', allowedAud: 'api' })(token) as Record<string, unknown>;
        assert.equal(fast.sub, 'interop');
        assert.equal(fast.n, 42);

        const legacy = jsonwebtoken.verify(token, verify, { algorithms: [alg], issuer: 'https://issuer.example', audience: 'api' }) as jsonwebtoken.JwtPayload;
        assert.equal(legacy.sub, 'interop');
        assert.equal(legacy.scope, 'read write');
        assert.equal(typeof legacy.exp, 'number');
      });

      test('a jose token verifies with jwtguard', async () => {
        const token = await new SignJWT({ sub: 'from-jose' }).setProtectedHeader({ alg, kid: 'j1' }).setIssuedAt().setExpirationTime('5m').sign(await joseKey(alg, 'sign'));
        assert.equal((await verifyToken(token, { ...guard })).sub, 'from-jose');
      });

      test('a fast-jwt token verifies with jwtguard', async () => {
        const token = createSigner({ key: sign, algorithm: alg, kid: 'f1', expiresIn: 300_000, iss: 'https://issuer.example' })({ sub: 'from-fast-jwt' });
        assert.equal(decodeProtectedHeader(token).alg, alg);
        const payload = await verifyToken(token, { ...guard, issuer: 'https://issuer.example' });
        assert.equal(payload.sub, 'from-fast-jwt');
      });

      test('a jsonwebtoken token verifies with jwtguard', async () => {
        const token = jsonwebtoken.sign({ sub: 'from-jsonwebtoken' }, sign, { algorithm: alg, keyid: 'w1', expiresIn: '5m', audience: 'api' });
        assert.equal(decodeProtectedHeader(token).kid, 'w1');
        const payload = await verifyToken(token, { ...guard, audience: 'api' });
        assert.equal(payload.sub, 'from-jsonwebtoken');
      });

      test('tokens from the other libraries are still held to jwtguard\'s allowlist and claims', async () => {
        const other: Alg = alg === 'HS256' ? 'RS256' : 'HS256';
        const token = jsonwebtoken.sign({ sub: 'x' }, KEYS[other].sign, { algorithm: other, expiresIn: '5m' });
        await rejectsWith(verifyToken(token, { ...guard }), 'algorithm_not_allowed');
        const expired = createSigner({ key: sign, algorithm: alg, clockTimestamp: Date.now() - 600_000, expiresIn: 60_000 })({ sub: 'x' });
        await rejectsWith(verifyToken(expired, { ...guard }), 'token_expired');
        const wrongAudience = jsonwebtoken.sign({ sub: 'x' }, sign, { algorithm: alg, expiresIn: '5m', audience: 'other' });
        await rejectsWith(verifyToken(wrongAudience, { ...guard, audience: 'api' }), 'claim_invalid');
      });
    });
  }

  test('a jsonwebtoken `alg: none` token is refused', async () => {
    const unsigned = jsonwebtoken.sign({ sub: 'admin' }, '', { algorithm: 'none' });
    assert.ok(unsigned.endsWith('.'));
    await rejectsWith(verifyToken(unsigned, KEYS.HS256.guard), 'token_malformed');
  });
});

// --- RFC 7515 Appendix A --------------------------------------------------------------------------

// Copied from RFC 7515 Appendix A with the display line breaks removed. A.1–A.3 share one payload:
// {"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true} (CRLFs included).
const RFC_PAYLOAD = 'eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ';
/** A.1's header, {"typ":"JWT",\r\n "alg":"HS256"}, has CRLF whitespace too. */
const A1_TOKEN = `eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.${RFC_PAYLOAD}.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk`;
const A1_JWK: JWK = { kty: 'oct', k: 'AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow' };

const A2_TOKEN =
  `eyJhbGciOiJSUzI1NiJ9.${RFC_PAYLOAD}.` +
  'cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7' +
  'AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4' +
  'BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K' +
  '0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqv' +
  'hJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrB' +
  'p0igcN_IoypGlUPQGe77Rw';
/** A.2.1's RSA key, public members only. */
const A2_JWK: JWK = {
  kty: 'RSA',
  n:
    'ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddx' +
    'HmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMs' +
    'D1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSH' +
    'SXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdV' +
    'MTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8' +
    'NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ',
  e: 'AQAB',
};

const A3_TOKEN = `eyJhbGciOiJFUzI1NiJ9.${RFC_PAYLOAD}.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q`;
const A3_JWK: JWK = { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' };

/** A.4 signs the ASCII string "Payload", not a JSON claims set: it is a JWS but not a JWT. */
const A4_TOKEN =
  'eyJhbGciOiJFUzUxMiJ9.UGF5bG9hZA.' +
  'AdwMgeerwtHoh-l192l60hp9wAHZFVJbLfD_UxMi70cwnZOYaRI1bKPWROc-mZZq' +
  'wqT2SI-KGDKB34XO0aw_7XdtAG8GaSwFKdCAPZgoXD2YBJZCPEX3xKpRwcdOO8Kp' +
  'EHwJjyqOgzDO7iKvU8vcnwNrmxYbSW9ERBXukOXolLzeO_Jn';
const A4_JWK: JWK = {
  kty: 'EC',
  crv: 'P-521',
  x: 'AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQGk',
  y: 'ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1WDhjDly79ajL4Kkd0AZMaZmh9ubmf63e3kyMj2',
};

/** Ten seconds before the examples' exp (1300819380). */
const RFC_NOW = new Date(1300819370 * 1000);
const RFC_CLAIMS = { iss: 'joe', exp: 1300819380, 'http://example.com/is_root': true };

const VECTORS: readonly { name: string; token: string; options: () => JwtGuardOptions }[] = [
  { name: 'A.1 HS256 (oct JWK secret)', token: A1_TOKEN, options: () => ({ secret: A1_JWK, algorithm: 'HS256' }) },
  { name: 'A.1 HS256 (secret bytes)', token: A1_TOKEN, options: () => ({ secret: base64url.decode(A1_JWK.k ?? ''), algorithm: 'HS256' }) },
  { name: 'A.1 HS256 (through getKey, so through jose rather than the HMAC fast path)', token: A1_TOKEN, options: () => ({ getKey: () => A1_JWK, algorithms: ['HS256'] }) },
  { name: 'A.2 RS256', token: A2_TOKEN, options: () => ({ publicKey: A2_JWK, algorithm: 'RS256' }) },
  { name: 'A.2 RS256 (local jwks)', token: A2_TOKEN, options: () => ({ jwks: { keys: [A2_JWK] }, algorithms: ['RS256'] }) },
  { name: 'A.3 ES256', token: A3_TOKEN, options: () => ({ publicKey: A3_JWK, algorithm: 'ES256' }) },
];

describe('RFC 7515 Appendix A vectors', () => {
  for (const { name, token, options } of VECTORS) {
    test(`${name} verifies at currentDate 1300819370`, async () => {
      const payload = await verifyToken(token, { ...options(), currentDate: RFC_NOW });
      assert.deepEqual({ ...payload }, RFC_CLAIMS);
    });

    test(`${name} is token_expired without currentDate, and at exp itself`, async () => {
      const error = await rejectsWith(verifyToken(token, options()), 'token_expired');
      assert.equal(error.claim, 'exp');
      await rejectsWith(verifyToken(token, { ...options(), currentDate: new Date(1300819380 * 1000) }), 'token_expired');
    });
  }

  test('A.1–A.3 are refused under any other algorithm', async () => {
    await rejectsWith(verifyToken(A1_TOKEN, { secret: A1_JWK, algorithm: 'HS512', currentDate: RFC_NOW }), 'algorithm_not_allowed');
    await rejectsWith(verifyToken(A2_TOKEN, { publicKey: A2_JWK, algorithm: 'PS256', currentDate: RFC_NOW }), 'algorithm_not_allowed');
    await rejectsWith(verifyToken(A3_TOKEN, { publicKey: A2_JWK, algorithm: 'RS256', currentDate: RFC_NOW }), 'algorithm_not_allowed');
    // ES256 next to HS256 (both keys configured) still accepts A.3.
    assert.equal((await verifyToken(A3_TOKEN, { publicKey: A3_JWK, secret: A1_JWK, algorithms: ['ES256', 'HS256'], currentDate: RFC_NOW })).iss, 'joe');
  });

  test('one changed payload byte fails each of A.1–A.3 as signature_invalid', async () => {
    const tampered = (token: string) => token.replace('.eyJpc3MiOiJqb2Ui', '.eyJpc3MiOiJqb2Yi'); // "joe" → "jof"
    await rejectsWith(verifyToken(tampered(A1_TOKEN), { secret: A1_JWK, algorithm: 'HS256', currentDate: RFC_NOW }), 'signature_invalid');
    await rejectsWith(verifyToken(tampered(A2_TOKEN), { publicKey: A2_JWK, algorithm: 'RS256', currentDate: RFC_NOW }), 'signature_invalid');
    await rejectsWith(verifyToken(tampered(A3_TOKEN), { publicKey: A3_JWK, algorithm: 'ES256', currentDate: RFC_NOW }), 'signature_invalid');
  });

  test('A.4 ES512: the signature is valid (jose), but its payload "Payload" is no JWT → token_malformed', async () => {
    const { payload, protectedHeader } = await compactVerify(A4_TOKEN, await importJWK(A4_JWK, 'ES512'), { algorithms: ['ES512'] });
    assert.equal(new TextDecoder().decode(payload), 'Payload');
    assert.equal(protectedHeader.alg, 'ES512');
    // A.4 has no exp, so it cannot be token_expired either way.
    await rejectsWith(verifyToken(A4_TOKEN, { publicKey: A4_JWK, algorithm: 'ES512', currentDate: RFC_NOW }), 'token_malformed');
    await rejectsWith(verifyToken(A4_TOKEN, { publicKey: A4_JWK, algorithm: 'ES512' }), 'token_malformed');
    await rejectsWith(verifyToken(A4_TOKEN, { publicKey: A4_JWK, algorithm: 'ES256' }), 'invalid_options');
  });

  test('A.4\'s key verifies an ES512 JWT signed with the matching RFC private key', async () => {
    // A.4.1 also publishes the private key `d`; a JWT it signs must verify with the public JWK.
    const d = 'AY5pb7A0UFiB3RELSD64fTLOSV_jazdF7fLYyuTw8lOfRhWg6Y6rUrPAxerEzgdRhajnu0ferB0d53vM9mE15j2C';
    const derived = createPublicKey(createPrivateKey({ key: { ...A4_JWK, d } as JsonWebKey, format: 'jwk' })).export({ format: 'jwk' });
    assert.deepEqual({ x: derived.x, y: derived.y }, { x: A4_JWK.x, y: A4_JWK.y }, 'd belongs to the published public key');
    const token = await new SignJWT({ sub: 'p-521' }).setProtectedHeader({ alg: 'ES512' }).setExpirationTime('5m').sign(await importJWK({ ...A4_JWK, d }, 'ES512'));
    assert.equal((await verifyToken(token, { publicKey: A4_JWK, algorithm: 'ES512' })).sub, 'p-521');
    assert.equal((await verifyToken(await signToken({ sub: 'again' }, { privateKey: { ...A4_JWK, d }, algorithm: 'ES512' }), { publicKey: A4_JWK, algorithm: 'ES512' })).sub, 'again');
  });
});
