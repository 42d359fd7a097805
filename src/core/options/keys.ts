// Type-only imports: erased at build time, so the core stays loadable on Web-standard runtimes.
import type * as NodeCrypto from 'node:crypto';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  importJWK,
  jwksCache,
  importPKCS8,
  importSPKI,
  importX509,
  type CryptoKey,
  type JWK,
  type JWTHeaderParameters,
  type JWTPayload,
  type KeyObject,
  type RemoteJWKSetOptions,
} from 'jose';
import { discoveryOptionsOf } from '../discovery/discovery-document.js';
import { createIssuerKeySource } from '../discovery/issuer-key-source.js';
import { JwtGuardError } from '../errors/jwt-guard-error.js';
import { nodeBuiltin } from '../internal/node-builtin.js';
import type { JwsAlgorithm, JwtGuardOptions } from './types.js';

/** Which key each algorithm needs. An HMAC secret can never verify an asymmetric algorithm, nor the reverse. */
const KEY_FAMILY: Readonly<Record<JwsAlgorithm, string>> = {
  HS256: 'oct', HS384: 'oct', HS512: 'oct',
  RS256: 'RSA', RS384: 'RSA', RS512: 'RSA',
  PS256: 'RSA', PS384: 'RSA', PS512: 'RSA',
  ES256: 'EC P-256', ES384: 'EC P-384', ES512: 'EC P-521',
  EdDSA: 'OKP Ed25519',
};
export const ALGORITHMS = Object.freeze(Object.keys(KEY_FAMILY) as JwsAlgorithm[]);
export const HASH_BYTES: Readonly<Record<string, number>> = { HS256: 32, HS384: 48, HS512: 64 };
const MIN_RSA_BITS = 2048;

export function isAlgorithm(value: unknown): value is JwsAlgorithm {
  return typeof value === 'string' && Object.hasOwn(KEY_FAMILY, value);
}
export const isHmac = (alg: JwsAlgorithm): boolean => KEY_FAMILY[alg] === 'oct';

/** A key as jose takes it. */
type JoseKey = CryptoKey | KeyObject | Uint8Array;

/** The resolved key material of one guard. */
export interface KeySet {
  /** The HMAC secret's bytes, when one is configured (for the synchronous fast path). */
  readonly secret: Uint8Array | undefined;
  /** Families of the statically configured keys, e.g. `oct`, `RSA`, `EC P-256`; empty for jwks / getKey only. */
  readonly families: ReadonlySet<string>;
  /** Families of keys that can only sign here (a private key whose public half cannot be derived on this runtime). */
  readonly signOnlyFamilies: ReadonlySet<string>;
  /** `alg` values that configured JWKs pin their key to, by option name. */
  readonly pinned: ReadonlyArray<readonly [option: string, alg: string]>;
  /** True when keys come from `jwks`, `issuerBaseURL` or `getKey`, so any allowed algorithm may find a key at run time. */
  readonly dynamic: boolean;
  /** True when the keys come from `issuerBaseURL` (OpenID / RFC 8414 discovery). */
  readonly discovered: boolean;
  /** jose's key resolver for verification: chooses the key by the (already allowlisted) `alg`. */
  readonly verificationKey: (header: JWTHeaderParameters, token: string) => Promise<JoseKey>;
  /** The key to sign `alg` with, or an error message saying what is missing. */
  readonly signingKey: (alg: JwsAlgorithm) => Promise<JoseKey>;
  /** Whether signing with `alg` is possible with the configured keys. */
  readonly canSign: (alg: JwsAlgorithm) => boolean;
  /** How far a key `verificationKey` resolved may be reused; `undefined` with `getKey` (a key per call). */
  readonly reuse: KeyReuse | undefined;
}

/**
 * @internal What the synchronous asymmetric fast path needs to reuse a key that jose resolved
 * through {@link KeySet.verificationKey} and verified a token with. Without `getKey`, the key for a
 * token depends only on its `alg` (a `publicKey` / `privateKey`) or on its `alg` and `kid` (a
 * JWKS), and on which key set jose currently holds.
 */
