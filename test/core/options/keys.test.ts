// Key handling end to end: every algorithm with every key form, key confusion, construction-time
// key errors, local JWKS and getKey. Tokens are signed (and signToken's output is checked) with
// jose directly, so a bug in jwtguard's signing cannot hide a bug in its verification.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, createSecretKey, generateKeyPairSync, sign as nodeSign, constants, webcrypto, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { base64url, decodeProtectedHeader, importPKCS8, importSPKI, jwtVerify, SignJWT, type JWK, type JWTPayload } from 'jose';
import { JwtGuardError, normalizeOptions, signToken, verifyToken, type JwtGuardOptions } from '../../../src/index.js';
import { STRONG_SECRET } from '../../support/tokens.js';
import { rejectsWith } from '../../support/assertions.js';

type Alg = NonNullable<JwtGuardOptions['algorithm']>;
type PublicKeyInput = NonNullable<JwtGuardOptions['publicKey']>;
type PrivateKeyInput = NonNullable<JwtGuardOptions['privateKey']>;
interface Pair {
  readonly publicKey: KeyObject;
  readonly privateKey: KeyObject;
}

const quiet = { onWarning: () => {} };
const in5m = () => Math.floor(Date.now() / 1000) + 300;

// --- key material -------------------------------------------------------------------------------

const HAS_OPENSSL = spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0;

