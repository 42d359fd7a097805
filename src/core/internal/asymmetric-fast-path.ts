// Type-only imports: erased at build time, so the core stays loadable on Web-standard runtimes.
import type * as NodeBuffer from 'node:buffer';
import type * as NodeCrypto from 'node:crypto';
import type { JWTHeaderParameters } from 'jose';
import { JwtGuardError } from '../errors/jwt-guard-error.js';
import type { ClaimRules } from '../options/claims.js';
import type { KeyReuse } from '../options/keys.js';
import type { HmacAlgorithm, JwsAlgorithm, JwtGuardPayload } from '../options/types.js';
import { segmentJsonDecoder } from './jws-segments.js';
import { nodeBuiltin } from './node-builtin.js';

/** The algorithms this path verifies: every non-HMAC algorithm jwtguard allows. */
export type AsymmetricAlgorithm = Exclude<JwsAlgorithm, HmacAlgorithm>;

/** How node:crypto must be called to verify exactly as jose's Web Crypto call does, and which keys fit. */
interface Scheme {
  /** node:crypto's digest name; `null` for Ed25519, which hashes internally. */
  readonly hash: string | null;
  readonly keyType: 'rsa' | 'ec' | 'ed25519';
  /** RSA-PSS only: jose verifies with a salt as long as the digest (RFC 7518 §3.5), never "any length". */
  readonly pssSaltLength?: number;
  /** ECDSA only: the OpenSSL name of the one curve `alg` allows (ES256 → P-256, ...). */
  readonly curve?: string;
  /** ECDSA and Ed25519: the one signature length jose accepts (IEEE P1363 r‖s for ECDSA, never DER). */
  readonly signatureBytes?: number;
}

const rsa = (bits: number): Scheme => ({ hash: `sha${bits}`, keyType: 'rsa' });
const pss = (bits: number): Scheme => ({ hash: `sha${bits}`, keyType: 'rsa', pssSaltLength: bits / 8 });
const ecdsa = (bits: number, curve: string, signatureBytes: number): Scheme => ({ hash: `sha${bits}`, keyType: 'ec', curve, signatureBytes });

const SCHEMES: Readonly<Record<AsymmetricAlgorithm, Scheme>> = {
  RS256: rsa(256),
  RS384: rsa(384),
  RS512: rsa(512),
  PS256: pss(256),
  PS384: pss(384),
  PS512: pss(512),
  ES256: ecdsa(256, 'prime256v1', 64),
  ES384: ecdsa(384, 'secp384r1', 96),
  ES512: ecdsa(512, 'secp521r1', 132),
  // jose 6 knows EdDSA as Ed25519 only (no Ed448), and so does jwtguard's allowlist.
  EdDSA: { hash: null, keyType: 'ed25519', signatureBytes: 64 },
};

/** jose's minimum RSA modulus (checkModulusLength); keys.ts refuses smaller configured keys, this also covers JWKS members. */
const MIN_RSA_BITS = 2048;
const HEADER_CACHE_MAX = 64;
/** Learned keys are bounded by the key set (one per alg and kid jose verified with); the cap only guards against a huge JWKS. */
const LEARNED_MAX = 256;

/**
 * @internal Synchronous RS/PS/ES/EdDSA verification with node:crypto, for keys jose has already
 * used. Same contract as the HMAC fast path: `verify` returns the payload only when
 * `jose.jwtVerify` would accept the token, a `signature_invalid` error only when jose would reject
 * it for its signature, and `undefined` for everything else, which then goes to jose.
 *
 * Keys are never chosen here. Each time jose verifies a token, {@link AsymmetricFastPath.learn}
 * receives the key jose resolved and verified it with (its `alg` and `kid` selection, the JWK's
 * `alg`, `use` and `key_ops`, curve and size checks all passed), converted once into a
 * `KeyObject`. Without `getKey`, that selection depends only on `alg` (a configured key) or on
 * `alg` and `kid` (a JWKS) and on the key set jose holds, so every later token with the same
 * `alg` and `kid` gets the same key from jose, and from this map. A kid that matched several JWKS
 * members, or none, never verified anything and is never learned: such tokens keep going to jose.
 * When a remote JWKS is replaced, the generation changes and everything learned is forgotten.
 */
