// Hostile-input battery for verifyToken. Every test is named after the attack it models and pins
// the exact JwtGuardError code. Each token is judged three ways, which must agree:
//   - `cached`:   default options (verified-token cache + synchronous node:crypto HMAC fast path);
//   - `uncached`: `cacheSize: 0` (fast path, falling back to jose);
//   - `jose`:     the fast path and cache removed, so jose alone decides (the reference).
// Where the outcome is jose's own behaviour rather than a jwtguard rule, a comment says so: the
// fast path must keep matching it.
//
// Tokens are built here (jose, or node:crypto HMAC over hand-made segments) and never with
// jwtguard's signToken, so a signing bug cannot hide a verification bug.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test, type TestContext } from 'node:test';
import { CompactSign, SignJWT, exportJWK, exportSPKI, generateKeyPair } from 'jose';
import { JwtGuardError, verifyToken, type JwtGuardErrorCode, type JwtGuardOptions, type JwtGuardPayload } from '../../../src/index.js';
import { normalizeOptions, type NormalizedOptions } from '../../../src/core/options/normalize-options.js';
import { verifyWith } from '../../../src/core/verify/verify-token.js';
import { STRONG_SECRET } from '../../support/tokens.js';

const SECRET = STRONG_SECRET;
const KEY = new TextEncoder().encode(SECRET);
const ATTACKER_SECRET = 'attacker-controlled-secret-attacker-controlled-secret-0123456789';

const cachedOptions: JwtGuardOptions = { secret: SECRET };
const uncachedOptions: JwtGuardOptions = { secret: SECRET, cacheSize: 0 };
const joseConfig: NormalizedOptions = { ...normalizeOptions({ secret: SECRET, cacheSize: 0 }), fastPath: undefined, cache: undefined };

type Path = 'cached' | 'uncached' | 'jose';
const PATHS: readonly Path[] = ['cached', 'uncached', 'jose'];

function run(token: unknown, path: Path): Promise<JwtGuardPayload> {
  if (path === 'cached') return verifyToken(token as string, cachedOptions);
  if (path === 'uncached') return verifyToken(token as string, uncachedOptions);
  return verifyWith(token, joseConfig);
}

type Verdict = { ok: true; payload: JwtGuardPayload } | { ok: false; error: JwtGuardError };

async function verdict(token: unknown, path: Path): Promise<Verdict> {
  try {
    return { ok: true, payload: await run(token, path) };
  } catch (error) {
    assert.ok(error instanceof JwtGuardError, `[${path}] rejected with something other than a JwtGuardError: ${String(error)}`);
    return { ok: false, error };
  }
}

/** Asserts every path rejects `token` with `code` (and `claim`, when given); returns the first error. */
async function rejects(token: unknown, code: JwtGuardErrorCode, claim?: string): Promise<JwtGuardError> {
  const errors: JwtGuardError[] = [];
  // The cached path twice: a rejection must not be remembered as anything else.
  for (const path of [...PATHS, 'cached'] as const) {
    const result = await verdict(token, path);
    if (result.ok) assert.fail(`[${path}] accepted a token that should fail with ${code}: ${JSON.stringify(result.payload)}`);
    const { error } = result;
    assert.equal(error.code, code, `[${path}] ${error.message}`);
    assert.equal(error.status, 401);
    if (claim !== undefined) assert.equal(error.claim, claim, `[${path}] claim`);
    if (typeof token === 'string' && token.length >= 8) assert.ok(!error.message.includes(token), 'message contains the token');
    assert.ok(!error.message.includes(SECRET), 'message contains the secret');
    errors.push(error);
  }
  return errors[0] as JwtGuardError;
}

/** Asserts every path accepts `token` with the same payload (the cached path twice: miss, then hit). */
async function accepts(token: string): Promise<JwtGuardPayload> {
  const payloads: JwtGuardPayload[] = [];
  for (const path of [...PATHS, 'cached'] as const) {
    const result = await verdict(token, path);
    if (!result.ok) assert.fail(`[${path}] rejected a token that should verify: ${result.error.code} (${result.error.message})`);
    payloads.push(result.payload);
  }
  for (const payload of payloads.slice(1)) assert.deepEqual(payload, payloads[0]);
  return payloads[0] as JwtGuardPayload;
}

/** Asserts `token` never verifies: every path rejects it with some JwtGuardError, all with the same code. */
async function neverAccepted(token: unknown): Promise<JwtGuardErrorCode> {
  const codes = new Set<JwtGuardErrorCode>();
  for (const path of PATHS) {
    const result = await verdict(token, path);
    if (result.ok) assert.fail(`[${path}] accepted a hostile token: ${JSON.stringify(result.payload)}`);
    assert.equal(result.error.status, 401);
    codes.add(result.error.code);
  }
  assert.equal(codes.size, 1, `the paths disagree: ${[...codes].join(', ')}`);
  return [...codes][0] as JwtGuardErrorCode;
}

// --- token building -----------------------------------------------------------------------------

const now = (): number => Math.floor(Date.now() / 1000);
const b64u = (input: string | Uint8Array): string => Buffer.from(input).toString('base64url');
const seg = (value: unknown): string => b64u(JSON.stringify(value));
const HS256_HEADER = seg({ alg: 'HS256', typ: 'JWT' });