/** A self-signed X.509 certificate and its PKCS#8 key, made by the openssl CLI (as users make them). */
function opensslRsaCertificate(bits: number): { certPem: string; keyPem: string } | undefined {
  if (!HAS_OPENSSL) return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'jwtguard-cert-'));
  try {
    const keyPath = join(dir, 'key.pem');
    const certPath = join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', `rsa:${bits}`, '-nodes', '-subj', '/CN=test', '-days', '1', '-keyout', keyPath, '-out', certPath], { stdio: 'ignore' });
    return { certPem: readFileSync(certPath, 'utf8'), keyPem: readFileSync(keyPath, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const rsaCert = opensslRsaCertificate(2048);
const rsa: Pair = rsaCert
  ? { privateKey: createPrivateKey(rsaCert.keyPem), publicKey: createPublicKey(rsaCert.keyPem) }
  : generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaOther = generateKeyPairSync('rsa', { modulusLength: 2048 });
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const p521 = generateKeyPairSync('ec', { namedCurve: 'P-521' });
const ed25519 = generateKeyPairSync('ed25519');
const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 });

const pemOf = (key: KeyObject): string => key.export(key.type === 'private' ? { type: 'pkcs8', format: 'pem' } : { type: 'spki', format: 'pem' }) as string;
const jwkOf = (key: KeyObject): JWK => key.export({ format: 'jwk' }) as JWK;

const ASYMMETRIC: readonly { alg: Alg; pair: Pair; other: Pair }[] = [
  { alg: 'RS256', pair: rsa, other: rsaOther },
  { alg: 'RS384', pair: rsa, other: rsaOther },
  { alg: 'RS512', pair: rsa, other: rsaOther },
  { alg: 'PS256', pair: rsa, other: rsaOther },
  { alg: 'PS384', pair: rsa, other: rsaOther },
  { alg: 'PS512', pair: rsa, other: rsaOther },
  { alg: 'ES256', pair: p256, other: generateKeyPairSync('ec', { namedCurve: 'P-256' }) },
  { alg: 'ES384', pair: p384, other: generateKeyPairSync('ec', { namedCurve: 'P-384' }) },
  { alg: 'ES512', pair: p521, other: generateKeyPairSync('ec', { namedCurve: 'P-521' }) },
  { alg: 'EdDSA', pair: ed25519, other: generateKeyPairSync('ed25519') },
];

const PUBLIC_FORMS = ['SPKI PEM', 'JWK', 'KeyObject', 'CryptoKey', 'X.509 certificate PEM'] as const;
type PublicForm = (typeof PUBLIC_FORMS)[number];

async function publicKeyAs(form: PublicForm, alg: Alg, pair: Pair): Promise<PublicKeyInput> {
  switch (form) {
    case 'SPKI PEM':
      return pemOf(pair.publicKey);
    case 'JWK':
      return jwkOf(pair.publicKey);
    case 'KeyObject':
      return pair.publicKey;
    case 'CryptoKey':
      return importSPKI(pemOf(pair.publicKey), alg);
    case 'X.509 certificate PEM':
      assert.ok(rsaCert !== undefined && pair === rsa);
      return rsaCert.certPem;
  }
}

const PRIVATE_FORMS = ['PKCS#8 PEM', 'JWK', 'KeyObject', 'CryptoKey'] as const;
type PrivateForm = (typeof PRIVATE_FORMS)[number];

async function privateKeyAs(form: PrivateForm, alg: Alg, pair: Pair): Promise<PrivateKeyInput> {
  switch (form) {
    case 'PKCS#8 PEM':
      return pemOf(pair.privateKey);
    case 'JWK':
      return jwkOf(pair.privateKey);
    case 'KeyObject':
      return pair.privateKey;
    case 'CryptoKey':
      return importPKCS8(pemOf(pair.privateKey), alg);
  }
}

const joseToken = (alg: Alg, key: KeyObject | Uint8Array, payload: JWTPayload = { sub: 'u1' }, kid?: string): Promise<string> =>
  new SignJWT({ exp: in5m(), ...payload }).setProtectedHeader({ alg, typ: 'JWT', ...(kid !== undefined && { kid }) }).sign(key);

// --- assertions ---------------------------------------------------------------------------------


function refused(options: unknown, fragment: RegExp): void {
  assert.throws(
    () => normalizeOptions(options as JwtGuardOptions),
    (error: unknown) => {
      assert.ok(error instanceof JwtGuardError, `threw a non-JwtGuardError: ${String(error)}`);
      assert.equal(error.code, 'invalid_options');
      assert.equal(error.status, 500);
      assert.match(error.message, fragment);
      return true;
    },
  );
}

// --- round trips --------------------------------------------------------------------------------

describe('every asymmetric algorithm, every key form', () => {
  for (const { alg, pair, other } of ASYMMETRIC) {
    describe(alg, () => {
      for (const form of PUBLIC_FORMS) {
        const isRsa = alg.startsWith('RS') || alg.startsWith('PS');
        if (form === 'X.509 certificate PEM' && !isRsa) continue;
        const skip = form === 'X.509 certificate PEM' && rsaCert === undefined ? 'openssl is not on PATH' : false;
        test(`a jose-signed token verifies with publicKey as ${form}`, { skip }, async () => {
          const token = await joseToken(alg, pair.privateKey, { sub: 'u1' }, 'k1');
          const publicKey = await publicKeyAs(form, alg, pair);
          assert.equal((await verifyToken(token, { publicKey, algorithm: alg })).sub, 'u1');
          assert.equal((await verifyToken(token, { publicKey, algorithms: [alg] })).sub, 'u1');
          // Signed by another key of the same kind: the signature does not match.
          await rejectsWith(verifyToken(await joseToken(alg, other.privateKey), { publicKey, algorithm: alg }), 'signature_invalid');
        });
      }

      for (const form of PRIVATE_FORMS) {
        test(`signToken with privateKey as ${form} makes a token jose verifies (alg and kid in the header)`, async () => {
          const privateKey = await privateKeyAs(form, alg, pair);
          const token = await signToken({ sub: 'u2' }, { privateKey, algorithm: alg, kid: 'key-2024' });
          const { payload, protectedHeader } = await jwtVerify(token, pair.publicKey, { algorithms: [alg] });
          assert.deepEqual(protectedHeader, { alg, typ: 'JWT', kid: 'key-2024' });
          assert.equal(payload.sub, 'u2');
          const withoutKid = await signToken({ sub: 'u2' }, { privateKey, algorithm: alg });
          assert.deepEqual(decodeProtectedHeader(withoutKid), { alg, typ: 'JWT' });
        });
      }

      test('signToken then verifyToken with one options object holding both keys', async () => {
        const options: JwtGuardOptions = { privateKey: pair.privateKey, publicKey: pair.publicKey, algorithm: alg };
        assert.equal((await verifyToken(await signToken({ sub: 'u3' }, options), options)).sub, 'u3');
      });

      // EC curves and Ed25519 have one algorithm each; RSA keys serve six.
      const sibling: Alg | undefined = alg === 'RS256' ? 'PS256' : alg.startsWith('RS') || alg.startsWith('PS') ? 'RS256' : undefined;
      if (sibling !== undefined) {
        test(`a ${sibling} token signed with the same key is not allowed under ${alg}`, async () => {
          await rejectsWith(verifyToken(await joseToken(sibling, pair.privateKey), { publicKey: pair.publicKey, algorithm: alg }), 'algorithm_not_allowed');
        });
      }
    });
  }

  test('without algorithm/algorithms the allowlist is inferred from the key', () => {
    assert.deepEqual(normalizeOptions({ publicKey: rsa.publicKey }).algorithms, ['RS256']);
    assert.deepEqual(normalizeOptions({ publicKey: p256.publicKey }).algorithms, ['ES256']);
    assert.deepEqual(normalizeOptions({ publicKey: jwkOf(p384.publicKey) }).algorithms, ['ES384']);
    assert.deepEqual(normalizeOptions({ publicKey: pemOf(p521.publicKey) }).algorithms, ['ES512']);
    assert.deepEqual(normalizeOptions({ publicKey: ed25519.publicKey }).algorithms, ['EdDSA']);
    assert.equal(normalizeOptions({ privateKey: p384.privateKey }).algorithm, 'ES384');
    assert.equal(normalizeOptions({ publicKey: p256.publicKey }).algorithm, undefined, 'a public key alone cannot sign');
  });

  test('a private JWK passed as publicKey is reduced to its public part and verifies', async () => {
    const token = await joseToken('ES256', p256.privateKey);
    assert.equal((await verifyToken(token, { publicKey: jwkOf(p256.privateKey) })).sub, 'u1');
    assert.equal(normalizeOptions({ publicKey: jwkOf(p256.privateKey) }).algorithm, undefined, 'never used to sign');
  });

  test('only privateKey configured: the guard verifies the tokens it signs', async () => {
    for (const privateKey of [rsa.privateKey, pemOf(rsa.privateKey), jwkOf(rsa.privateKey)] as PrivateKeyInput[]) {
      const options: JwtGuardOptions = { privateKey };
      const token = await signToken({ sub: 'self' }, options);
      assert.equal((await verifyToken(token, options)).sub, 'self');
    }
  });
});

describe('HMAC: every secret form', () => {
  const bytes = new TextEncoder().encode(STRONG_SECRET);
  const forms: [string, () => NonNullable<JwtGuardOptions['secret']>][] = [
    ['string', () => STRONG_SECRET],
    ['Uint8Array', () => Uint8Array.from(bytes)],
    ['secret KeyObject', () => createSecretKey(bytes)],
    ['oct JWK', () => ({ kty: 'oct', k: base64url.encode(bytes) })],
  ];
  for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
    test(`${alg}: every form verifies the same jose-signed token, and signs tokens jose verifies`, async () => {
      const token = await joseToken(alg, bytes, { sub: 'h1' });
      for (const [name, secret] of forms) {
        assert.equal((await verifyToken(token, { secret: secret(), algorithm: alg })).sub, 'h1', name);
        await rejectsWith(verifyToken(token, { secret: secret(), algorithm: alg === 'HS256' ? 'HS512' : 'HS256' }), 'algorithm_not_allowed');
        const signed = await signToken({ sub: name }, { secret: secret(), algorithm: alg, kid: 'hk' });
        const { payload, protectedHeader } = await jwtVerify(signed, bytes, { algorithms: [alg] });
        assert.deepEqual(protectedHeader, { alg, typ: 'JWT', kid: 'hk' }, name);
        assert.equal(payload.sub, name);
      }
      await rejectsWith(verifyToken(token, { secret: `${STRONG_SECRET}x`, algorithm: alg }), 'signature_invalid');
    });
  }
});

