// Differential tests: the synchronous node:crypto path for RS/PS/ES/EdDSA must decide exactly as
// jose.jwtVerify does (same accept/reject, error code and claim, same payload) on valid tokens
// signed by jose and on mutations of them, for every algorithm and for each way of configuring
// keys (publicKey / privateKey, a local `{ keys }` JWKS, a remote JWKS). Then targeted cases: the
// attacks the path must not fall for, the keys it must never learn, and remote key-set changes.
import assert from 'node:assert/strict';
import { constants, createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, sign as nodeSign, type KeyObject } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { CompactSign, jwksCache, type CryptoKey, type JWK } from 'jose';
import { JwtGuardError, normalizeOptions, type JwsAlgorithm, type JwtGuardOptions, type NormalizedOptions } from '../../../src/index.js';
import { precheck, verifyWith, verifyWithJose } from '../../../src/core/verify/verify-token.js';
import { STRONG_SECRET } from '../../support/tokens.js';

type Alg = Exclude<JwsAlgorithm, 'HS256' | 'HS384' | 'HS512'>;
const ALGS: readonly Alg[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];
const NOW = 1_900_000_000;
const NOW_DATE = new Date(NOW * 1000);
const ISS = 'https://issuer.example';
const NO_KID = Symbol('no kid');
type Kid = string | number | typeof NO_KID;

// --- keys ----------------------------------------------------------------------------------------

type Family = 'rsa' | 'p256' | 'p384' | 'p521' | 'ed';
const FAMILY: Readonly<Record<Alg, Family>> = {
  RS256: 'rsa', RS384: 'rsa', RS512: 'rsa', PS256: 'rsa', PS384: 'rsa', PS512: 'rsa',
  ES256: 'p256', ES384: 'p384', ES512: 'p521', EdDSA: 'ed',
};
const CURVE_ORDER: Readonly<Record<string, bigint>> = {
  ES256: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  ES384: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  ES512: 0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
};
const SIG_BYTES: Readonly<Record<string, number>> = { ES256: 64, ES384: 96, ES512: 132 };

interface Pair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}
function pair(family: Family | 'rsa1024' | 'x25519'): Pair {
  const { privateKey, publicKey } =
    family === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : family === 'rsa1024' ? generateKeyPairSync('rsa', { modulusLength: 1024 })
    : family === 'ed' ? generateKeyPairSync('ed25519')
    : family === 'x25519' ? generateKeyPairSync('x25519')
    : generateKeyPairSync('ec', { namedCurve: { p256: 'P-256', p384: 'P-384', p521: 'P-521' }[family] });
  return { privateKey, publicKey };
}
const jwkOf = (key: Pair, members: Partial<JWK> = {}): JWK => ({ ...(key.publicKey.export({ format: 'jwk' }) as JWK), ...members });

// One key set for every test: a JWKS with the cases jose's selection has to sort out.
const KEYS = {
  rsa: pair('rsa'),
  rsaPs: pair('rsa'), // pinned to PS256 by its JWK
  weak: pair('rsa1024'),
  enc: pair('rsa'),
  p256: pair('p256'),
  dupA: pair('p256'),
  dupB: pair('p256'),
  p256es384: pair('p256'),
  p384: pair('p384'),
  p521: pair('p521'),
  ed: pair('ed'),
  ed7: pair('ed'),
  x: pair('x25519'),
};
const JWKS: { keys: JWK[] } = {
  keys: [
    jwkOf(KEYS.rsa, { kid: 'rsa' }),
    jwkOf(KEYS.rsaPs, { kid: 'rsa-ps', alg: 'PS256', use: 'sig' }),
    jwkOf(KEYS.weak, { kid: 'weak' }), // jose refuses RSA under 2048 bits after choosing it
    jwkOf(KEYS.enc, { kid: 'enc', use: 'enc' }),
    jwkOf(KEYS.p256, { kid: 'p256' }),
    jwkOf(KEYS.dupA, { kid: 'dup' }),
    jwkOf(KEYS.dupB, { kid: 'dup' }),
    jwkOf(KEYS.p256es384, { kid: 'p256-es384', alg: 'ES384' }), // a P-256 key claiming ES384 serves nothing
    jwkOf(KEYS.p384, { kid: 'p384', key_ops: ['verify'] }),
    jwkOf(KEYS.p521, { kid: 'p521', alg: 'ES512' }),
    jwkOf(KEYS.ed, { kid: 'ed' }),
    jwkOf(KEYS.ed7, { kid: '7' }), // a kid that a number 7 must not select
    jwkOf(KEYS.x, { kid: 'x' }), // X25519: a key-agreement key, never an EdDSA key
  ],
};
const KID_PAIRS: Readonly<Record<string, Pair>> = {
  rsa: KEYS.rsa, 'rsa-ps': KEYS.rsaPs, weak: KEYS.weak, enc: KEYS.enc, p256: KEYS.p256, dup: KEYS.dupA,
  'p256-es384': KEYS.p256es384, p384: KEYS.p384, p521: KEYS.p521, ed: KEYS.ed, '7': KEYS.ed7, x: KEYS.x,
};
const KID_FAMILY: Readonly<Record<string, Family | 'x25519'>> = {
  rsa: 'rsa', 'rsa-ps': 'rsa', weak: 'rsa', enc: 'rsa', p256: 'p256', dup: 'p256', 'p256-es384': 'p256', p384: 'p384', p521: 'p521', ed: 'ed', '7': 'ed', x: 'x25519',
};
const DEFAULT_PAIR: Readonly<Record<Family, Pair>> = { rsa: KEYS.rsa, p256: KEYS.p256, p384: KEYS.p384, p521: KEYS.p521, ed: KEYS.ed };
const STRANGERS: Readonly<Record<Family, Pair>> = { rsa: pair('rsa'), p256: pair('p256'), p384: pair('p384'), p521: pair('p521'), ed: pair('ed') };