export interface KeyReuse {
  /** True when `alg` is served by `publicKey` / `privateKey` (the `kid` plays no part); false when the JWKS chooses by `alg` and `kid`. */
  readonly byAlgOnly: (alg: JwsAlgorithm) => boolean;
  /** Changes whenever the JWKS behind `verificationKey` is replaced (a remote set applied a fetch); constant otherwise. */
  readonly generation: () => number;
  /** Whether the JWKS would answer from the keys it holds, without fetching first: false while a remote set is missing or stale. */
  readonly jwksCurrent: () => boolean;
}

function invalid(message: string): JwtGuardError {
  return new JwtGuardError('invalid_options', `jwtguard: ${message}`);
}

function nodeCrypto(): typeof NodeCrypto | undefined {
  const crypto = nodeBuiltin<typeof NodeCrypto>('node:crypto');
  return typeof crypto?.createPublicKey === 'function' ? crypto : undefined;
}

const isKeyObject = (value: unknown): value is NodeCrypto.KeyObject =>
  typeof value === 'object' && value !== null && (value as { [Symbol.toStringTag]?: string })[Symbol.toStringTag] === 'KeyObject';
const isCryptoKey = (value: unknown): value is CryptoKey =>
  typeof value === 'object' && value !== null && (value as { [Symbol.toStringTag]?: string })[Symbol.toStringTag] === 'CryptoKey';
const isJwk = (value: unknown): value is JWK =>
  typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as JWK).kty === 'string';