/** HMAC over `header.payload`, exactly as given (no re-encoding), with node:crypto. */
function mac(signingInput: string, secret: string | Uint8Array = SECRET, hash: 'sha256' | 'sha384' | 'sha512' = 'sha256'): string {
  return createHmac(hash, secret).update(signingInput).digest('base64url');
}
/** A token over the given encoded segments, signed with `secret`. */
function signSegments(header: string, payload: string, secret: string | Uint8Array = SECRET): string {
  return `${header}.${payload}.${mac(`${header}.${payload}`, secret)}`;
}
/** A token whose header and payload are the given raw texts or bytes (not necessarily JSON), correctly signed. */
function signRaw(header: string | Uint8Array, payload: string | Uint8Array, secret: string | Uint8Array = SECRET): string {
  return signSegments(b64u(header), b64u(payload), secret);
}
/** A correctly signed HS256 token with the given raw payload text or bytes. */
const signPayload = (payload: string | Uint8Array): string => signRaw('{"alg":"HS256","typ":"JWT"}', payload);
/** A correctly signed token with the given raw header text or bytes and a harmless payload. */
const signHeader = (header: string | Uint8Array, payload = '{"sub":"u1"}'): string => signRaw(header, payload);
/** Replaces the signature segment. */
const withSignature = (token: string, signature: string): string => `${token.slice(0, token.lastIndexOf('.'))}.${signature}`;
const signatureOf = (token: string): string => token.slice(token.lastIndexOf('.') + 1);

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Replaces `globalThis.fetch` with a trap for the duration of `fn`; returns how often it was called. */
async function countingFetchCalls(fn: () => Promise<void>): Promise<number> {
  const original = globalThis.fetch;
  let calls = 0;
  globalThis.fetch = (async () => {
    calls += 1;
    throw new Error('network access during token verification');
  }) as typeof fetch;
  try {
    await fn();
  } finally {
    globalThis.fetch = original;
  }
  return calls;
}

// -------------------------------------------------------------------------------------------------

describe('hostile input: alg "none" (unsecured JWS)', () => {
  for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
    test(`alg "${alg}" with an empty signature → token_malformed (an empty third segment fails the format check)`, async () => {
      await rejects(`${seg({ alg, typ: 'JWT' })}.${seg({ sub: 'admin', admin: true })}.`, 'token_malformed');
    });

    test(`alg "${alg}" with a non-empty garbage signature → algorithm_not_allowed`, async () => {
      await rejects(`${seg({ alg, typ: 'JWT' })}.${seg({ sub: 'admin' })}.AAAA`, 'algorithm_not_allowed');
    });

    test(`alg "${alg}" carrying a valid HS256 MAC under the real secret → algorithm_not_allowed (alg comes from options, never the token)`, async () => {
      await rejects(signSegments(seg({ alg }), seg({ sub: 'admin' })), 'algorithm_not_allowed');
    });
  }

  test('alg spelled like the configured one but not equal ("hs256", "HS256 ", "HS-256") → algorithm_not_allowed', async () => {
    for (const alg of ['hs256', 'HS256 ', ' HS256', 'HS-256', 'HS256\u0000', 'Hs256']) {
      await rejects(signSegments(seg({ alg }), seg({ sub: 'admin' })), 'algorithm_not_allowed');
    }
  });

  test('alg of another HMAC size (HS512 token, HS256 configured) → algorithm_not_allowed, even with a correct HS512 MAC', async () => {
    const header = seg({ alg: 'HS512' });
    const payload = seg({ sub: 'admin' });
    await rejects(`${header}.${payload}.${mac(`${header}.${payload}`, SECRET, 'sha512')}`, 'algorithm_not_allowed');
  });

  test('alg missing, empty or not a string (absent, "", 256, ["HS256"], null, {}) → token_malformed', async () => {
    for (const header of [{}, { alg: '' }, { alg: 256 }, { alg: ['HS256'] }, { alg: null }, { alg: {} }, { typ: 'JWT' }]) {
      await rejects(signSegments(seg(header), seg({ sub: 'admin' })), 'token_malformed');
    }
  });
});