// --- tokens --------------------------------------------------------------------------------------

const b64u = (input: string | Uint8Array): string => Buffer.from(input).toString('base64url');
const seg = (value: unknown): string => b64u(JSON.stringify(value));

/** node:crypto signing options for `alg`; `pssSalt` overrides the PSS salt length (jose: the digest length). */
function signOptions(alg: string, key: KeyObject, pssSalt?: number): Parameters<typeof nodeSign>[2] {
  if (alg.startsWith('PS')) return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: pssSalt ?? Number(alg.slice(2)) / 8 };
  if (alg.startsWith('ES')) return { key, dsaEncoding: 'ieee-p1363' };
  return key;
}
const digestOf = (alg: string): string | null => (alg === 'EdDSA' ? null : `sha${alg.slice(2)}`);

/** A compact JWS over exactly these segments, signed with node:crypto (for what jose refuses to sign). */
function signRaw(alg: string, key: KeyObject, header: string, payload: string, pssSalt?: number): string {
  const input = `${header}.${payload}`;
  return `${input}.${b64u(nodeSign(digestOf(alg), Buffer.from(input), signOptions(alg, key, pssSalt)))}`;
}

/** Signed by jose whenever jose will sign it (headers without `crit`, keys jose accepts); by node:crypto otherwise. */
async function signToken(alg: string, key: KeyObject, header: Record<string, unknown>, payload: Uint8Array): Promise<string> {
  if (header.crit === undefined) {
    try {
      return await new CompactSign(payload).setProtectedHeader({ ...header, alg }).sign(key);
    } catch {
      // e.g. an RSA key under 2048 bits, which jose will not sign with either
    }
  }
  return signRaw(alg, key, seg({ ...header, alg }), b64u(payload));
}

/** DER (ASN.1 SEQUENCE of two INTEGERs) of an IEEE P1363 r‖s ECDSA signature: what node:crypto and OpenSSL produce by default. */
function p1363ToDer(signature: Uint8Array): Uint8Array {
  const half = signature.length / 2;
  const integer = (bytes: Uint8Array): number[] => {
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    const body = [...bytes.subarray(i)];
    if ((body[0] as number) & 0x80) body.unshift(0);
    return [0x02, body.length, ...body];
  };
  const content = [...integer(signature.subarray(0, half)), ...integer(signature.subarray(half))];
  const length = content.length < 128 ? [content.length] : [0x81, content.length];
  return Uint8Array.from([0x30, ...length, ...content]);
}

const toBytes = (value: bigint, length: number): Buffer => Buffer.from(value.toString(16).padStart(length * 2, '0'), 'hex');
/** The other valid ECDSA signature of the same message: s → n − s (Web Crypto and node:crypto both accept "high S"). */
function highS(alg: string, signature: Buffer): Buffer {
  const half = signature.length / 2;
  const s = BigInt(`0x${signature.subarray(half).toString('hex')}`);
  return Buffer.concat([signature.subarray(0, half), toBytes((CURVE_ORDER[alg] as bigint) - s, half)]);
}

type Mutation =
  | { readonly kind: 'none' | 'extend' | 'der' | 'zeros' | 'highS' | 'payload' }
  | { readonly kind: 'flip'; readonly at: number; readonly bit: number }
  | { readonly kind: 'truncate'; readonly bytes: number }
  | { readonly kind: 'alg'; readonly to: string }
  | { readonly kind: 'kid'; readonly to: Kid };

/** Changes a signed token after signing: signature bytes, or header / payload with the signature kept. */
function mutate(token: string, alg: string, mutation: Mutation): string {
  const [header, payload, signatureText] = token.split('.') as [string, string, string];
  const signature = Buffer.from(signatureText, 'base64url');
  const withSignature = (bytes: Uint8Array): string => `${header}.${payload}.${b64u(bytes)}`;
  const withHeader = (change: (h: Record<string, unknown>) => void): string => {
    const parsed = JSON.parse(Buffer.from(header, 'base64url').toString()) as Record<string, unknown>;
    change(parsed);
    return `${seg(parsed)}.${payload}.${signatureText}`;
  };
  switch (mutation.kind) {
    case 'none':
      return token;
    case 'flip': {
      const copy = Buffer.from(signature);
      const at = mutation.at % copy.length;
      copy[at] = (copy[at] as number) ^ (1 << mutation.bit);
      return withSignature(copy);
    }
    case 'truncate':
      return withSignature(signature.subarray(0, Math.max(1, signature.length - mutation.bytes)));
    case 'extend':
      return withSignature(Buffer.concat([signature, Buffer.of(0)]));
    case 'der':
      return withSignature(alg.startsWith('ES') ? p1363ToDer(signature) : Buffer.concat([Buffer.of(0), signature]));
    case 'zeros':
      return withSignature(Buffer.alloc(signature.length));
    case 'highS':
      return alg.startsWith('ES') ? withSignature(highS(alg, signature)) : token;
    case 'payload':
      return `${header}.${seg({ sub: 'admin', exp: NOW + 3600 })}.${signatureText}`;
    case 'alg':
      return withHeader((h) => {
        h.alg = mutation.to;
      });
    case 'kid':
      return withHeader((h) => {
        if (mutation.to === NO_KID) delete h.kid;
        else h.kid = mutation.to;
      });
  }
}

// --- verdicts ------------------------------------------------------------------------------------

type Verdict = { ok: true; payload: unknown } | { ok: false; code: string; claim: string | undefined };

async function settle(promise: Promise<unknown>): Promise<Verdict> {
  try {
    return { ok: true, payload: await promise };
  } catch (error) {
    assert.ok(error instanceof JwtGuardError, `non-library error: ${String(error)}`);
    return { ok: false, code: error.code, claim: error.claim };
  }
}