// --- key confusion ------------------------------------------------------------------------------

describe('key confusion', () => {
  const pem = pemOf(rsa.publicKey);
  /** The classic RS256→HS256 forgery: HMAC keyed with the public key's PEM text. */
  const forgeWithPem = (payload: JWTPayload = { sub: 'admin' }) => joseToken('HS256', new TextEncoder().encode(pem), payload);

  test('RS256→HS256 with the PEM as HMAC key: refused whatever the allowlist', async () => {
    const forged = await forgeWithPem();
    await rejectsWith(verifyToken(forged, { publicKey: pem }), 'algorithm_not_allowed');
    await rejectsWith(verifyToken(forged, { publicKey: pem, algorithms: ['RS256'] }), 'algorithm_not_allowed');
    // Both algorithms allowed and both keys configured: HS256 uses `secret`, never the public key.
    const both: JwtGuardOptions = { secret: STRONG_SECRET, publicKey: pem, algorithms: ['HS256', 'RS256'] };
    await rejectsWith(verifyToken(forged, both), 'signature_invalid');
    // ...while genuine tokens of both kinds still verify with that configuration.
    assert.equal((await verifyToken(await joseToken('RS256', rsa.privateKey), both)).sub, 'u1');
    assert.equal((await verifyToken(await joseToken('HS256', new TextEncoder().encode(STRONG_SECRET)), both)).sub, 'u1');
  });

  test('RS256→HS256 keyed with the JWK text or the DER bytes: signature_invalid', async () => {
    const both: JwtGuardOptions = { secret: STRONG_SECRET, publicKey: jwkOf(rsa.publicKey), algorithms: ['HS256', 'RS256'] };
    await rejectsWith(verifyToken(await joseToken('HS256', new TextEncoder().encode(JSON.stringify(jwkOf(rsa.publicKey)))), both), 'signature_invalid');
    await rejectsWith(verifyToken(await joseToken('HS256', rsa.publicKey.export({ type: 'spki', format: 'der' })), both), 'signature_invalid');
  });

  test('a public key and HS256 without a secret is refused at construction', () => {
    refused({ publicKey: pem, algorithms: ['HS256', 'RS256'] }, /HS256 is allowed but no configured key can verify it: add `secret`/);
  });

  test('getKey returning the PEM for every token: HS256 forgery → key_not_found, RS256 verifies', async () => {
    const options: JwtGuardOptions = { getKey: () => pem, algorithms: ['HS256', 'RS256'] };
    await rejectsWith(verifyToken(await forgeWithPem(), options), 'key_not_found');
    await rejectsWith(verifyToken(await joseToken('HS256', new TextEncoder().encode(`${pem}\n`)), { getKey: () => `${pem}\n`, algorithms: ['HS256'] }), 'key_not_found');
    assert.equal((await verifyToken(await joseToken('RS256', rsa.privateKey), options)).sub, 'u1');
    // Asymmetric keys in any form never serve as an HMAC secret.
    for (const key of [rsa.publicKey, jwkOf(rsa.publicKey), await importSPKI(pem, 'RS256')]) {
      await rejectsWith(verifyToken(await forgeWithPem(), { getKey: () => key, algorithms: ['HS256', 'RS256'] }), 'key_not_found');
    }
  });

  test('local jwks keys never serve HMAC: HS256 forgery with the PEM → key_not_found', async () => {
    const options: JwtGuardOptions = { jwks: { keys: [jwkOf(rsa.publicKey)] }, algorithms: ['HS256', 'RS256'] };
    await rejectsWith(verifyToken(await forgeWithPem(), options), 'key_not_found');
    assert.equal((await verifyToken(await joseToken('RS256', rsa.privateKey), options)).sub, 'u1');
  });

  test('a PEM configured as `secret` is refused (the misconfiguration that enables RS256→HS256)', () => {
    refused({ secret: pem, publicKey: pem, algorithms: ['HS256', 'RS256'] }, /secret/);
  });

  test('wrong-family key: ES256 token, RSA publicKey, both algorithms allowed → refused', async () => {
    const es256 = await joseToken('ES256', p256.privateKey);
    refused({ publicKey: rsa.publicKey, algorithms: ['RS256', 'ES256'] }, /ES256 is allowed but no configured key can verify it: add a EC P-256 `publicKey`/);
    await rejectsWith(verifyToken(es256, { publicKey: rsa.publicKey, algorithms: ['RS256', 'ES256'] }), 'invalid_options');
    await rejectsWith(verifyToken(es256, { publicKey: rsa.publicKey, algorithms: ['RS256'] }), 'algorithm_not_allowed');
    // The right family but the wrong curve.
    refused({ publicKey: p384.publicKey, algorithms: ['ES256', 'ES384'] }, /ES256 is allowed but no configured key can verify it/);
    // A JWKS holding only an RSA key has nothing for ES256.
    await rejectsWith(verifyToken(es256, { jwks: { keys: [jwkOf(rsa.publicKey)] }, algorithms: ['RS256', 'ES256'] }), 'key_not_found');
  });

  test('wrong-family key from getKey (JWK, CryptoKey, secret bytes) → key_not_found', async () => {
    const es256 = await joseToken('ES256', p256.privateKey);
    const algorithms: Alg[] = ['RS256', 'ES256', 'HS256'];
    await rejectsWith(verifyToken(es256, { getKey: () => jwkOf(rsa.publicKey), algorithms }), 'key_not_found');
    await rejectsWith(verifyToken(es256, { getKey: () => importSPKI(pemOf(rsa.publicKey), 'RS256'), algorithms }), 'key_not_found');
    await rejectsWith(verifyToken(es256, { getKey: () => jwkOf(p384.publicKey), algorithms }), 'key_not_found');
    await rejectsWith(verifyToken(es256, { getKey: () => new TextEncoder().encode(STRONG_SECRET), algorithms }), 'key_not_found');
    await rejectsWith(verifyToken(es256, { getKey: () => STRONG_SECRET, algorithms }), 'key_not_found');
    await rejectsWith(verifyToken(await joseToken('RS256', rsa.privateKey), { getKey: () => ({ kty: 'oct', k: base64url.encode(STRONG_SECRET) }), algorithms }), 'key_not_found');
  });

  test('wrong-family KeyObject from getKey: RSA KeyObject for ES256 → key_not_found', async () => {
    const es256 = await joseToken('ES256', p256.privateKey);
    await rejectsWith(verifyToken(es256, { getKey: () => rsa.publicKey, algorithms: ['RS256', 'ES256'] }), 'key_not_found');
  });

  test('wrong-curve KeyObject from getKey: P-384 KeyObject for ES256 → key_not_found', async () => {
    const es256 = await joseToken('ES256', p256.privateKey);
    await rejectsWith(verifyToken(es256, { getKey: () => p384.publicKey, algorithms: ['ES256'] }), 'key_not_found');
  });

  test('RSA publicKey + EC privateKey, RS256 and ES256 allowed: ES256 tokens verify, or the config is refused', async () => {
    const options: JwtGuardOptions = { publicKey: rsa.publicKey, privateKey: p256.privateKey, algorithms: ['RS256', 'ES256'] };
    let config: unknown;
    try {
      config = normalizeOptions(options);
    } catch (error) {
      assert.ok(error instanceof JwtGuardError && error.code === 'invalid_options');
      return;
    }
    assert.ok(config);
    assert.equal((await verifyToken(await joseToken('ES256', p256.privateKey), options)).sub, 'u1');
  });

  test('publicKey JWK metadata is honoured like in jwks: `alg` PS256 or `use: "enc"` does not verify RS256', async () => {
    const token = await joseToken('RS256', rsa.privateKey);
    await rejectsWith(verifyToken(token, { jwks: { keys: [{ ...jwkOf(rsa.publicKey), alg: 'PS256' }] }, algorithms: ['RS256'] }), 'key_not_found');
    refused({ publicKey: { ...jwkOf(rsa.publicKey), alg: 'PS256' }, algorithm: 'RS256' }, /alg/);
    refused({ publicKey: { ...jwkOf(rsa.publicKey), use: 'enc' }, algorithm: 'RS256' }, /use/);
  });

  test('an RSA-PSS KeyObject (which jose cannot use) is refused at construction, or verifies PS256', async () => {
    const pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 });
    const input = `${base64url.encode(JSON.stringify({ alg: 'PS256' }))}.${base64url.encode(JSON.stringify({ sub: 'pss' }))}`;
    const signature = nodeSign('sha256', Buffer.from(input), { key: pss.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    const token = `${input}.${base64url.encode(signature)}`;
    try {
      normalizeOptions({ publicKey: pss.publicKey, algorithm: 'PS256' });
    } catch (error) {
      assert.ok(error instanceof JwtGuardError && error.code === 'invalid_options');
      return;
    }
    assert.equal((await verifyToken(token, { publicKey: pss.publicKey, algorithm: 'PS256' })).sub, 'pss');
  });
});