describe('hostile input: stripped, truncated and forged signatures', () => {
  const payload = seg({ sub: 'u1', role: 'user' });
  const good = signSegments(HS256_HEADER, payload);
  const goodMac = createHmac('sha256', SECRET).update(`${HS256_HEADER}.${payload}`).digest();

  test('the untouched token verifies (control)', async () => {
    assert.equal((await accepts(good)).role, 'user');
  });

  test('signature stripped (empty third segment) → token_malformed', async () => {
    await rejects(withSignature(good, ''), 'token_malformed');
  });

  test('signature stripped together with its dot (two segments) → token_malformed', async () => {
    await rejects(good.slice(0, good.lastIndexOf('.')), 'token_malformed');
  });

  test('truncated HMAC: the first 16, 31 and 1 bytes of the correct MAC, canonically encoded → signature_invalid', async () => {
    for (const length of [16, 31, 1]) await rejects(withSignature(good, b64u(goodMac.subarray(0, length))), 'signature_invalid');
  });

  test('signature text cut to a length ≡ 1 (mod 4) (41 chars, 1 char) → token_malformed (no byte string encodes to it)', async () => {
    await rejects(withSignature(good, signatureOf(good).slice(0, 41)), 'token_malformed');
    await rejects(withSignature(good, signatureOf(good).slice(0, 1)), 'token_malformed');
  });

  test('signature text cut to 40 chars (a whole number of quanta, 30 bytes) → signature_invalid', async () => {
    await rejects(withSignature(good, signatureOf(good).slice(0, 40)), 'signature_invalid');
  });

  test('correct MAC with bytes appended → signature_invalid', async () => {
    await rejects(withSignature(good, b64u(Buffer.concat([goodMac, Buffer.from([0])]))), 'signature_invalid');
    await rejects(withSignature(good, b64u(Buffer.concat([goodMac, goodMac]))), 'signature_invalid');
  });

  test('all-zero signature of the right length → signature_invalid', async () => {
    await rejects(withSignature(good, b64u(new Uint8Array(32))), 'signature_invalid');
  });

  test('HS512 MAC under the right secret behind an HS256 header → signature_invalid', async () => {
    await rejects(withSignature(good, mac(`${HS256_HEADER}.${payload}`, SECRET, 'sha512')), 'signature_invalid');
  });

  test('MAC under an empty key → signature_invalid', async () => {
    await rejects(withSignature(good, mac(`${HS256_HEADER}.${payload}`, '')), 'signature_invalid');
  });

  test('MAC under a prefix of the real secret → signature_invalid', async () => {
    await rejects(signSegments(HS256_HEADER, payload, SECRET.slice(0, 32)), 'signature_invalid');
  });

  test('signature re-spelled with non-zero unused trailing bits (same bytes, non-canonical base64url) → token_malformed, never accepted', async () => {
    // A 32-byte MAC is 43 chars: the last char carries 2 unused bits, so 3 other spellings decode
    // to the very same bytes in lenient decoders (atob, Buffer). Only the canonical one may verify,
    // or a denylist or cache keyed on the token string could be dodged by re-spelling it.
    const signature = signatureOf(good);
    const last = BASE64URL.indexOf(signature.at(-1) as string);
    assert.equal(last & 0b11, 0, 'the control signature is canonical');
    let respellings = 0;
    for (let bits = 1; bits <= 0b11; bits++) {
      const respelled = `${signature.slice(0, -1)}${BASE64URL[last | bits]}`;
      assert.deepEqual(Buffer.from(respelled, 'base64url'), goodMac, 'the respelling decodes to the same MAC');
      await rejects(withSignature(good, respelled), 'token_malformed');
      respellings++;
    }
    assert.equal(respellings, 3);
  });

  test('every other last character of the signature → rejected (token_malformed or signature_invalid), never accepted', async () => {
    const signature = signatureOf(good);
    for (const char of BASE64URL) {
      if (char === signature.at(-1)) continue;
      const code = await neverAccepted(withSignature(good, `${signature.slice(0, -1)}${char}`));
      assert.ok(code === 'token_malformed' || code === 'signature_invalid', code);
    }
  });

  test('header or payload segment with non-canonical trailing bits, even when that exact spelling is what was signed → token_malformed', async () => {
    // n bytes with n ≡ 1 (mod 3) end in a char with 4 unused bits; n ≡ 2 (mod 3), 2 unused bits.
    const header = b64u('{"alg":"HS256"} '); // 16 bytes → 22 chars: 4 unused bits
    assert.equal(header.length % 4, 2);
    const respelledHeader = `${header.slice(0, -1)}${BASE64URL[BASE64URL.indexOf(header.at(-1) as string) | 1]}`;
    await accepts(signSegments(header, seg({ sub: 'u1' })));
    await rejects(signSegments(respelledHeader, seg({ sub: 'u1' })), 'token_malformed');

    const body = b64u('{"sub":"u1xy"}'); // 14 bytes → 19 chars: 2 unused bits
    assert.equal(body.length % 4, 3);
    const respelledBody = `${body.slice(0, -1)}${BASE64URL[BASE64URL.indexOf(body.at(-1) as string) | 1]}`;
    await accepts(signSegments(HS256_HEADER, body));
    await rejects(signSegments(HS256_HEADER, respelledBody), 'token_malformed');
  });

  test('payload segment of impossible length (≡ 1 mod 4), correctly signed → token_malformed', async () => {
    const body = `${seg({ sub: 'u1' })}A`; // 16 + 1 chars
    assert.equal(body.length % 4, 1);
    await rejects(signSegments(HS256_HEADER, body), 'token_malformed');
  });
});

describe('hostile input: RS256 → HS256 key confusion', () => {
  test('HS256 token whose HMAC key is the RSA public key (PEM/SPKI text, raw DER, JWK JSON) → signature_invalid', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
    const pem = await exportSPKI(publicKey);
    const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    const jwk = JSON.stringify(await exportJWK(publicKey));
    for (const confusedKey of [new TextEncoder().encode(pem), new TextEncoder().encode(pem.trim()), new Uint8Array(der), new TextEncoder().encode(jwk)]) {
      const forged = await new SignJWT({ sub: 'admin', admin: true }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(confusedKey);
      await rejects(forged, 'signature_invalid');
    }
    // And the RS256 token itself is refused on its alg.
    const rs256 = await new SignJWT({ sub: 'admin' }).setProtectedHeader({ alg: 'RS256' }).sign(privateKey);
    await rejects(rs256, 'algorithm_not_allowed');
  });
});

describe('hostile input: key-locating header members are ignored (jku, x5u, x5c, jwk, kid)', () => {
  const injections: ReadonlyArray<readonly [string, Record<string, unknown>]> = [
    ['jku pointing at an attacker JWK Set', { jku: 'https://attacker.example/jwks.json' }],
    ['x5u pointing at an attacker certificate', { x5u: 'https://attacker.example/cert.pem' }],
    ['x5c carrying an attacker certificate chain', { x5c: ['MIIBszCCAVmgAwIBAgIUAttackerCertificateChain'] }],
    ['jwk embedding the attacker\'s own oct key', { jwk: { kty: 'oct', k: b64u(ATTACKER_SECRET) } }],
    ['kid with path traversal', { kid: '../../../../../../dev/null' }],
    ['kid with SQL injection', { kid: "' UNION SELECT 'attacker' -- " }],
    ['kid empty', { kid: '' }],
    ['kid as a URL', { kid: 'https://attacker.example/key' }],
    ['cty announcing a nested JWT', { cty: 'JWT' }],
  ];

  for (const [attack, member] of injections) {
    test(`${attack}: valid MAC under the configured secret still verifies, attacker-signed → signature_invalid, no network`, async () => {
      const header = seg({ alg: 'HS256', typ: 'JWT', ...member });
      const payload = seg({ sub: 'admin', role: 'admin', exp: now() + 600 });
      const calls = await countingFetchCalls(async () => {
        const verified = await accepts(signSegments(header, payload));
        assert.equal(verified.sub, 'admin');
        await rejects(signSegments(header, payload, ATTACKER_SECRET), 'signature_invalid');
        await rejects(withSignature(signSegments(header, payload), signatureOf(signSegments(header, seg({ sub: 'other' })))), 'signature_invalid');
      });
      assert.equal(calls, 0, 'verification touched the network');
    });
  }

  test('all injected members at once, attacker-signed with the embedded jwk → signature_invalid, no network', async () => {
    const header = seg({
      alg: 'HS256',
      jku: 'https://attacker.example/jwks.json',
      x5u: 'https://attacker.example/cert.pem',
      x5c: ['MIIB'],
      jwk: { kty: 'oct', k: b64u(ATTACKER_SECRET) },
      kid: 'attacker',
    });
    const calls = await countingFetchCalls(async () => {
      await rejects(signSegments(header, seg({ sub: 'admin' }), ATTACKER_SECRET), 'signature_invalid');
    });
    assert.equal(calls, 0, 'verification touched the network');
  });
});