function base64urlBytes(value: string): Uint8Array {
  const binary = atob(value.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/** Exact bit length of a base64url big-endian integer (an RSA modulus). */
function bitLength(value: string): number {
  let bytes: Uint8Array;
  try {
    bytes = base64urlBytes(value);
  } catch {
    return 0;
  }
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  if (i === bytes.length) return 0;
  return (bytes.length - i - 1) * 8 + (32 - Math.clz32(bytes[i] as number));
}

function secretBytes(secret: unknown): Uint8Array {
  if (typeof secret === 'string') {
    if (secret.length === 0) throw invalid('`secret` is empty. Pass a long random string, e.g. 64 hex characters from `openssl rand -hex 32`.');
    // A PEM as HMAC secret is the misconfiguration behind RS256→HS256 forgeries.
    if (secret.includes('-----BEGIN')) throw invalid('`secret` holds a PEM key. Pass RSA, EC and Ed25519 keys as `publicKey` / `privateKey`; `secret` is for HMAC only.');
    return new TextEncoder().encode(secret);
  }
  if (secret instanceof Uint8Array) {
    if (secret.byteLength === 0) throw invalid('`secret` is an empty byte array. Pass at least 32 random bytes.');
    return Uint8Array.from(secret); // a private copy: later mutation by the caller cannot change the key
  }
  if (isKeyObject(secret)) {
    if (secret.type !== 'secret') throw invalid('`secret` is an asymmetric KeyObject. Pass RSA, EC and Ed25519 keys as `publicKey` / `privateKey`.');
    if (secret.symmetricKeySize === 0) throw invalid('`secret` is an empty KeyObject. Pass at least 32 random bytes.');
    return Uint8Array.from(secret.export());
  }
  if (isJwk(secret)) {
    if (secret.kty !== 'oct' || typeof secret.k !== 'string' || !/^[A-Za-z0-9_-]*$/.test(secret.k)) {
      throw invalid('`secret` as a JWK must be `{ kty: "oct", k: "<base64url>" }`. Pass other keys as `publicKey` / `privateKey`.');
    }
    const bytes = base64urlBytes(secret.k);
    if (bytes.byteLength === 0) throw invalid('`secret` is an empty `oct` JWK.');
    return bytes;
  }
  throw invalid(`\`secret\` must be a string, Uint8Array, secret KeyObject or \`oct\` JWK; got ${secret === null ? 'null' : typeof secret}.`);
}

/** Family (`RSA`, `EC P-256`, `OKP Ed25519`), type and RSA size of a key, read without using it. */
interface KeyFacts {
  readonly family: string;
  readonly type: 'public' | 'private';
  readonly modulusLength?: number;
}

const CURVE_NAMES: Readonly<Record<string, string>> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521', 'P-256': 'P-256', 'P-384': 'P-384', 'P-521': 'P-521' };

function factsOfKeyObject(key: NodeCrypto.KeyObject): KeyFacts {
  const details = key.asymmetricKeyDetails ?? {};
  const type = key.type === 'private' ? 'private' : 'public';
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return { family: 'RSA', type, modulusLength: details.modulusLength ?? 0 };
    case 'rsa-pss': // RSASSA-PSS-restricted keys: Web Crypto (and so jose) cannot use them
      return { family: 'RSA-PSS', type, modulusLength: details.modulusLength ?? 0 };
    case 'ec':
      return { family: `EC ${CURVE_NAMES[details.namedCurve ?? ''] ?? details.namedCurve}`, type };
    case 'ed25519':
      return { family: 'OKP Ed25519', type };
    default:
      return { family: String(key.asymmetricKeyType), type };
  }
}

function factsOfJwk(jwk: JWK): KeyFacts {
  const type = jwk.d === undefined ? 'public' : 'private';
  if (jwk.kty === 'RSA') return { family: 'RSA', type, modulusLength: typeof jwk.n === 'string' ? bitLength(jwk.n) : 0 };
  if (jwk.kty === 'EC' || jwk.kty === 'OKP') return { family: `${jwk.kty} ${jwk.crv}`, type };
  return { family: String(jwk.kty), type };
}

function factsOfCryptoKey(key: CryptoKey): KeyFacts {
  const algorithm = key.algorithm as { name: string; namedCurve?: string; modulusLength?: number };
  const type = key.type === 'private' ? 'private' : 'public';
  if (algorithm.name.startsWith('RSA')) return { family: 'RSA', type, modulusLength: algorithm.modulusLength ?? 0 };
  if (algorithm.name === 'ECDSA') return { family: `EC ${algorithm.namedCurve}`, type };
  if (algorithm.name === 'Ed25519') return { family: 'OKP Ed25519', type };
  return { family: algorithm.name, type };
}

/** An asymmetric key option, checked now and importable per algorithm later. */
interface AsymmetricKey {
  readonly facts: KeyFacts | undefined; // undefined: a PEM on a runtime without node:crypto, checked at first use
  readonly forAlg: (alg: JwsAlgorithm) => Promise<JoseKey>;
  /** The public half for verification; `undefined` for a private key whose public half cannot be derived here. */
  readonly verifyForAlg: ((alg: JwsAlgorithm) => Promise<JoseKey>) | undefined;
  /** A JWK's own `alg`: the key serves that algorithm only. */
  readonly onlyAlg: string | undefined;
}

const PRIVATE_JWK_MEMBERS = { d: undefined, p: undefined, q: undefined, dp: undefined, dq: undefined, qi: undefined, oth: undefined };

function asymmetricKey(input: unknown, option: 'publicKey' | 'privateKey'): AsymmetricKey {
  const wanted = option === 'publicKey' ? 'public' : 'private';
  const node = nodeCrypto();
  let facts: KeyFacts | undefined;
  let forAlg: (alg: JwsAlgorithm) => Promise<JoseKey>;
  let verifyForAlg: ((alg: JwsAlgorithm) => Promise<JoseKey>) | undefined;
  let onlyAlg: string | undefined;
  // jose verifies only with public keys: a private key verifies through its derived public half.
  const publicHalf = (keyObject: NodeCrypto.KeyObject): ((alg: JwsAlgorithm) => Promise<JoseKey>) | undefined => {
    if (wanted === 'public') return async () => keyObject as unknown as KeyObject;
    if (node === undefined) return undefined;
    const pub = node.createPublicKey(keyObject);
    return async () => pub as unknown as KeyObject;
  };

  if (typeof input === 'string') {
    if (!input.includes('-----BEGIN')) throw invalid(`\`${option}\` as a string must be a PEM (${wanted === 'public' ? 'SPKI "PUBLIC KEY" or X.509 "CERTIFICATE"' : 'PKCS#8 "PRIVATE KEY"'}).`);
    const isPrivatePem = /-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----/.test(input);
    if (wanted === 'public' && isPrivatePem) throw invalid('`publicKey` holds a private key. Pass the public key (SPKI PEM, certificate or JWK); keep the private key for `privateKey`.');
    if (wanted === 'private' && !isPrivatePem) throw invalid('`privateKey` holds no private key. Pass a PKCS#8 PEM ("BEGIN PRIVATE KEY"), a private JWK, KeyObject or CryptoKey.');
    if (node !== undefined) {
      let keyObject: NodeCrypto.KeyObject;
      try {
        keyObject = wanted === 'public' ? node.createPublicKey(input) : node.createPrivateKey(input);
      } catch {
        throw invalid(`\`${option}\` could not be parsed as a PEM ${wanted} key.`);
      }
      facts = factsOfKeyObject(keyObject);
      forAlg = async () => keyObject as unknown as KeyObject;
      verifyForAlg = publicHalf(keyObject);
    } else {
      const imports = new Map<JwsAlgorithm, Promise<CryptoKey>>();
      const importer = wanted === 'private' ? importPKCS8 : input.includes('CERTIFICATE') ? importX509 : importSPKI;
      forAlg = (alg) => {
        let key = imports.get(alg);
        if (key === undefined) imports.set(alg, (key = importer(input, alg)));
        return key;
      };
      if (wanted === 'public') verifyForAlg = forAlg;
    }
  } else if (isKeyObject(input)) {
    if (input.type === 'secret') throw invalid(`\`${option}\` is a secret KeyObject. Pass HMAC secrets as \`secret\`.`);
    facts = factsOfKeyObject(input);
    forAlg = async () => input as unknown as KeyObject;
    if (input.type === 'private' || wanted === 'public') verifyForAlg = publicHalf(input);
  } else if (isCryptoKey(input)) {
    if (input.type === 'secret') throw invalid(`\`${option}\` is a secret CryptoKey. Pass HMAC secrets as \`secret\`.`);
    facts = factsOfCryptoKey(input);
    forAlg = async () => input;
    if (wanted === 'public') verifyForAlg = forAlg;
    else if (node !== undefined && input.type === 'private') verifyForAlg = publicHalf(node.KeyObject.from(input as never));
  } else if (isJwk(input)) {
    if (input.kty === 'oct') throw invalid(`\`${option}\` is an \`oct\` JWK. Pass HMAC secrets as \`secret\`.`);
    if (input.use !== undefined && input.use !== 'sig') throw invalid(`\`${option}\` is a JWK with \`use: "${input.use}"\`; signature keys have \`use: "sig"\` or none.`);
    facts = factsOfJwk(input);
    onlyAlg = typeof input.alg === 'string' ? input.alg : undefined;
    // A private JWK given as publicKey is reduced to its public part, never used to sign.
    const importer = (jwk: JWK) => {
      const imports = new Map<JwsAlgorithm, Promise<JoseKey>>();
      return (alg: JwsAlgorithm) => {
        let key = imports.get(alg);
        if (key === undefined) imports.set(alg, (key = importJWK({ ...jwk, alg }, alg) as Promise<JoseKey>));
        return key;
      };
    };
    const publicJwk: JWK = { ...input, ...PRIVATE_JWK_MEMBERS };
    if (wanted === 'public') facts = { ...facts, type: 'public' };
    forAlg = importer(wanted === 'public' ? publicJwk : input);
    verifyForAlg = importer(publicJwk);
  } else {
    throw invalid(`\`${option}\` must be a PEM string, a JWK, a KeyObject or a CryptoKey.`);
  }

  if (facts !== undefined) {
    if (wanted === 'private' && facts.type !== 'private') throw invalid('`privateKey` is a public key; signing needs the private key (PKCS#8 PEM, private JWK, KeyObject or CryptoKey).');
    if (wanted === 'public' && facts.type === 'private' && !isJwk(input)) {
      throw invalid('`publicKey` holds a private key. Pass the public key; keep the private key for `privateKey`.');
    }
    if (facts.family === 'RSA' && (facts.modulusLength ?? 0) < MIN_RSA_BITS) {
      throw invalid(`\`${option}\` is an RSA key of ${facts.modulusLength} bits; RSA keys must have at least ${MIN_RSA_BITS} bits.`);
    }
  }
  return { facts, forAlg, verifyForAlg, onlyAlg };
}

/** Maps "no key for this token" to a 401 and "the key source is down" to a 503. */
function mapResolverError(error: unknown): never {
  if (error instanceof JwtGuardError) throw error;
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    throw new JwtGuardError('key_not_found', 'No key matches the token.');
  }
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid || error instanceof TypeError || (error instanceof errors.JOSEError && /fetch|response/i.test(error.message))) {
    throw new JwtGuardError('key_source_unavailable', 'The key set could not be fetched.', { cause: error });
  }
  throw new JwtGuardError('key_source_unavailable', 'The key source failed.', { cause: error });
}