export interface AsymmetricFastPath {
  readonly verify: (token: string, now: number) => JwtGuardPayload | JwtGuardError | undefined;
  /** The key-set generation, read just before jose resolves a key; pass it back to `learn`. */
  readonly generation: () => number;
  /** Remembers the key jose verified a token with, if the key set is still the one of `generation`. */
  readonly learn: (header: JWTHeaderParameters, key: unknown, generation: number) => void;
}

interface HeaderFacts {
  readonly header: JWTHeaderParameters;
  readonly scheme: Scheme;
  /** The learned-key slot: `alg` for configured keys, `alg:kid` (or `alg` without a kid) for a JWKS. */
  readonly slot: string;
  /** True when a JWKS chooses the key, which a remote set may have to refetch first. */
  readonly viaJwks: boolean;
}

/** The third argument of node:crypto's `verify` for one learned key and algorithm. */
type VerifyKey = NodeCrypto.KeyObject | NodeCrypto.VerifyKeyObjectInput;

const isCryptoKey = (value: unknown): boolean =>
  typeof value === 'object' && value !== null && (value as { [Symbol.toStringTag]?: string })[Symbol.toStringTag] === 'CryptoKey';

/** @internal Builds the fast path for the allowed asymmetric algorithms, or `undefined` where node:crypto is missing. */
export function createAsymmetricFastPath(reuse: KeyReuse, algorithms: readonly AsymmetricAlgorithm[], claims: ClaimRules): AsymmetricFastPath | undefined {
  const crypto = nodeBuiltin<typeof NodeCrypto>('node:crypto');
  const buffer = nodeBuiltin<typeof NodeBuffer>('node:buffer');
  if (typeof crypto?.verify !== 'function' || typeof crypto.KeyObject?.from !== 'function' || typeof buffer?.isUtf8 !== 'function') return undefined;
  const { verify: nodeVerify, KeyObject, constants } = crypto;
  const { Buffer } = buffer;
  const parseJson = segmentJsonDecoder(buffer);
  const allowed = new Set<string>(algorithms);

  const slotOf = (alg: AsymmetricAlgorithm, kid: string | undefined, viaJwks: boolean): string =>
    !viaJwks || kid === undefined ? alg : `${alg}:${kid}`; // alg names hold no ':', so kid "" stays distinct from no kid

  // Parsed once per distinct encoded header; null sends the token to jose: no allowed asymmetric
  // alg, a `crit` (jose's to judge), or a kid that is not a string (no JWKS member can match it).
  const headers = new Map<string, HeaderFacts | null>();
  const headerOf = (encoded: string): HeaderFacts | null => {
    let facts = headers.get(encoded);
    if (facts === undefined) {
      const parsed = parseJson(encoded);
      facts = null;
      if (parsed !== undefined && parsed.crit === undefined && typeof parsed.alg === 'string' && allowed.has(parsed.alg) && (parsed.kid === undefined || typeof parsed.kid === 'string')) {
        const alg = parsed.alg as AsymmetricAlgorithm;
        const viaJwks = !reuse.byAlgOnly(alg);
        facts = { header: parsed as JWTHeaderParameters, scheme: SCHEMES[alg], slot: slotOf(alg, parsed.kid, viaJwks), viaJwks };
      }
      if (headers.size >= HEADER_CACHE_MAX) headers.clear();
      headers.set(encoded, facts);
    }
    return facts;
  };

  const learned = new Map<string, VerifyKey>();
  let learnedGeneration = reuse.generation();
  /** Forgets every learned key once the key set they came from has been replaced. */
  const sync = (generation: number): void => {
    if (generation !== learnedGeneration) {
      learned.clear();
      learnedGeneration = generation;
    }
  };

  /** The node:crypto key argument for `scheme`, or `undefined` when the key is not one jose would verify `scheme` with. */
  const verifyKeyFor = (key: unknown, scheme: Scheme): VerifyKey | undefined => {
    let keyObject: NodeCrypto.KeyObject;
    try {
      keyObject = KeyObject.from(key as never);
    } catch {
      return undefined;
    }
    // Checked again although jose just verified with this key: the path must never verify
    // with a key jose would refuse for this alg, whatever jose's next version returns.
    if (keyObject.type !== 'public' || keyObject.asymmetricKeyType !== scheme.keyType) return undefined;
    const details = keyObject.asymmetricKeyDetails ?? {};
    if (scheme.keyType === 'rsa' && (details.modulusLength ?? 0) < MIN_RSA_BITS) return undefined;
    if (scheme.curve !== undefined && details.namedCurve !== scheme.curve) return undefined;
    if (scheme.pssSaltLength !== undefined) return { key: keyObject, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: scheme.pssSaltLength };
    if (scheme.keyType === 'rsa') return { key: keyObject, padding: constants.RSA_PKCS1_PADDING };
    // node:crypto's default is DER; jose (Web Crypto) takes the raw r‖s form only.
    if (scheme.keyType === 'ec') return { key: keyObject, dsaEncoding: 'ieee-p1363' };
    return keyObject;
  };

  const signatureInvalid = (): JwtGuardError => new JwtGuardError('signature_invalid', 'The token signature is invalid.');

  return {
    generation: reuse.generation,

    learn(header, key, generation) {
      const { alg, kid } = header;
      if (typeof alg !== 'string' || !allowed.has(alg) || (kid !== undefined && typeof kid !== 'string') || !isCryptoKey(key)) return;
      // A fetch applied while jose was verifying: the key may belong to either set, so it is not kept.
      if (generation !== reuse.generation()) return;
      const scheme = SCHEMES[alg as AsymmetricAlgorithm];
      const verifyKey = verifyKeyFor(key, scheme);
      if (verifyKey === undefined) return;
      sync(generation);
      if (learned.size >= LEARNED_MAX) learned.clear();
      learned.set(slotOf(alg as AsymmetricAlgorithm, kid, !reuse.byAlgOnly(alg as AsymmetricAlgorithm)), verifyKey);
    },

    verify(token, now) {
      const dot1 = token.indexOf('.');
      const dot2 = token.indexOf('.', dot1 + 1);
      const facts = headerOf(token.slice(0, dot1));
      if (facts === null) return undefined;
      sync(reuse.generation());
      const key = learned.get(facts.slot);
      // Not learned yet, or a remote JWKS that jose would refetch before choosing a key.
      if (key === undefined || (facts.viaJwks && !reuse.jwksCurrent())) return undefined;
      const { scheme } = facts;
      const signature = Buffer.from(token.slice(dot2 + 1), 'base64url');
      // Web Crypto refuses every other length (a DER-encoded or truncated ECDSA signature): so does jose.
      if (scheme.signatureBytes !== undefined && signature.length !== scheme.signatureBytes) return signatureInvalid();
      let valid: boolean;
      try {
        valid = nodeVerify(scheme.hash, Buffer.from(token.slice(0, dot2), 'latin1'), key, signature);
      } catch {
        return undefined; // node:crypto refused the input itself: jose decides
      }
      if (!valid) return signatureInvalid();
      const payload = parseJson(token.slice(dot1 + 1, dot2));
      if (payload === undefined) return undefined;
      // Accept only what jose's claim checks would accept; anything else gets jose's own verdict.
      return claims.accept(facts.header, payload, now) ? (payload as JwtGuardPayload) : undefined;
    },
  };
}