describe('hostile input: crit and b64 (RFC 7515 §4.1.11, RFC 7797)', () => {
  // jose validates `crit` before `alg` and before the signature; every case below is correctly signed.
  const critCases: ReadonlyArray<readonly [string, Record<string, unknown>]> = [
    ['crit ["exp"] (a claim name, not an extension)', { alg: 'HS256', crit: ['exp'] }],
    ['crit ["unknown"] with the member present', { alg: 'HS256', crit: ['unknown'], unknown: true }],
  ];

  for (const [attack, header] of critCases) {
    test(
      `${attack} → token_malformed`,
      async () => {
        await rejects(signSegments(seg(header), seg({ sub: 'admin', exp: now() + 600 })), 'token_malformed');
      },
    );
  }

  test('crit ["unknown"] with a wrong signature → the crit verdict, not signature_invalid (crit is checked first, by jose)', async () => {
    const token = withSignature(signSegments(seg({ alg: 'HS256', crit: ['unknown'], unknown: 1 }), seg({ sub: 'a' })), b64u(new Uint8Array(32)));
    assert.notEqual(await neverAccepted(token), 'signature_invalid');
  });

  test('crit [] (empty list) → token_malformed', async () => {
    await rejects(signSegments(seg({ alg: 'HS256', crit: [] }), seg({ sub: 'admin' })), 'token_malformed');
  });

  test('crit "b64" (a string, not a list) → token_malformed', async () => {
    await rejects(signSegments(seg({ alg: 'HS256', crit: 'b64', b64: true }), seg({ sub: 'admin' })), 'token_malformed');
  });

  test('crit null, [""], [1], and ["b64"] without a b64 member → token_malformed', async () => {
    for (const header of [
      { alg: 'HS256', crit: null },
      { alg: 'HS256', crit: [''] },
      { alg: 'HS256', crit: [1] },
      { alg: 'HS256', crit: ['b64'] },
    ]) {
      await rejects(signSegments(seg(header), seg({ sub: 'admin' })), 'token_malformed');
    }
  });

  test('b64: false with crit ["b64"] (unencoded payload), correctly signed over the raw payload → token_malformed', async () => {
    const header = seg({ alg: 'HS256', crit: ['b64'], b64: false });
    // A raw payload that happens to look like base64url passes the format check and the signature,
    // then jose refuses unencoded payloads for JWTs.
    await rejects(signSegments(header, 'abc'), 'token_malformed');
    await rejects(signSegments(header, seg({ sub: 'admin' })), 'token_malformed');
    // A raw JSON payload is not even a compact JWS of base64url segments.
    await rejects(`${header}.{"sub":"admin"}.${mac(`${header}.{"sub":"admin"}`)}`, 'token_malformed');
  });

  test('b64: "false" (not a boolean) with crit ["b64"] → token_malformed', async () => {
    await rejects(signSegments(seg({ alg: 'HS256', crit: ['b64'], b64: 'false' }), seg({ sub: 'admin' })), 'token_malformed');
  });

  test('b64: false WITHOUT crit is ignored (RFC 7797 §6; jose behaviour): the payload is base64url-decoded and the token verifies', async () => {
    const verified = await accepts(signSegments(seg({ alg: 'HS256', b64: false }), seg({ sub: 'u1' })));
    assert.equal(verified.sub, 'u1');
  });

  test('b64: true with crit ["b64"] (the default encoding, declared) verifies (jose behaviour)', async () => {
    assert.equal((await accepts(signSegments(seg({ alg: 'HS256', crit: ['b64'], b64: true }), seg({ sub: 'u1' })))).sub, 'u1');
  });

  test('crit ["b64", "b64"] (duplicate entry) with b64: true verifies (jose behaviour: duplicates are not checked on verify)', async () => {
    assert.equal((await accepts(signSegments(seg({ alg: 'HS256', crit: ['b64', 'b64'], b64: true }), seg({ sub: 'u1' })))).sub, 'u1');
  });
});