// --- construction errors ------------------------------------------------------------------------

describe('construction-time key errors (invalid_options)', () => {
  test('a public key where signing needs a private one', async () => {
    refused({ privateKey: pemOf(rsa.publicKey) }, /`privateKey` holds no private key/);
    refused({ privateKey: rsaCert?.certPem ?? pemOf(rsa.publicKey) }, /`privateKey` holds no private key/);
    refused({ privateKey: rsa.publicKey }, /`privateKey` is a public key; signing needs the private key/);
    refused({ privateKey: jwkOf(p256.publicKey) }, /`privateKey` is a public key/);
    refused({ privateKey: await importSPKI(pemOf(ed25519.publicKey), 'EdDSA') }, /`privateKey` is a public key/);
    refused({ publicKey: rsa.publicKey, authPath: '/login' }, /`authPath` mints tokens, which needs a signing key/);
    // And the other way round: a private key where a public one belongs.
    refused({ publicKey: pemOf(rsa.privateKey) }, /`publicKey` holds a private key/);
    refused({ publicKey: p256.privateKey }, /`publicKey` holds a private key/);
    refused({ publicKey: await importPKCS8(pemOf(p256.privateKey), 'ES256') }, /`publicKey` holds a private key/);
    // signToken with only a public key: invalid_options at sign time.
    const error = await rejectsWith(signToken({ sub: 'x' }, { publicKey: rsa.publicKey }), 'invalid_options');
    assert.match(error.message, /signing needs a key that can sign/);
  });

  test('RSA keys under 2048 bits, in every form', async () => {
    const tooSmall = /RSA key of 1024 bits; RSA keys must have at least 2048 bits/;
    const webKeys = await webcrypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, true, ['sign', 'verify']);
    for (const publicKey of [pemOf(rsa1024.publicKey), jwkOf(rsa1024.publicKey), rsa1024.publicKey, webKeys.publicKey] as PublicKeyInput[]) {
      refused({ publicKey }, tooSmall);
    }
    for (const privateKey of [pemOf(rsa1024.privateKey), jwkOf(rsa1024.privateKey), rsa1024.privateKey, webKeys.privateKey] as PrivateKeyInput[]) {
      refused({ privateKey }, tooSmall);
    }
    refused({ publicKey: rsa1024.publicKey, algorithm: 'PS512' }, tooSmall);
  });

  test('an RSA-1024 X.509 certificate is refused', { skip: HAS_OPENSSL ? false : 'openssl is not on PATH' }, () => {
    const small = opensslRsaCertificate(1024);
    assert.ok(small);
    refused({ publicKey: small.certPem }, /RSA key of 1024 bits/);
    refused({ privateKey: small.keyPem }, /RSA key of 1024 bits/);
  });

  test('a 2047-bit RSA key is refused in every form', () => {
    const odd = generateKeyPairSync('rsa', { modulusLength: 2047 });
    refused({ publicKey: odd.publicKey }, /RSA key of 2047 bits/);
    refused({ publicKey: jwkOf(odd.publicKey) }, /RSA key of 2047 bits/);
  });

  test('a key that fits none of the allowed algorithms', () => {
    refused({ secret: STRONG_SECRET, publicKey: rsa.publicKey, algorithms: ['HS256'] }, /the configured RSA key fits none of the allowed algorithms \(HS256\)/);
    refused({ secret: STRONG_SECRET, publicKey: p256.publicKey, algorithms: ['ES256'] }, /the configured `secret` fits none of the allowed algorithms \(ES256\)/);
    refused({ publicKey: generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey }, /no JWS algorithm fits the configured key \(EC secp256k1\)/);
    refused({ publicKey: generateKeyPairSync('ed448').publicKey }, /no JWS algorithm fits the configured key \(ed448\)/);
    refused({ publicKey: generateKeyPairSync('x25519').publicKey }, /no JWS algorithm fits the configured key \(x25519\)/);
    refused({ secret: STRONG_SECRET, publicKey: rsa.publicKey }, /keys of several kinds \(oct, RSA\) are configured; list the algorithms to accept/);
  });

  test('an allowed algorithm that no configured key can verify', () => {
    refused({ secret: STRONG_SECRET, algorithms: ['HS256', 'RS256'] }, /RS256 is allowed but no configured key can verify it: add a RSA `publicKey` \(or `jwks`\)/);
    refused({ publicKey: p256.publicKey, algorithm: 'ES512' }, /ES512 is allowed but no configured key can verify it: add a EC P-521 `publicKey`/);
    refused({ publicKey: ed25519.publicKey, algorithms: ['EdDSA', 'ES256'] }, /ES256 is allowed but no configured key/);
    refused({ privateKey: rsa.privateKey, algorithms: ['RS256', 'HS512'] }, /HS512 is allowed but no configured key can verify it: add `secret`/);
  });

  test('a key of the wrong kind for its option', () => {
    refused({ secret: rsa.publicKey }, /`secret` is an asymmetric KeyObject/);
    refused({ secret: jwkOf(rsa.publicKey) }, /`secret` as a JWK must be `\{ kty: "oct", k: "<base64url>" \}`/);
    refused({ publicKey: { kty: 'oct', k: base64url.encode(STRONG_SECRET) } }, /`publicKey` is an `oct` JWK. Pass HMAC secrets as `secret`/);
    refused({ publicKey: createSecretKey(new TextEncoder().encode(STRONG_SECRET)) }, /`publicKey` is a secret KeyObject/);
    refused({ publicKey: 'not a pem' }, /`publicKey` as a string must be a PEM/);
    refused({ publicKey: '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n' }, /`publicKey` could not be parsed as a PEM public key/);
    refused({ privateKey: 42 }, /`privateKey` must be a PEM string, a JWK, a KeyObject or a CryptoKey/);
  });

  test('an empty secret, in every form', () => {
    refused({ secret: '' }, /`secret` is empty/);
    refused({ secret: new Uint8Array(0) }, /`secret` is an empty byte array/);
    refused({ secret: { kty: 'oct', k: '' } }, /`secret` is an empty `oct` JWK/);
  });

  test('an empty secret KeyObject is refused', () => {
    refused({ secret: createSecretKey(new Uint8Array(0)), ...quiet }, /empty/);
  });

  test('an `oct` JWK whose `k` is not base64url is refused with invalid_options', () => {
    refused({ secret: { kty: 'oct', k: 'not base64url!' } }, /`secret`/);
  });

  test('jwks and getKey need `algorithms`', () => {
    refused({ jwks: { keys: [jwkOf(rsa.publicKey)] } }, /`jwks` and `getKey` need an explicit allowlist, e.g. `algorithms: \["RS256"\]`/);
    refused({ getKey: () => rsa.publicKey }, /`jwks` and `getKey` need an explicit allowlist/);
    refused({ jwks: 'https://issuer.example/.well-known/jwks.json' }, /need an explicit allowlist/);
    assert.deepEqual(normalizeOptions({ jwks: { keys: [jwkOf(rsa.publicKey)] }, algorithms: ['RS256'] }).algorithms, ['RS256']);
    assert.deepEqual(normalizeOptions({ getKey: () => undefined, algorithms: ['ES256', 'EdDSA'] }).algorithms, ['ES256', 'EdDSA']);
  });
});