/** The same options with nothing but jose: no fast paths, no cache, and nothing taught to the fast path. */
const joseOnly = (config: NormalizedOptions): NormalizedOptions => ({ ...config, fastPath: undefined, asymmetricFastPath: undefined, cache: undefined });

interface Stats {
  accepted: number;
  rejected: number;
  deferred: number;
}
const newStats = (): Stats => ({ accepted: 0, rejected: 0, deferred: 0 });

/** jose alone (behind the shared prechecks), then fast path + jose: they must agree exactly. Returns jose's verdict. */
async function assertSameVerdict(config: NormalizedOptions, token: string, stats?: Stats): Promise<Verdict> {
  const rejected = precheck(token, config);
  const expected = await settle(rejected ? Promise.reject(rejected) : verifyWithJose(token, joseOnly(config)));
  if (rejected === undefined && stats !== undefined) {
    const fast = config.fastPath?.(token, config.claims.now());
    if (fast === undefined) stats.deferred++;
    else if (fast instanceof JwtGuardError) stats.rejected++;
    else stats.accepted++;
  }
  const actual = await settle(verifyWith(token, config));
  assert.deepEqual(actual, expected, `token ${token}`);
  return expected;
}

/** What the fast path alone says: 'deferred', 'signature_invalid', or 'accepted'. */
function fastVerdict(config: NormalizedOptions, token: string): string {
  const fast = config.fastPath?.(token, config.claims.now());
  return fast === undefined ? 'deferred' : fast instanceof JwtGuardError ? fast.code : 'accepted';
}

// --- arbitraries ---------------------------------------------------------------------------------

const enc = (text: string): Uint8Array => new TextEncoder().encode(text);
const time = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(-86_400, -61, -60, -6, -5, -1, 0, 1, 5, 6, 59, 60, 61, 3600).map((d) => NOW + d) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>('1', null, true, NOW + 0.5, NOW - 0.5, 1e308, -1, [NOW + 10]) },
);
/** Claims every configuration below accepts at NOW, then (often) some of them changed or removed. */
const validClaims = { sub: 'u1', exp: NOW + 600, iat: NOW, iss: ISS, aud: 'api' };
const claimChanges = fc.record(
  {
    sub: fc.constantFrom<unknown>(undefined, '', 'u2', 5),
    exp: time,
    nbf: time,
    iat: time,
    iss: fc.constantFrom<unknown>(undefined, 'https://other.example', 7),
    aud: fc.constantFrom<unknown>(undefined, ['web', 'api'], ['web'], 5),
    data: fc.jsonValue({ maxDepth: 2 }),
  },
  { requiredKeys: [] },
);
const claimsPayload = fc
  .oneof({ weight: 3, arbitrary: fc.constant({}) }, { weight: 2, arbitrary: claimChanges })
  .map((changes) => enc(JSON.stringify({ ...validClaims, ...changes })));
const rawPayload = fc.constantFrom(
  enc('42'),
  enc('[]'),
  enc('null'),
  enc('"sub"'),
  enc('{'),
  enc('{"sub":"a"} x'),
  Uint8Array.from([0xef, 0xbb, 0xbf, ...enc('{"sub":"bom"}')]),
  Uint8Array.from([...enc('{"sub":"'), 0xff, ...enc('"}')]),
  enc(`{"exp":${NOW - 10},"exp":${NOW + 10}}`),
  enc(`{"exp":${NOW + 10},"exp":${NOW - 10}}`),
  enc('{"sub":"u","__proto__":{"admin":true}}'),
);
const payloadArb = fc.oneof({ weight: 8, arbitrary: claimsPayload }, { weight: 1, arbitrary: rawPayload });

const headerExtras = fc.record(
  {
    typ: fc.constantFrom<unknown>('JWT', 'jwt', 'at+jwt', 'application/at+jwt', 5),
    crit: fc.constantFrom<unknown>(['b64'], ['exp'], [], 'b64', ['x']),
    b64: fc.constantFrom<unknown>(true, false, 'false'),
    x: fc.jsonValue({ maxDepth: 1 }),
  },
  { requiredKeys: [] },
);

interface TokenSpec {
  readonly kid: Kid;
  readonly signer: 'right' | 'stranger' | 'pssSalt';
  readonly pssSalt: number;
  readonly extras: Record<string, unknown>;
  readonly payload: Uint8Array;
  readonly mutation: Mutation;
}

const OTHER_ALGS = [...ALGS, 'HS256', 'none', 'Ed25519', 'ES256K', 'rs256', ''];
/** The kid under which a JWKS holds exactly one key for `alg` (a configured key ignores it). */
const GOOD_KID: Readonly<Record<Alg, Kid>> = {
  RS256: 'rsa', RS384: 'rsa', RS512: 'rsa', PS256: 'rsa', PS384: 'rsa', PS512: 'rsa', ES256: 'p256', ES384: NO_KID, ES512: 'p521', EdDSA: 'ed',
};
function tokenSpec(alg: Alg, kids: readonly Kid[]): fc.Arbitrary<TokenSpec> {
  // Mostly the kid that selects a key, so that keys get learned and the fast path has to decide.
  const kid = fc.oneof({ weight: 3, arbitrary: fc.constant(GOOD_KID[alg]) }, { weight: 2, arbitrary: fc.constantFrom(...kids) });
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    { weight: 10, arbitrary: fc.constant({ kind: 'none' as const }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), bytes: fc.integer({ min: 1, max: 8 }) }) },
    { weight: 1, arbitrary: fc.constantFrom(...(['extend', 'der', 'zeros', 'highS', 'payload'] as const)).map((kind) => ({ kind })) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('alg' as const), to: fc.constantFrom(...OTHER_ALGS) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('kid' as const), to: kid }) },
  );
  return fc.record({
    kid,
    signer: fc.constantFrom('right', 'right', 'right', 'right', 'stranger', 'pssSalt'),
    pssSalt: fc.constantFrom(0, 20, 31, 33, 47, 63, 65, constants.RSA_PSS_SALTLEN_MAX_SIGN),
    extras: fc.oneof({ weight: 3, arbitrary: fc.constant({}) }, { weight: 1, arbitrary: headerExtras }),
    payload: payloadArb,
    mutation,
  });
}