describe('hostile input: compact-serialisation format', () => {
  const payload = seg({ sub: 'u1' });
  const good = signSegments(HS256_HEADER, payload);
  const [h, p, s] = good.split('.') as [string, string, string];

  test('two segments, four segments, five segments → token_malformed', async () => {
    await rejects(`${h}.${p}`, 'token_malformed');
    await rejects(`${good}.${s}`, 'token_malformed');
    await rejects(`${good}.`, 'token_malformed');
    await rejects(`${good}.${s}.${s}`, 'token_malformed');
    await rejects(`${h}.${p}.${h}.${p}.${s}`, 'token_malformed');
  });

  test('empty segments and bare dots (".", "..", "...", "a..c", ".p.s", "h..s") → token_malformed', async () => {
    for (const token of ['.', '..', '...', 'a..c', `.${p}.${s}`, `${h}..${s}`, `${h}.${p}..`]) await rejects(token, 'token_malformed');
  });

  test('base64 padding "=" on any segment → token_malformed', async () => {
    for (const token of [`${h}=.${p}.${s}`, `${h}.${p}==.${s}`, `${h}.${p}.${s}=`, `${good}=`, `${good}==`, `${good}===`]) {
      await rejects(token, 'token_malformed');
    }
  });

  test('non-base64url characters (+ / % \\0 é Ａ emoji, a percent-encoded "-") in any segment → token_malformed', async () => {
    for (const char of ['+', '/', '%', '%2D', '\u0000', 'é', 'Ａ', '\u{1F600}', '\ud800', '!', '*', '~', ':', '"']) {
      await rejects(`${char}${good}`, 'token_malformed');
      await rejects(`${h}.${p}${char}.${s}`, 'token_malformed');
      await rejects(`${good}${char}`, 'token_malformed');
    }
  });

  test('standard-alphabet respelling ("-" → "+", "_" → "/") of a valid token → token_malformed', async () => {
    const standard = good.replace(/-/g, '+').replace(/_/g, '/');
    const token = standard === good ? `${h}.${p}.${s.slice(0, -1)}+` : standard;
    await rejects(token, 'token_malformed');
  });

  test('whitespace around or inside the token (space, tab, CR/LF, NBSP, zero-width space, BOM) → token_malformed', async () => {
    for (const ws of [' ', '\t', '\n', '\r\n', '\u00a0', '\u200b', '\ufeff', '\u2028']) {
      await rejects(`${ws}${good}`, 'token_malformed');
      await rejects(`${good}${ws}`, 'token_malformed');
      await rejects(`${h}${ws}.${p}.${s}`, 'token_malformed');
      await rejects(`${h}.${ws}${p}.${s}`, 'token_malformed');
      await rejects(`${h}.${p}.${s.slice(0, 10)}${ws}${s.slice(10)}`, 'token_malformed');
    }
  });

  test('scheme left on the token ("Bearer <token>") → token_malformed', async () => {
    await rejects(`Bearer ${good}`, 'token_malformed');
  });

  test('non-string tokens (String object, Buffer, array, number, null) → token_missing', async () => {
    for (const token of [new String(good), Buffer.from(good), new TextEncoder().encode(good), [good], 42, null, undefined, { toString: () => good }]) {
      await rejects(token, 'token_missing');
    }
  });
});

describe('hostile input: header and payload that are not JSON objects, correctly signed', () => {
  for (const [label, raw] of [
    ['string', '"just a string"'],
    ['number', '42'],
    ['array', '[{"sub":"admin"}]'],
    ['null', 'null'],
    ['true', 'true'],
    ['not JSON', 'sub=admin'],
    ['truncated JSON', '{"sub":"admin"'],
    ['JSON with trailing garbage', '{"sub":"admin"} x'],
    ['two JSON objects', '{"sub":"admin"}{"sub":"x"}'],
  ] as const) {
    test(`payload that is a ${label}, signed with jose CompactSign → token_malformed`, async () => {
      const token = await new CompactSign(new TextEncoder().encode(raw)).setProtectedHeader({ alg: 'HS256' }).sign(KEY);
      await rejects(token, 'token_malformed');
    });

    test(`header that is a ${label}, correctly signed → token_malformed`, async () => {
      await rejects(signHeader(raw), 'token_malformed');
    });
  }

  test('empty payload (zero bytes) → token_malformed (empty middle segment)', async () => {
    const token = await new CompactSign(new Uint8Array(0)).setProtectedHeader({ alg: 'HS256' }).sign(KEY);
    await rejects(token, 'token_malformed');
  });

  test('JSON with whitespace around the object verifies (JSON.parse allows it)', async () => {
    assert.equal((await accepts(signPayload(' \n\t{"sub":"u1"}\r\n '))).sub, 'u1');
  });
});