/**
 * Validates and prepares every key option once: `secret`, `publicKey`, `privateKey`, `jwks`,
 * `issuerBaseURL`, `getKey`. Throws `invalid_options` for keys that are missing, empty, of the wrong
 * kind, or too weak. `warn` receives what discovery finds wrong at run time (default: `onWarning`, else `console.warn`).
 */
export function resolveKeys(options: JwtGuardOptions, warn?: (message: string) => void): KeySet {
  const { secret: secretInput, publicKey, privateKey, jwks, getKey } = options;
  const discovery = discoveryOptionsOf(options);
  const secret = secretInput === undefined ? undefined : secretBytes(secretInput);
  const pub = publicKey === undefined ? undefined : asymmetricKey(publicKey, 'publicKey');
  const priv = privateKey === undefined ? undefined : asymmetricKey(privateKey, 'privateKey');
  if (getKey !== undefined && typeof getKey !== 'function') throw invalid('`getKey` must be a function `(header, payload) => key`.');

  let jwksResolver: ((header: JWTHeaderParameters, token: string) => Promise<JoseKey>) | undefined;
  let jwksGeneration = 0;
  let jwksCurrent = (): boolean => true; // a local `{ keys }` set never changes
  if (jwks !== undefined) {
    if (typeof jwks === 'string' || jwks instanceof URL) {
      let url: URL;
      try {
        url = new URL(jwks);
      } catch {
        throw invalid('`jwks` must be an absolute https URL of a JSON Web Key Set, or a `{ keys: [...] }` object.');
      }
      // Keys fetched in clear text could be swapped by anyone on the path; plain http only for this machine.
      const local = url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
      if (url.protocol !== 'https:' && !(url.protocol === 'http:' && local)) {
        throw invalid(`\`jwks\` must be an https URL (plain http is allowed only for localhost); got ${url.protocol}//${url.host}.`);
      }
      let remote: ReturnType<typeof createRemoteJWKSet>;
      try {
        remote = createRemoteJWKSet(url, observeReplacements(options.jwksOptions, () => jwksGeneration++));
      } catch (error) {
        throw invalid(`\`jwksOptions\` are invalid: ${(error as Error).message} (timeoutDuration, cooldownDuration and cacheMaxAge are non-negative milliseconds).`);
      }
      jwksResolver = (header) => remote(header);
      // jose fetches before it looks a key up when it holds no set or a stale one (cacheMaxAge).
      jwksCurrent = () => remote.fresh;
    } else if (typeof jwks === 'object' && jwks !== null && Array.isArray((jwks as { keys?: unknown }).keys)) {
      const local = createLocalJWKSet(jwks as { keys: JWK[] });
      jwksResolver = (header) => local(header);
    } else {
      throw invalid('`jwks` must be a URL or a `{ keys: [...] }` JSON Web Key Set.');
    }
  }
  if (discovery !== undefined) {
    try {
      createRemoteJWKSet(discovery.documentURLs[0], options.jwksOptions); // validates jwksOptions now; fetches nothing
    } catch (error) {
      throw invalid(`\`jwksOptions\` are invalid: ${(error as Error).message} (timeoutDuration, cooldownDuration and cacheMaxAge are non-negative milliseconds).`);
    }
    const source = createIssuerKeySource(discovery, {
      jwksOptions: options.jwksOptions,
      // A caller's jwksCache belongs to the first jwks_uri only: a set moved elsewhere starts empty.
      remoteKeySet: (url, first) =>
        createRemoteJWKSet(url, observeReplacements(first ? options.jwksOptions : { ...options.jwksOptions, [jwksCache]: undefined }, () => jwksGeneration++)),
      onApplied: () => jwksGeneration++,
      generation: () => jwksGeneration,
      narrowAlgorithms: options.algorithms === undefined && options.algorithm === undefined,
      warn: (message) => (warn ?? (typeof options.onWarning === 'function' ? options.onWarning : console.warn))(message),
    });
    jwksResolver = (header) => source.resolve(header);
    jwksCurrent = () => source.current();
  }

  if (secret === undefined && pub === undefined && priv === undefined && jwksResolver === undefined && getKey === undefined) {
    throw invalid('a key is required: `secret` for HS256/384/512, `publicKey` (or `jwks`, `issuerBaseURL`, or `getKey`) for RS/PS/ES/EdDSA. E.g. `jwtGuard({ secret: process.env.JWT_SECRET })`.');
  }

  // Keys that can verify: the public key, and the private key through its public half.
  const verifiers = [pub, priv].filter((key): key is AsymmetricKey => key?.verifyForAlg !== undefined);
  const families = new Set<string>();
  if (secret !== undefined) families.add('oct');
  for (const key of verifiers) if (key.facts !== undefined) families.add(key.facts.family);
  const signOnlyFamilies = new Set<string>();
  for (const key of [pub, priv]) if (key?.facts !== undefined && !verifiers.includes(key)) signOnlyFamilies.add(key.facts.family);
  const verifierFor = (alg: JwsAlgorithm): AsymmetricKey | undefined =>
    verifiers.find((key) => (key.facts === undefined || key.facts.family === KEY_FAMILY[alg]) && (key.onlyAlg === undefined || key.onlyAlg === alg));

  const pinned: [string, string][] = [];
  if (pub?.onlyAlg !== undefined) pinned.push(['publicKey', pub.onlyAlg]);
  if (priv?.onlyAlg !== undefined) pinned.push(['privateKey', priv.onlyAlg]);

  return {
    secret,
    families,
    signOnlyFamilies,
    pinned,
    dynamic: jwksResolver !== undefined || getKey !== undefined,
    discovered: discovery !== undefined,
    async verificationKey(header, token) {
      const alg = header.alg as JwsAlgorithm;
      try {
        if (getKey !== undefined) {
          const key = await getKey(header, decodePayload(token));
          if (key === undefined || key === null) throw new JwtGuardError('key_not_found', 'No key matches the token.');
          // A key that cannot serve the token's alg is the token's problem (401), not the server's.
          return await resolvedKeyFor(key, alg).catch((error: unknown) => {
            throw error instanceof JwtGuardError ? error : new JwtGuardError('key_not_found', 'No usable key for this token.');
          });
        }
        if (isHmac(alg)) {
          if (secret === undefined) throw new JwtGuardError('key_not_found', 'No key matches the token.');
          return secret;
        }
        const verifier = verifierFor(alg);
        if (verifier?.verifyForAlg !== undefined) return await verifier.verifyForAlg(alg);
        if (jwksResolver !== undefined) return await jwksResolver(header, token);
        throw new JwtGuardError('key_not_found', 'No key matches the token.');
      } catch (error) {
        return mapResolverError(error);
      }
    },
    canSign(alg) {
      if (isHmac(alg)) return secret !== undefined;
      return priv !== undefined && (priv.facts === undefined || priv.facts.family === KEY_FAMILY[alg]);
    },
    async signingKey(alg) {
      if (isHmac(alg) && secret !== undefined) return secret;
      if (priv !== undefined) return priv.forAlg(alg);
      throw new JwtGuardError('invalid_options', `jwtguard: signing with ${alg} needs ${isHmac(alg) ? '`secret`' : '`privateKey`'}.`);
    },
    // Mirrors verificationKey's order: a configured key for the alg first, else the JWKS.
    reuse:
      getKey === undefined
        ? { byAlgOnly: (alg) => verifierFor(alg) !== undefined, generation: () => jwksGeneration, jwksCurrent: () => jwksCurrent() }
        : undefined,
  };
}