/** The private key that belongs to `kid` when it names a key of the alg's family, else the family's default key. */
function signingPair(alg: Alg, kid: Kid): Pair {
  const family = FAMILY[alg];
  // A 1024-bit key has no room for PS384 / PS512 padding: those tokens are signed by the default key.
  if (kid === 'weak' && (alg === 'PS384' || alg === 'PS512')) return DEFAULT_PAIR.rsa;
  if (typeof kid === 'string' && KID_FAMILY[kid] === family) return KID_PAIRS[kid] as Pair;
  return DEFAULT_PAIR[family];
}

async function buildToken(alg: Alg, spec: TokenSpec): Promise<string> {
  const header: Record<string, unknown> = { ...spec.extras, ...(spec.kid !== NO_KID && { kid: spec.kid }) };
  const key = spec.signer === 'stranger' ? STRANGERS[FAMILY[alg]] : signingPair(alg, spec.kid);
  let token: string;
  if (spec.signer === 'pssSalt' && alg.startsWith('PS')) {
    token = signRaw(alg, key.privateKey, seg({ ...header, alg }), b64u(spec.payload), spec.pssSalt);
  } else {
    token = await signToken(alg, key.privateKey, header, spec.payload);
  }
  return mutate(token, alg, spec.mutation);
}

// --- configurations ------------------------------------------------------------------------------

const RSA_ALGS = ALGS.filter((alg) => FAMILY[alg] === 'rsa');
/** Web Crypto import of a node:crypto key (KeyObject.toCryptoKey is newer than Node 20). */
async function asCryptoKey(key: KeyObject, algorithm: { name: string; namedCurve?: string; hash?: string }): Promise<CryptoKey> {
  const usages: Array<'sign' | 'verify' | 'deriveBits'> = algorithm.name === 'X25519' ? (key.type === 'private' ? ['deriveBits'] : []) : key.type === 'private' ? ['sign'] : ['verify'];
  return (await crypto.subtle.importKey('jwk', key.export({ format: 'jwk' }), algorithm, true, usages)) as CryptoKey;
}
const ED_CRYPTO_KEY = await asCryptoKey(KEYS.ed.publicKey, { name: 'Ed25519' });
/** One configuration per family with configured keys, each in another form, with claim rules of several kinds. */
function staticOptions(alg: Alg): JwtGuardOptions {
  const base = { cacheSize: 0, currentDate: NOW_DATE } as const;
  switch (FAMILY[alg]) {
    case 'rsa': // a PEM, next to an HMAC secret (both fast paths in one configuration)
      return { ...base, publicKey: KEYS.rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string, secret: STRONG_SECRET, algorithms: [...RSA_ALGS, 'HS256'], issuer: ISS, clockTolerance: 5 };
    case 'p256': // a KeyObject
      return { ...base, publicKey: KEYS.p256.publicKey, algorithms: ['ES256'], audience: 'api' };
    case 'p384': // the public half of a private key
      return { ...base, privateKey: KEYS.p384.privateKey, algorithms: ['ES384'], maxTokenAge: 120 };
    case 'p521': // a JWK pinned to its alg
      return { ...base, publicKey: jwkOf(KEYS.p521, { alg: 'ES512' }), algorithms: ['ES512'] };
    case 'ed': // a CryptoKey
      return { ...base, publicKey: ED_CRYPTO_KEY, algorithms: ['EdDSA'], requiredClaims: ['sub'] };
  }
}
const STATIC_KIDS: readonly Kid[] = [NO_KID, 'rsa', 'p256', 'anything', '', 7];
const JWKS_KIDS: readonly Kid[] = [NO_KID, ...Object.keys(KID_PAIRS), 'unknown', '', 7];