describe('hostile input: time claims of the wrong type or odd values', () => {
  // Time is frozen so that boundaries (exp == now, nbf == now) are exact.
  const NOW = 1_900_000_000;
  const frozen = (t: TestContext): void => t.mock.timers.enable({ apis: ['Date'], now: NOW * 1000 + 500 });

  test('exp as a string ("9999999999") → claim_invalid on exp', async (t) => {
    frozen(t);
    await rejects(signPayload(`{"sub":"u1","exp":"${NOW + 600}"}`), 'claim_invalid', 'exp');
  });

  test('iat as a string → claim_invalid on iat', async (t) => {
    frozen(t);
    await rejects(signPayload(`{"sub":"u1","iat":"${NOW}"}`), 'claim_invalid', 'iat');
  });

  test('exp as null, true, {} or [] → claim_invalid on exp', async (t) => {
    frozen(t);
    for (const value of ['null', 'true', '{}', '[]']) await rejects(signPayload(`{"exp":${value}}`), 'claim_invalid', 'exp');
  });

  test(
    'nbf as a string or null → claim_invalid on nbf',
    async (t) => {
      frozen(t);
      for (const value of [`"${NOW - 600}"`, 'null', 'true']) {
        await rejects(signPayload(`{"sub":"u1","nbf":${value}}`), 'claim_invalid', 'nbf');
      }
    },
  );

  test('exp 1e999 parses to Infinity in JSON and never expires → accepted (jose behaviour: Infinity is a number)', async (t) => {
    frozen(t);
    assert.equal(JSON.parse('1e999'), Infinity);
    const payload = await accepts(signPayload('{"sub":"u1","exp":1e999}'));
    assert.equal(payload.exp, Infinity);
  });

  test('exp -1e999 (-Infinity) → token_expired', async (t) => {
    frozen(t);
    await rejects(signPayload('{"exp":-1e999}'), 'token_expired', 'exp');
  });

  test('nbf 1e999 (Infinity) → token_not_yet_valid; nbf -1e999 → accepted; iat 1e999 → accepted (iat is only type-checked)', async (t) => {
    frozen(t);
    await rejects(signPayload('{"nbf":1e999}'), 'token_not_yet_valid', 'nbf');
    assert.equal((await accepts(signPayload('{"nbf":-1e999}'))).nbf, -Infinity);
    assert.equal((await accepts(signPayload('{"iat":1e999}'))).iat, Infinity);
  });

  test('float exp in the future (now + 0.5, now + 60.25) → accepted (jose compares numbers as-is)', async (t) => {
    frozen(t);
    assert.equal((await accepts(signPayload(`{"exp":${NOW + 0.5}}`))).exp, NOW + 0.5);
    assert.equal((await accepts(signPayload(`{"exp":${NOW + 60.25}}`))).exp, NOW + 60.25);
  });

  test('float exp just in the past (now - 0.5) → token_expired', async (t) => {
    frozen(t);
    await rejects(signPayload(`{"exp":${NOW - 0.5}}`), 'token_expired', 'exp');
  });

  test('float nbf just in the future (now + 0.5) → token_not_yet_valid; just in the past → accepted', async (t) => {
    frozen(t);
    await rejects(signPayload(`{"nbf":${NOW + 0.5}}`), 'token_not_yet_valid', 'nbf');
    await accepts(signPayload(`{"nbf":${NOW - 0.5}}`));
  });

  test('exp equal to now → token_expired; exp now + 1 → accepted', async (t) => {
    frozen(t);
    await rejects(signPayload(`{"exp":${NOW}}`), 'token_expired', 'exp');
    await accepts(signPayload(`{"exp":${NOW + 1}}`));
  });

  test('nbf equal to now → accepted; nbf now + 1 → token_not_yet_valid', async (t) => {
    frozen(t);
    await accepts(signPayload(`{"nbf":${NOW}}`));
    await rejects(signPayload(`{"nbf":${NOW + 1}}`), 'token_not_yet_valid', 'nbf');
  });

  test('negative times: exp -1 → token_expired; nbf -1 and iat -1 → accepted', async (t) => {
    frozen(t);
    await rejects(signPayload('{"exp":-1}'), 'token_expired', 'exp');
    await accepts(signPayload('{"nbf":-1}'));
    await accepts(signPayload('{"iat":-1}'));
  });

  test('iat in the future → accepted (no maxTokenAge is configured; jose only type-checks iat)', async (t) => {
    frozen(t);
    await accepts(signPayload(`{"iat":${NOW + 3600}}`));
  });

  test('exp 0 and exp -0 → token_expired', async (t) => {
    frozen(t);
    await rejects(signPayload('{"exp":0}'), 'token_expired', 'exp');
    await rejects(signPayload('{"exp":-0}'), 'token_expired', 'exp');
  });

  test('check order (jose): iat type, then nbf, then exp — nbf future + exp past → token_not_yet_valid', async (t) => {
    frozen(t);
    await rejects(signPayload(`{"nbf":${NOW + 60},"exp":${NOW - 60}}`), 'token_not_yet_valid', 'nbf');
    await rejects(signPayload(`{"nbf":${NOW + 60},"exp":"x"}`), 'token_not_yet_valid', 'nbf');
    await rejects(signPayload(`{"iat":"x","exp":${NOW - 60}}`), 'claim_invalid', 'iat');
    await rejects(signPayload(`{"iat":"x","nbf":${NOW + 60}}`), 'claim_invalid', 'iat');
    await rejects(signPayload(`{"exp":"x","nbf":${NOW - 60}}`), 'claim_invalid', 'exp');
  });

  test('check order: the signature before the claims — expired or non-object payload with a bad MAC → signature_invalid', async (t) => {
    frozen(t);
    const zero = b64u(new Uint8Array(32));
    await rejects(withSignature(signPayload(`{"exp":${NOW - 60}}`), zero), 'signature_invalid');
    await rejects(withSignature(signPayload(`{"nbf":${NOW + 60}}`), zero), 'signature_invalid');
    await rejects(withSignature(signPayload('{"exp":"x"}'), zero), 'signature_invalid');
    await rejects(withSignature(signPayload('42'), zero), 'signature_invalid');
    await rejects(withSignature(signPayload(Uint8Array.of(0xff)), zero), 'signature_invalid');
  });

  test('check order: the header before the signature — bad header JSON or disallowed alg with a bad MAC', async (t) => {
    frozen(t);
    const zero = b64u(new Uint8Array(32));
    await rejects(withSignature(signHeader('not json'), zero), 'token_malformed');
    await rejects(withSignature(signHeader('{"alg":"none"}'), zero), 'algorithm_not_allowed');
    await rejects(withSignature(signHeader('{"alg":"HS512"}'), zero), 'algorithm_not_allowed');
  });
});

describe('hostile input: prototype pollution through JSON', () => {
  test('payload {"__proto__":{"admin":true}}, correctly signed: verifies, pollutes nothing, grants no inherited admin', async () => {
    const payload = await accepts(signPayload('{"sub":"u1","__proto__":{"admin":true}}'));
    assert.equal(({} as Record<string, unknown>).admin, undefined, 'Object.prototype was polluted');
    assert.equal(Object.hasOwn(Object.prototype, 'admin'), false);
    assert.equal(Object.getPrototypeOf(payload), Object.prototype, 'the payload got a foreign prototype');
    assert.equal((payload as Record<string, unknown>).admin, undefined, 'the payload inherits admin');
    // JSON.parse semantics: "__proto__" is an ordinary own data property.
    assert.ok(Object.hasOwn(payload, '__proto__'));
    assert.deepEqual(Object.getOwnPropertyDescriptor(payload, '__proto__')?.value, { admin: true });
    assert.equal(Object.isFrozen(Object.prototype), false, 'freezing the payload froze Object.prototype');
  });

  test('payload with a nested __proto__ and constructor.prototype: verifies, pollutes nothing', async () => {
    const payload = await accepts(signPayload('{"a":{"__proto__":{"admin":true}},"constructor":{"prototype":{"admin":true}}}'));
    assert.equal(({} as Record<string, unknown>).admin, undefined);
    assert.equal(((payload as Record<string, unknown>).a as Record<string, unknown>).admin, undefined);
    assert.equal(Object.isFrozen(Object.prototype), false);
  });

  test('header {"__proto__":{"alg":"HS256"}} (alg only via __proto__) → token_malformed: nothing is inherited', async () => {
    await rejects(signHeader('{"__proto__":{"alg":"HS256"}}'), 'token_malformed');
  });

  test('header {"alg":"none","__proto__":{"alg":"HS256"}} → algorithm_not_allowed', async () => {
    await rejects(signHeader('{"alg":"none","__proto__":{"alg":"HS256"}}'), 'algorithm_not_allowed');
  });

  test('header {"alg":"HS256","__proto__":{"crit":["unknown"]}} verifies: a crit under __proto__ is not a crit', async () => {
    await accepts(signHeader('{"alg":"HS256","__proto__":{"crit":["unknown"]}}'));
    assert.equal(Object.hasOwn(Object.prototype, 'crit'), false);
    assert.equal(Object.hasOwn(Object.prototype, 'alg'), false);
  });
});