// --- local jwks ---------------------------------------------------------------------------------

describe('local jwks', () => {
  const keys = [
    { ...jwkOf(rsa.publicKey), kid: 'a' },
    { ...jwkOf(rsaOther.publicKey), kid: 'b' },
    { ...jwkOf(p256.publicKey), kid: 'c' },
  ];
  const options = (): JwtGuardOptions => ({ jwks: { keys }, algorithms: ['RS256', 'PS256', 'ES256'] });

  test('the kid selects between two keys of the same kind', async () => {
    assert.equal((await verifyToken(await joseToken('RS256', rsa.privateKey, { sub: 'by-a' }, 'a'), options())).sub, 'by-a');
    assert.equal((await verifyToken(await joseToken('PS256', rsaOther.privateKey, { sub: 'by-b' }, 'b'), options())).sub, 'by-b');
    assert.equal((await verifyToken(await joseToken('ES256', p256.privateKey, { sub: 'by-c' }, 'c'), options())).sub, 'by-c');
    // kid "a" but signed with b's key.
    await rejectsWith(verifyToken(await joseToken('RS256', rsaOther.privateKey, {}, 'a'), options()), 'signature_invalid');
  });

  test('an unknown kid → key_not_found (401)', async () => {
    const error = await rejectsWith(verifyToken(await joseToken('RS256', rsa.privateKey, {}, 'zzz'), options()), 'key_not_found');
    assert.equal(error.status, 401);
    // A kid naming a key of another kind is no match either.
    await rejectsWith(verifyToken(await joseToken('RS256', rsa.privateKey, {}, 'c'), options()), 'key_not_found');
  });

  test('without a kid: one candidate of the right kind is used; two are ambiguous → key_not_found', async () => {
    assert.equal((await verifyToken(await joseToken('ES256', p256.privateKey), options())).sub, 'u1');
    await rejectsWith(verifyToken(await joseToken('RS256', rsa.privateKey), options()), 'key_not_found');
  });

  test('an empty key set → key_not_found', async () => {
    await rejectsWith(verifyToken(await joseToken('RS256', rsa.privateKey, {}, 'a'), { jwks: { keys: [] }, algorithms: ['RS256'] }), 'key_not_found');
  });
});