/** A JWKS endpoint on 127.0.0.1 whose keys and health each test sets. */
class JwksServer {
  keys: JWK[];
  failing = false;
  requests = 0;
  readonly #server: Server;
  constructor(keys: JWK[]) {
    this.keys = keys;
    this.#server = createServer((_req, res) => {
      this.requests++;
      if (this.failing) res.writeHead(500).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: this.keys }));
    });
  }
  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    return this;
  }
  get url(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/jwks.json`;
  }
  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }
}

// --- the differential properties -------------------------------------------------------------------

let server: JwksServer;
before(async () => {
  server = await new JwksServer(JWKS.keys).start();
});
after(() => server.close());

const SOURCES = [
  { name: 'configured key (publicKey / privateKey)', kids: STATIC_KIDS, options: (alg: Alg) => staticOptions(alg) },
  { name: 'local JWKS', kids: JWKS_KIDS, options: () => ({ jwks: JWKS, algorithms: [...ALGS], cacheSize: 0, currentDate: NOW_DATE, issuer: [ISS, 'https://other.example'] }) },
  { name: 'remote JWKS', kids: JWKS_KIDS, options: () => ({ jwks: server.url, algorithms: [...ALGS], cacheSize: 0, currentDate: NOW_DATE }) },
] as const;

for (const source of SOURCES) {
  describe(`asymmetric fast path ≡ jose.jwtVerify: ${source.name}`, () => {
    const totals = new Map<Alg, Stats>();
    for (const alg of ALGS) {
      test(`${alg}: jose-signed tokens, mutated (signature bits, truncation, DER, zeros, high S, alg / kid swaps, payload swap, header members, claims and times)`, async () => {
        const config = normalizeOptions(source.options(alg) as JwtGuardOptions);
        assert.equal(typeof config.asymmetricFastPath, 'object', 'the fast path exists on Node');
        const stats = newStats();
        totals.set(alg, stats);
        await fc.assert(
          fc.asyncProperty(tokenSpec(alg, source.kids), async (spec) => {
            await assertSameVerdict(config, await buildToken(alg, spec), stats);
          }),
          { numRuns: 150 },
        );
      });
    }

    test('the fast path itself accepted and rejected tokens of every algorithm (the comparisons above were not vacuous)', (t) => {
      t.diagnostic(JSON.stringify(Object.fromEntries(totals)));
      for (const alg of ALGS) {
        const stats = totals.get(alg);
        assert.ok(stats !== undefined && stats.accepted > 0 && stats.rejected > 0, `${alg}: ${JSON.stringify(stats)}`);
      }
    });
  });
}

// --- targeted cases ------------------------------------------------------------------------------

/** A valid token for `alg` under `pair`, with a fresh payload. */
function validToken(alg: Alg, key: Pair, header: Record<string, unknown> = {}, claims: Record<string, unknown> = {}): Promise<string> {
  return signToken(alg, key.privateKey, header, enc(JSON.stringify({ sub: 'u1', exp: NOW + 600, iss: ISS, aud: 'api', iat: NOW, ...claims, n: Math.random() })));
}

/** Verifies a valid token through jose so the fast path learns its key; asserts the next one is decided synchronously. */
async function teach(config: NormalizedOptions, alg: Alg, key: Pair, header: Record<string, unknown> = {}): Promise<void> {
  const first = await assertSameVerdict(config, await validToken(alg, key, header));
  assert.ok(first.ok, JSON.stringify(first));
  assert.equal(fastVerdict(config, await validToken(alg, key, header)), 'accepted');
}

const localJwks = (extra: Partial<JwtGuardOptions> = {}): NormalizedOptions =>
  normalizeOptions({ jwks: JWKS, algorithms: [...ALGS], cacheSize: 0, currentDate: NOW_DATE, ...extra });

describe('asymmetric fast path: attacks', () => {
  for (const alg of ['ES256', 'ES384', 'ES512'] as const) {
    test(`${alg} "psychic signatures" (CVE-2022-21449): r = s = 0, r = s = n, r = 0 → signature_invalid from the fast path, as from jose`, async () => {
      const config = normalizeOptions(staticOptions(alg));
      await teach(config, alg, DEFAULT_PAIR[FAMILY[alg]], alg === 'ES256' ? { typ: 'JWT' } : {});
      const token = await validToken(alg, DEFAULT_PAIR[FAMILY[alg]], alg === 'ES256' ? { typ: 'JWT' } : {});
      const half = (SIG_BYTES[alg] as number) / 2;
      const n = toBytes(CURVE_ORDER[alg] as bigint, half);
      const s = Buffer.from(token.split('.')[2] as string, 'base64url').subarray(half);
      for (const signature of [Buffer.alloc(half * 2), Buffer.concat([n, n]), Buffer.concat([Buffer.alloc(half), s]), Buffer.alloc(half * 2, 0xff)]) {
        const forged = `${token.slice(0, token.lastIndexOf('.'))}.${b64u(signature)}`;
        assert.equal(fastVerdict(config, forged), 'signature_invalid');
        assert.deepEqual(await assertSameVerdict(config, forged), { ok: false, code: 'signature_invalid', claim: undefined });
      }
    });
  }

  test('ECDSA signatures in DER form, truncated, or padded → signature_invalid, decided by the fast path (jose takes IEEE P1363 of the exact length only)', async () => {
    const config = localJwks();
    for (const alg of ['ES256', 'ES384', 'ES512'] as const) {
      const key = DEFAULT_PAIR[FAMILY[alg]];
      await teach(config, alg, key, { kid: alg === 'ES256' ? 'p256' : alg === 'ES384' ? 'p384' : 'p521' });
      const token = await validToken(alg, key, { kid: alg === 'ES256' ? 'p256' : alg === 'ES384' ? 'p384' : 'p521' });
      for (const mutation of [{ kind: 'der' }, { kind: 'truncate', bytes: 1 }, { kind: 'extend' }] as const) {
        const mutated = mutate(token, alg, mutation);
        assert.equal(fastVerdict(config, mutated), 'signature_invalid', mutation.kind);
        assert.equal((await assertSameVerdict(config, mutated)).ok, false);
      }
      assert.equal(fastVerdict(config, mutate(token, alg, { kind: 'highS' })), 'accepted', 'high S is a valid ECDSA signature for jose too');
    }
  });

  test('RS256 → HS256 key confusion: an HS256 token keyed with the RSA public key (PEM) → signature_invalid; HS256 not allowed → algorithm_not_allowed', async () => {
    const pem = KEYS.rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const both = normalizeOptions(staticOptions('RS256'));
    await teach(both, 'RS256', KEYS.rsa);
    const input = `${seg({ alg: 'HS256', typ: 'JWT' })}.${seg({ sub: 'admin', iss: ISS })}`;
    const forged = `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
    assert.deepEqual(await assertSameVerdict(both, forged), { ok: false, code: 'signature_invalid', claim: undefined });
    // The same MAC behind an RS256 header: the RSA key refuses it, synchronously.
    const asRs256 = `${seg({ alg: 'RS256' })}.${seg({ sub: 'admin', iss: ISS })}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
    assert.equal(fastVerdict(both, asRs256), 'signature_invalid');
    assert.deepEqual(await assertSameVerdict(both, asRs256), { ok: false, code: 'signature_invalid', claim: undefined });
    const rsOnly = normalizeOptions({ publicKey: pem, algorithms: ['RS256'], cacheSize: 0, currentDate: NOW_DATE });
    assert.deepEqual(await assertSameVerdict(rsOnly, forged), { ok: false, code: 'algorithm_not_allowed', claim: undefined });
  });

  for (const alg of ['PS256', 'PS384', 'PS512'] as const) {
    test(`${alg} with a salt length other than the digest length (0, 20, digest ± 1, maximum) → signature_invalid from the fast path, as from jose`, async () => {
      const config = normalizeOptions(staticOptions(alg));
      await teach(config, alg, KEYS.rsa);
      const digest = Number(alg.slice(2)) / 8;
      for (const salt of [0, 20, digest - 1, digest + 1, constants.RSA_PSS_SALTLEN_MAX_SIGN]) {
        const token = signRaw(alg, KEYS.rsa.privateKey, seg({ alg }), seg({ sub: 'u', iss: ISS, exp: NOW + 60 }), salt);
        assert.equal(fastVerdict(config, token), 'signature_invalid', `salt ${salt}`);
        assert.deepEqual(await assertSameVerdict(config, token), { ok: false, code: 'signature_invalid', claim: undefined });
      }
      const right = signRaw(alg, KEYS.rsa.privateKey, seg({ alg }), seg({ sub: 'u', iss: ISS, exp: NOW + 60 }), digest);
      assert.equal(fastVerdict(config, right), 'accepted');
    });
  }

  test('RS and PS with one RSA key: a PKCS#1 v1.5 signature behind a PS header (and the reverse) → signature_invalid', async () => {
    const config = normalizeOptions(staticOptions('RS256'));
    await teach(config, 'RS256', KEYS.rsa);
    await teach(config, 'PS256', KEYS.rsa);
    for (const [signedAs, claimed] of [['RS256', 'PS256'], ['PS256', 'RS256']] as const) {
      const token = mutate(await validToken(signedAs, KEYS.rsa), signedAs, { kind: 'alg', to: claimed });
      assert.equal(fastVerdict(config, token), 'signature_invalid');
      assert.deepEqual(await assertSameVerdict(config, token), { ok: false, code: 'signature_invalid', claim: undefined });
    }
  });

  test('a P-256 key and ES384: a JWK pinned to ES384, or an ES384 header naming a P-256 kid → key_not_found, never decided by the fast path', async () => {
    const config = localJwks();
    await teach(config, 'ES256', KEYS.p256, { kid: 'p256' });
    for (const kid of ['p256-es384', 'p256']) {
      // What a P-256 key signs with SHA-384: a 64-byte r‖s, and a header that says ES384.
      const token = `${seg({ alg: 'ES384', kid })}.${seg({ sub: 'u' })}`;
      const signed = `${token}.${b64u(nodeSign('sha384', Buffer.from(token), { key: (KID_PAIRS[kid] as Pair).privateKey, dsaEncoding: 'ieee-p1363' }))}`;
      assert.equal(fastVerdict(config, signed), 'deferred');
      assert.deepEqual(await assertSameVerdict(config, signed), { ok: false, code: 'key_not_found', claim: undefined });
      assert.equal(fastVerdict(config, signed), 'deferred', 'nothing was learned from the failure');
    }
    assert.throws(() => normalizeOptions({ publicKey: KEYS.p256.publicKey, algorithms: ['ES384'] }), (e: unknown) => e instanceof JwtGuardError && e.code === 'invalid_options');
  });

  test('EdDSA with an X25519 key: from a JWKS → key_not_found, never decided by the fast path; as publicKey → invalid_options', async () => {
    const config = localJwks();
    await teach(config, 'EdDSA', KEYS.ed, { kid: 'ed' });
    const input = `${seg({ alg: 'EdDSA', kid: 'x' })}.${seg({ sub: 'u' })}`;
    // An Ed25519 signature by the Ed25519 key, behind the X25519 key's kid.
    const token = `${input}.${b64u(nodeSign(null, Buffer.from(input), KEYS.ed.privateKey))}`;
    assert.equal(fastVerdict(config, token), 'deferred');
    assert.deepEqual(await assertSameVerdict(config, token), { ok: false, code: 'key_not_found', claim: undefined });
    assert.throws(() => normalizeOptions({ publicKey: KEYS.x.publicKey, algorithms: ['EdDSA'] }), (e: unknown) => e instanceof JwtGuardError && e.code === 'invalid_options');
  });

  test('JWKS with duplicate kids, or no kid and several candidates → key_not_found from jose, never decided by the fast path', async () => {
    const config = localJwks();
    await teach(config, 'ES256', KEYS.p256, { kid: 'p256' });
    for (const [header, key] of [[{ kid: 'dup' }, KEYS.dupA], [{ kid: 'dup' }, KEYS.dupB], [{}, KEYS.p256], [{}, KEYS.rsa]] as const) {
      const alg = key === KEYS.rsa ? 'RS256' : 'ES256';
      for (let i = 0; i < 2; i++) {
        const token = await validToken(alg, key, header);
        assert.equal(fastVerdict(config, token), 'deferred');
        assert.deepEqual(await assertSameVerdict(config, token), { ok: false, code: 'key_not_found', claim: undefined });
      }
    }
  });

  test('a JWKS kid selects its own key: a token signed by another key of the set under that kid → signature_invalid, synchronously', async () => {
    const config = localJwks();
    await teach(config, 'RS256', KEYS.rsa, { kid: 'rsa' });
    await teach(config, 'PS256', KEYS.rsaPs, { kid: 'rsa-ps' });
    const token = await validToken('PS256', KEYS.rsaPs, { kid: 'rsa' }); // rsa-ps's signature, rsa's kid
    assert.equal(fastVerdict(config, token), 'deferred', 'PS256 under kid "rsa" is not learned yet');
    assert.deepEqual(await assertSameVerdict(config, token), { ok: false, code: 'signature_invalid', claim: undefined });
    await teach(config, 'PS256', KEYS.rsa, { kid: 'rsa' });
    assert.equal(fastVerdict(config, token), 'signature_invalid');
  });

  test('a kid that is not a string (7) selects no JWKS key, not even the one with kid "7" → key_not_found, never decided by the fast path', async () => {
    const config = localJwks();
    await teach(config, 'EdDSA', KEYS.ed7, { kid: '7' });
    const token = await validToken('EdDSA', KEYS.ed7, { kid: 7 });
    assert.equal(fastVerdict(config, token), 'deferred');
    assert.deepEqual(await assertSameVerdict(config, token), { ok: false, code: 'key_not_found', claim: undefined });
  });

  test('crit, in any form, goes to jose even with a learned key (jose judges critical extensions)', async () => {
    const config = localJwks();
    await teach(config, 'ES256', KEYS.p256, { kid: 'p256' });
    for (const crit of [['exp'], ['b64'], [], ['x']]) {
      const token = signRaw('ES256', KEYS.p256.privateKey, seg({ alg: 'ES256', kid: 'p256', crit, b64: true }), seg({ sub: 'u' }));
      assert.equal(fastVerdict(config, token), 'deferred');
      await assertSameVerdict(config, token);
    }
  });

  test('with publicKey the kid plays no part: after one token, tokens with any kid are decided synchronously', async () => {
    const config = normalizeOptions(staticOptions('ES512'));
    await teach(config, 'ES512', KEYS.p521, { kid: 'a' });
    for (const kid of ['b', '', undefined]) assert.equal(fastVerdict(config, await validToken('ES512', KEYS.p521, { kid })), 'accepted');
  });
});

describe('asymmetric fast path: what it learns', () => {
  test('nothing before jose has verified with a key; only a key of the right type, curve and size, for an allowed alg, in the current key set', async () => {
    const config = localJwks();
    const fast = config.asymmetricFastPath;
    assert.ok(fast !== undefined);
    const generation = fast.generation();
    const token = (alg: Alg, key: Pair, kid: string) => validToken(alg, key, { kid });
    assert.equal(fastVerdict(config, await token('ES256', KEYS.p256, 'p256')), 'deferred');

    // Keys jose would never verify these algs with: each is refused.
    const refused: Array<[Alg, KeyObject | CryptoKey, string]> = [
      ['ES384', await asCryptoKey(KEYS.p256.publicKey, { name: 'ECDSA', namedCurve: 'P-256' }), 'p256'],
      ['RS256', await asCryptoKey(KEYS.weak.publicKey, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }), 'weak'],
      ['EdDSA', await asCryptoKey(KEYS.x.publicKey, { name: 'X25519' }), 'x'],
      ['ES256', await asCryptoKey(KEYS.p256.privateKey, { name: 'ECDSA', namedCurve: 'P-256' }), 'p256'],
      ['ES256', KEYS.p256.publicKey, 'p256'], // a KeyObject: jose hands back CryptoKeys only
      ['RS256', await asCryptoKey(KEYS.p256.publicKey, { name: 'ECDSA', namedCurve: 'P-256' }), 'rsa'],
    ];
    for (const [alg, key, kid] of refused) {
      fast.learn({ alg, kid }, key, generation);
      const signer = alg === 'ES384' ? KEYS.p384 : alg === 'RS256' ? KEYS.rsa : alg === 'EdDSA' ? KEYS.ed : KEYS.p256;
      assert.equal(fastVerdict(config, await token(alg, signer, kid)), 'deferred', `${alg} / ${kid}`);
    }

    const p256 = await asCryptoKey(KEYS.p256.publicKey, { name: 'ECDSA', namedCurve: 'P-256' });
    fast.learn({ alg: 'ES256', kid: 'p256' }, p256, generation + 1); // from a key set jose no longer holds
    assert.equal(fastVerdict(config, await token('ES256', KEYS.p256, 'p256')), 'deferred');
    const restricted = normalizeOptions({ jwks: JWKS, algorithms: ['RS256'], cacheSize: 0 });
    restricted.asymmetricFastPath?.learn({ alg: 'ES256', kid: 'p256' }, p256, 0); // an alg that is not allowed
    assert.equal(fastVerdict(restricted, await token('ES256', KEYS.p256, 'p256')), 'deferred');

    fast.learn({ alg: 'ES256', kid: 'p256' }, p256, generation);
    assert.equal(fastVerdict(config, await token('ES256', KEYS.p256, 'p256')), 'accepted', 'the control: a fitting key is learned');
    assert.equal(fastVerdict(config, await token('ES256', KEYS.p256, 'other-kid')), 'deferred', 'learned for its kid only');
    fast.learn({ alg: 'ES256', kid: 'p384' }, p256, generation + 1);
    assert.equal(fastVerdict(config, await token('ES256', KEYS.p256, 'p256')), 'accepted', 'a key from another set wipes nothing');
  });

  test('no node:crypto (process.getBuiltinModule missing): no fast path, and jose verifies as before', async () => {
    const proc = process as { getBuiltinModule?: unknown };
    const original = proc.getBuiltinModule;
    proc.getBuiltinModule = undefined;
    let config: NormalizedOptions;
    try {
      config = normalizeOptions({ publicKey: jwkOf(KEYS.ed), algorithms: ['EdDSA'], cacheSize: 0, currentDate: NOW_DATE });
    } finally {
      proc.getBuiltinModule = original;
    }
    assert.equal(config.asymmetricFastPath, undefined);
    assert.equal(config.fastPath, undefined);
    for (let i = 0; i < 2; i++) assert.equal((await assertSameVerdict(config, await validToken('EdDSA', KEYS.ed))).ok, true);
  });

  test('getKey: a key per call, so nothing is reused and there is no fast path', () => {
    const config = normalizeOptions({ getKey: () => KEYS.rsa.publicKey, algorithms: ['RS256'] });
    assert.equal(config.keys.reuse, undefined);
    assert.equal(config.asymmetricFastPath, undefined);
  });
});

describe('asymmetric fast path: a remote JWKS that changes', () => {
  test('the same kid re-used for a new key: once the set is stale the fast path stands back, and after the refetch it forgets the old key', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: NOW * 1000 });
    const oldKey = KEYS.rsa;
    const newKey = STRANGERS.rsa;
    const rotating = await new JwksServer([jwkOf(oldKey, { kid: 'k' })]).start();
    t.after(() => rotating.close());
    const config = normalizeOptions({ jwks: rotating.url, algorithms: ['RS256'], cacheSize: 0, jwksOptions: { cacheMaxAge: 60_000, cooldownDuration: 0 } });
    const token = (key: Pair) => signToken('RS256', key.privateKey, { kid: 'k' }, enc(JSON.stringify({ sub: 'u', n: Math.random() })));

    assert.equal(fastVerdict(config, await token(oldKey)), 'deferred', 'no keys fetched yet');
    assert.equal((await assertSameVerdict(config, await token(oldKey))).ok, true); // fetches the set; jose's key is learned
    assert.equal(fastVerdict(config, await token(oldKey)), 'accepted');
    assert.equal(fastVerdict(config, await token(newKey)), 'signature_invalid');

    rotating.keys = [jwkOf(newKey, { kid: 'k' })];
    t.mock.timers.tick(60_001); // past cacheMaxAge: jose refetches before choosing a key
    const stale = await token(oldKey);
    assert.equal(fastVerdict(config, stale), 'deferred', 'a stale set is refetched by jose first');
    assert.deepEqual(await assertSameVerdict(config, stale), { ok: false, code: 'signature_invalid', claim: undefined });
    assert.equal(fastVerdict(config, await token(oldKey)), 'deferred', 'the old key was forgotten with the old set');

    assert.equal((await assertSameVerdict(config, await token(newKey))).ok, true);
    assert.equal(fastVerdict(config, await token(newKey)), 'accepted');
    assert.equal(fastVerdict(config, await token(oldKey)), 'signature_invalid');
  });

  test('a stale set and an endpoint that is down → key_source_unavailable (503) from jose, not a verdict from learned keys', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: NOW * 1000 });
    const flaky = await new JwksServer([jwkOf(KEYS.ed, { kid: 'ed' })]).start();
    t.after(() => flaky.close());
    const config = normalizeOptions({ jwks: flaky.url, algorithms: ['EdDSA'], cacheSize: 0, jwksOptions: { cacheMaxAge: 60_000, timeoutDuration: 2000 } });
    const token = () => validToken('EdDSA', KEYS.ed, { kid: 'ed' }, { exp: undefined });
    await verifyWith(await token(), config);
    await verifyWith(await token(), config);
    assert.equal(fastVerdict(config, await token()), 'accepted');
    flaky.failing = true;
    t.mock.timers.tick(60_001);
    const during = await token();
    assert.equal(fastVerdict(config, during), 'deferred');
    assert.deepEqual(await settle(verifyWith(during, config)), { ok: false, code: 'key_source_unavailable', claim: undefined });
    flaky.failing = false;
    assert.equal((await settle(verifyWith(await token(), config))).ok, true);
    assert.equal((await settle(verifyWith(await token(), config))).ok, true);
    assert.equal(fastVerdict(config, await token()), 'accepted');
  });

  test("a jwksCache the caller passes still works through jwtguard's observer: written on each fetch, and a fresh one spares the first fetch", async (t) => {
    const cached = await new JwksServer([jwkOf(KEYS.p384, { kid: 'p384' })]).start();
    t.after(() => cached.close());
    const store: Record<string, unknown> = {};
    const options = { jwks: cached.url, algorithms: ['ES384'], cacheSize: 0, jwksOptions: { [jwksCache]: store } } as JwtGuardOptions;
    const config = normalizeOptions(options);
    const token = () => validToken('ES384', KEYS.p384, { kid: 'p384' }, { exp: undefined });
    assert.equal((await settle(verifyWith(await token(), config))).ok, true);
    assert.equal(cached.requests, 1);
    assert.equal(typeof store.uat, 'number');
    assert.deepEqual(store.jwks, { keys: cached.keys });

    const seeded = normalizeOptions({ ...options, jwksOptions: { [jwksCache]: { ...store } } } as JwtGuardOptions);
    for (let i = 0; i < 2; i++) assert.equal((await settle(verifyWith(await token(), seeded))).ok, true);
    assert.equal(fastVerdict(seeded, await token()), 'accepted');
    assert.equal(cached.requests, 1, 'the seeded set was used without a fetch');
  });
});

// Keep the key material honest: the configured keys are what the tests think they are.
test('test keys: RSA 2048 / 1024, the three NIST curves, Ed25519 and X25519', () => {
  assert.equal(KEYS.rsa.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
  assert.equal(KEYS.weak.publicKey.asymmetricKeyDetails?.modulusLength, 1024);
  assert.deepEqual([KEYS.p256, KEYS.p384, KEYS.p521].map((k) => k.publicKey.asymmetricKeyDetails?.namedCurve), ['prime256v1', 'secp384r1', 'secp521r1']);
  assert.equal(KEYS.ed.publicKey.asymmetricKeyType, 'ed25519');
  assert.equal(KEYS.x.publicKey.asymmetricKeyType, 'x25519');
  assert.ok(createPublicKey(KEYS.rsa.privateKey).equals(KEYS.rsa.publicKey));
  assert.ok(createPrivateKey(KEYS.ed.privateKey.export({ type: 'pkcs8', format: 'pem' })).equals(KEYS.ed.privateKey));
});