/**
 * `jwksOptions` with jose's `jwksCache` hook observed. jose writes `uat` and `jwks` to that object
 * in the same synchronous step in which it replaces the key set it verifies with, and at no other
 * time, so `onReplace` runs exactly once per applied fetch (a fetch overtaken by a newer one writes
 * nothing). It is the only signal jose gives: `jwks()` returns a fresh copy on every call. A cache
 * the caller passed keeps working: reads and writes go through to it.
 */
function observeReplacements(jwksOptions: RemoteJWKSetOptions | undefined, onReplace: () => void): RemoteJWKSetOptions {
  const given: unknown = jwksOptions?.[jwksCache];
  // jose ignores a cache that is not an object; so does this wrapper.
  const outer = typeof given === 'object' && given !== null ? (given as Partial<Record<'uat' | 'jwks', unknown>>) : undefined;
  const observed = {
    get uat() {
      return outer?.uat;
    },
    set uat(value: unknown) {
      if (outer !== undefined) outer.uat = value;
    },
    get jwks() {
      return outer?.jwks;
    },
    set jwks(value: unknown) {
      if (outer !== undefined) outer.jwks = value;
      onReplace();
    },
  };
  return { ...jwksOptions, [jwksCache]: observed as unknown as RemoteJWKSetOptions[typeof jwksCache] };
}