// --- getKey -------------------------------------------------------------------------------------

describe('getKey', () => {
  const tenantA = rsa;
  const tenantB = p256;
  const tenants: Record<string, PublicKeyInput> = {
    'https://a.example': pemOf(tenantA.publicKey),
    'https://b.example': jwkOf(tenantB.publicKey),
  };

  test('chooses a per-tenant key from the unverified payload (iss)', async () => {
    const seen: [string | undefined, string | undefined, unknown][] = [];
    const options: JwtGuardOptions = {
      algorithms: ['RS256', 'ES256'],
      getKey: async (header, payload) => {
        seen.push([header.alg, header.kid, payload.iss]);
        return tenants[payload.iss ?? ''];
      },
    };
    assert.equal((await verifyToken(await joseToken('RS256', tenantA.privateKey, { iss: 'https://a.example', sub: 'alice' }, 'ka'), options)).sub, 'alice');
    assert.equal((await verifyToken(await joseToken('ES256', tenantB.privateKey, { iss: 'https://b.example', sub: 'bob' }), options)).sub, 'bob');
    assert.deepEqual(seen, [
      ['RS256', 'ka', 'https://a.example'],
      ['ES256', undefined, 'https://b.example'],
    ]);
    // Tenant A's key claiming to be tenant B: B's key is EC, so it cannot serve RS256.
    await rejectsWith(verifyToken(await joseToken('RS256', tenantA.privateKey, { iss: 'https://b.example' }), options), 'key_not_found');
    // Another RSA key claiming to be tenant A: tenant A's key does not verify it.
    await rejectsWith(verifyToken(await joseToken('RS256', rsaOther.privateKey, { iss: 'https://a.example' }), options), 'signature_invalid');
  });

  test('per-tenant HMAC secrets as strings', async () => {
    const secrets: Record<string, string> = { t1: `${STRONG_SECRET}-1`, t2: `${STRONG_SECRET}-2` };
    const options: JwtGuardOptions = { algorithms: ['HS256'], getKey: (_header, payload) => secrets[payload.iss ?? ''] };
    const t1 = await joseToken('HS256', new TextEncoder().encode(secrets.t1), { iss: 't1' });
    assert.equal((await verifyToken(t1, options)).iss, 't1');
    await rejectsWith(verifyToken(await joseToken('HS256', new TextEncoder().encode(secrets.t1), { iss: 't2' }), options), 'signature_invalid');
  });

  test('getKey returning undefined (or null) → key_not_found (401)', async () => {
    const token = await joseToken('RS256', tenantA.privateKey, { iss: 'https://unknown.example' });
    const error = await rejectsWith(verifyToken(token, { algorithms: ['RS256'], getKey: (_h, payload) => tenants[payload.iss ?? ''] }), 'key_not_found');
    assert.equal(error.status, 401);
    await rejectsWith(verifyToken(token, { algorithms: ['RS256'], getKey: async () => undefined }), 'key_not_found');
    await rejectsWith(verifyToken(token, { algorithms: ['RS256'], getKey: () => null as unknown as undefined }), 'key_not_found');
  });

  test('getKey throwing or rejecting → key_source_unavailable (503), cause kept, message generic', async () => {
    const token = await joseToken('RS256', tenantA.privateKey, { iss: 'https://a.example' });
    const failure = new Error('tenant database is down: postgres://secret@db');
    for (const getKey of [
      () => {
        throw failure;
      },
      () => Promise.reject(failure),
    ]) {
      const error = await rejectsWith(verifyToken(token, { algorithms: ['RS256'], getKey }), 'key_source_unavailable');
      assert.equal(error.status, 503);
      assert.equal(error.cause, failure);
      assert.ok(!error.message.includes('postgres'), error.message);
    }
    // A TypeError (typically a bug in getKey itself) gets the same code.
    const typeError = await rejectsWith(
      verifyToken(token, {
        algorithms: ['RS256'],
        getKey: () => {
          throw new TypeError("Cannot read properties of undefined (reading 'key')");
        },
      }),
      'key_source_unavailable',
    );
    assert.equal(typeError.status, 503);
  });

  test('a payload that is not JSON reaches getKey as {}', async () => {
    let received: JWTPayload | undefined;
    const header = base64url.encode(JSON.stringify({ alg: 'RS256' }));
    const token = `${header}.${base64url.encode('not json')}.${base64url.encode('sig')}`;
    await rejectsWith(
      verifyToken(token, {
        algorithms: ['RS256'],
        getKey: (_h, payload) => {
          received = payload;
          return tenantA.publicKey;
        },
      }),
      'signature_invalid',
    );
    assert.deepEqual(received, {});
  });
});