describe('hostile input: duplicate JSON members — the last one wins (JSON.parse, as in jose)', () => {
  test('payload {"sub":"a","sub":"b"} verifies with sub "b" (last member wins)', async () => {
    assert.equal((await accepts(signPayload('{"sub":"a","sub":"b"}'))).sub, 'b');
  });

  test('payload with a future exp then a past exp → token_expired (last member wins)', async () => {
    await rejects(signPayload(`{"exp":${now() + 600},"exp":${now() - 600}}`), 'token_expired', 'exp');
  });

  test('payload with a past exp then a future exp → accepted (last member wins)', async () => {
    await accepts(signPayload(`{"exp":${now() - 600},"exp":${now() + 600}}`));
  });

  test('header {"alg":"HS256","alg":"none"} → algorithm_not_allowed (last member wins)', async () => {
    await rejects(signHeader('{"alg":"HS256","alg":"none"}'), 'algorithm_not_allowed');
  });

  test('header {"alg":"none","alg":"HS256"} → accepted (last member wins)', async () => {
    await accepts(signHeader('{"alg":"none","alg":"HS256"}'));
  });
});

describe('hostile input: byte-level encoding of the JSON', () => {
  const bytes = (...parts: Array<string | number[]>): Uint8Array =>
    Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : Buffer.from(part))));

  for (const [label, raw] of [
    ['a 0xFF byte', [0xff]],
    ['an overlong "/" (C0 AF)', [0xc0, 0xaf]],
    ['a UTF-8-encoded lone surrogate (ED A0 80)', [0xed, 0xa0, 0x80]],
    ['a truncated 3-byte sequence (E2 82)', [0xe2, 0x82]],
    ['a code point above U+10FFFF (F4 90 80 80)', [0xf4, 0x90, 0x80, 0x80]],
  ] as const) {
    test(`invalid UTF-8 in the payload (${label}), correctly signed → token_malformed`, async () => {
      await rejects(signPayload(bytes('{"sub":"', [...raw], '"}')), 'token_malformed');
    });

    test(`invalid UTF-8 in the header (${label}), correctly signed → token_malformed`, async () => {
      await rejects(signHeader(bytes('{"alg":"HS256","x":"', [...raw], '"}')), 'token_malformed');
    });
  }

  test('UTF-16LE-encoded payload JSON → token_malformed', async () => {
    await rejects(signPayload(Buffer.from('{"sub":"u1"}', 'utf16le')), 'token_malformed');
  });

  test('one UTF-8 BOM before the payload or header JSON → accepted (jose decodes with TextDecoder, which strips one BOM)', async () => {
    const bom = [0xef, 0xbb, 0xbf];
    assert.equal((await accepts(signPayload(bytes(bom, '{"sub":"u1"}')))).sub, 'u1');
    await accepts(signHeader(bytes(bom, '{"alg":"HS256"}')));
  });

  test('two UTF-8 BOMs before the payload JSON → token_malformed (only one is stripped)', async () => {
    await rejects(signPayload(bytes([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf], '{"sub":"u1"}')), 'token_malformed');
  });

  test('a raw control character (U+0000) inside a JSON string → token_malformed (JSON forbids it unescaped)', async () => {
    await rejects(signPayload('{"sub":"u\u0000"}'), 'token_malformed');
  });

  test('escaped lone surrogate and escaped NUL ("\\ud800", "\\u0000") are valid JSON → accepted as such', async () => {
    const payload = await accepts(signPayload('{"sub":"\\ud800","x":"\\u0000"}'));
    assert.equal(payload.sub, '\ud800');
    assert.equal((payload as Record<string, unknown>).x, '\u0000');
  });

  test('non-ASCII UTF-8 payload (é, emoji) verifies and decodes', async () => {
    assert.equal((await accepts(signPayload('{"sub":"é\u{1F600}"}'))).sub, 'é\u{1F600}');
  });
});

describe('hostile input: oversize tokens are rejected before decoding', () => {
  test('8193 characters of well-formed base64url → token_too_long', async () => {
    await rejects(`${'a'.repeat(8193 - 4)}.b.c`, 'token_too_long');
  });

  test('a correctly signed token of exactly 8192 characters verifies; one character more → token_too_long', async () => {
    let atLimit: string | undefined;
    let overLimit: string | undefined;
    for (let filler = 5900; filler < 6200 && (atLimit === undefined || overLimit === undefined); filler++) {
      const token = signPayload(JSON.stringify({ sub: 'u1', pad: 'x'.repeat(filler) }));
      if (token.length === 8192) atLimit = token;
      if (token.length === 8193) overLimit = token;
    }
    assert.ok(atLimit !== undefined && overLimit !== undefined, 'could not build tokens of 8192 and 8193 characters');
    assert.equal((await accepts(atLimit)).sub, 'u1');
    await rejects(overLimit, 'token_too_long');
  });

  test('10 MB tokens (garbage, alg none, non-ASCII) → token_too_long, quickly, and nothing else is thrown', async () => {
    const tenMB = 10 * 1024 * 1024;
    const header = seg({ alg: 'none' });
    for (const token of ['!'.repeat(tenMB), `${header}.${'A'.repeat(tenMB)}.`, `${'é'.repeat(tenMB)}`, `${HS256_HEADER}.${'A'.repeat(tenMB)}.${'A'.repeat(43)}`]) {
      // Decoding any of these would give a different code (malformed, algorithm_not_allowed,
      // signature_invalid), so token_too_long shows the length check comes first.
      const started = performance.now();
      for (const path of PATHS) {
        const result = await verdict(token, path);
        assert.ok(!result.ok, `[${path}] accepted a 10 MB token`);
        assert.equal(result.error.code, 'token_too_long', `[${path}] ${result.error.message}`);
      }
      assert.ok(performance.now() - started < 1000, 'rejecting a 10 MB token took over a second');
    }
  });
});