/**
 * A `getKey` result, checked against the algorithm's family: a PEM or asymmetric key never becomes
 * an HMAC secret (RS256→HS256 key confusion), and a secret never serves an asymmetric algorithm.
 */
async function resolvedKeyFor(key: unknown, alg: JwsAlgorithm): Promise<JoseKey> {
  const noKey = (): never => {
    throw new JwtGuardError('key_not_found', 'No usable key for this token.');
  };
  if (isHmac(alg)) {
    if (typeof key === 'string') return key.includes('-----BEGIN') || key === '' ? noKey() : new TextEncoder().encode(key);
    if (key instanceof Uint8Array) return key.byteLength > 0 ? key : noKey();
    if (isJwk(key)) return key.kty === 'oct' ? ((await importJWK({ ...key, alg }, alg)) as JoseKey) : noKey();
    if ((isKeyObject(key) || isCryptoKey(key)) && key.type === 'secret') return key as unknown as JoseKey;
    return noKey();
  }
  if (typeof key === 'string') {
    if (!key.includes('-----BEGIN') || /PRIVATE KEY/.test(key)) return noKey();
    return key.includes('CERTIFICATE') ? importX509(key, alg) : importSPKI(key, alg);
  }
  const facts = isJwk(key) ? factsOfJwk({ ...key, ...PRIVATE_JWK_MEMBERS }) : isKeyObject(key) ? factsOfKeyObject(key) : isCryptoKey(key) ? factsOfCryptoKey(key) : undefined;
  if (facts === undefined || facts.family !== KEY_FAMILY[alg] || (facts.family === 'RSA' && (facts.modulusLength ?? 0) < MIN_RSA_BITS)) return noKey();
  if (isJwk(key)) return (await importJWK({ ...key, ...PRIVATE_JWK_MEMBERS, alg }, alg)) as JoseKey;
  return facts.type === 'public' ? (key as unknown as JoseKey) : noKey();
}

function decodePayload(token: string): JWTPayload {
  try {
    const segment = token.split('.')[1] ?? '';
    return JSON.parse(new TextDecoder().decode(base64urlBytes(segment))) as JWTPayload;
  } catch {
    return {};
  }
}

/** @internal The key family an algorithm needs. */
export const keyFamilyOf = (alg: JwsAlgorithm): string => KEY_FAMILY[alg];