describe('hostile input: replays through the verified-token cache', () => {
  test('replaying a cached token after its exp → token_expired (the cache never extends a lifetime)', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 1_900_000_000_000 });
    const options: JwtGuardOptions = { secret: SECRET };
    const token = signPayload(JSON.stringify({ sub: 'u1', exp: 1_900_000_060 }));
    assert.equal((await verifyToken(token, options)).sub, 'u1');
    assert.equal((await verifyToken(token, options)).sub, 'u1'); // a cache hit
    t.mock.timers.tick(59_999);
    assert.equal((await verifyToken(token, options)).sub, 'u1');
    t.mock.timers.tick(1);
    await assert.rejects(verifyToken(token, options), (e: unknown) => e instanceof JwtGuardError && e.code === 'token_expired');
  });

  test(
    'a token cached while its nbf had passed is refused after the clock steps back before nbf (as jose would)',
    async (t) => {
      t.mock.timers.enable({ apis: ['Date'], now: 1_900_000_000_000 });
      const options: JwtGuardOptions = { secret: SECRET };
      const token = signPayload(JSON.stringify({ sub: 'u1', nbf: 1_900_000_000 }));
      assert.equal((await verifyToken(token, options)).sub, 'u1');
      t.mock.timers.setTime(1_899_999_990_000);
      await assert.rejects(verifyToken(token, { secret: SECRET, cacheSize: 0 }), (e: unknown) => e instanceof JwtGuardError && e.code === 'token_not_yet_valid');
      await assert.rejects(verifyToken(token, options), (e: unknown) => e instanceof JwtGuardError && e.code === 'token_not_yet_valid');
    },
  );

  test('a token cached under one secret is not accepted under options with another secret → signature_invalid', async () => {
    const token = signPayload('{"sub":"u1"}');
    await accepts(token); // now cached under cachedOptions
    await assert.rejects(
      verifyToken(token, { secret: ATTACKER_SECRET }),
      (e: unknown) => e instanceof JwtGuardError && e.code === 'signature_invalid',
    );
  });

  test('a token cached under HS256 options is refused by HS512 options with the same secret → algorithm_not_allowed', async () => {
    const token = signPayload('{"sub":"u1"}');
    await accepts(token);
    await assert.rejects(
      verifyToken(token, { secret: SECRET, algorithm: 'HS512' }),
      (e: unknown) => e instanceof JwtGuardError && e.code === 'algorithm_not_allowed',
    );
  });

  test('mutating a verified payload cannot poison the next verification (payloads are frozen)', async () => {
    const token = signPayload('{"sub":"u1","role":"user","scopes":["read"]}');
    const first = await verifyToken(token, cachedOptions);
    assert.throws(() => {
      (first as Record<string, unknown>).role = 'admin';
    }, TypeError);
    assert.throws(() => {
      ((first as Record<string, unknown>).scopes as string[]).push('admin');
    }, TypeError);
    const second = await verifyToken(token, cachedOptions);
    assert.equal(second.role, 'user');
    assert.deepEqual((second as Record<string, unknown>).scopes, ['read']);
  });
});

describe('hostile input: asymmetric algorithms', () => {
  const curves = [
    ['ES256', 64],
    ['ES384', 96],
    ['ES512', 132],
  ] as const;

  for (const [alg, signatureBytes] of curves) {
    test(`ECDSA "psychic signature" (CVE-2022-21449): ${alg} with r = s = 0 → signature_invalid`, async () => {
      const { publicKey } = await generateKeyPair(alg);
      const body = `${seg({ alg, typ: 'JWT' })}.${seg({ sub: 'admin', exp: now() + 600 })}`;
      for (const signature of [new Uint8Array(signatureBytes), new Uint8Array(signatureBytes).fill(0xff)]) {
        await assert.rejects(
          verifyToken(`${body}.${b64u(signature)}`, { publicKey, algorithms: [alg] }),
          (e: unknown) => e instanceof JwtGuardError && e.code === 'signature_invalid',
        );
      }
    });
  }

  test('embedded `jwk` header (attacker\'s own key) is ignored: the configured key decides → signature_invalid', async () => {
    const real = await generateKeyPair('ES256');
    const attacker = await generateKeyPair('ES256');
    const token = await new SignJWT({ sub: 'admin' })
      .setProtectedHeader({ alg: 'ES256', jwk: await exportJWK(attacker.publicKey), jku: 'https://attacker.test/jwks', x5u: 'https://attacker.test/x5u', kid: 'attacker' })
      .sign(attacker.privateKey);
    const fetchBefore = globalThis.fetch;
    let fetched = false;
    globalThis.fetch = (async () => {
      fetched = true;
      throw new Error('no network');
    }) as typeof fetch;
    try {
      await assert.rejects(verifyToken(token, { publicKey: real.publicKey, algorithms: ['ES256'] }), (e: unknown) => e instanceof JwtGuardError && e.code === 'signature_invalid');
    } finally {
      globalThis.fetch = fetchBefore;
    }
    assert.equal(fetched, false);
  });

  test('RS256 token re-signed as HS256 with the public key PEM as secret, both algorithms allowed → signature_invalid', async () => {
    const { publicKey } = await generateKeyPair('RS256', { extractable: true });
    const pem = await exportSPKI(publicKey);
    const forged = signRaw('{"alg":"HS256","typ":"JWT"}', JSON.stringify({ sub: 'admin' }), pem);
    await assert.rejects(
      verifyToken(forged, { secret: SECRET, publicKey: pem, algorithms: ['HS256', 'RS256'] }),
      (e: unknown) => e instanceof JwtGuardError && e.code === 'signature_invalid',
    );
  });
});
