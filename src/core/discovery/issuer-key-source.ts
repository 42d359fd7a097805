import type { createRemoteJWKSet, CryptoKey, JWK, JWTHeaderParameters, KeyObject, RemoteJWKSetOptions } from 'jose';
import { JwtGuardError } from '../errors/jwt-guard-error.js';
import type { JwsAlgorithm } from '../options/types.js';
import { ASYMMETRIC_ALGORITHMS, DiscoveryFailure, discoverIssuer, type DiscoveryOptions, type IssuerMetadata } from './discovery-document.js';

/**
 * jose's remote key set (createRemoteJWKSet), as keys.ts builds it with its replacement hook.
 *
 * @example
 * ```ts
 * const remote: RemoteKeySet = createRemoteJWKSet(new URL('https://idp.example/jwks'))
 * ```
 */
export type RemoteKeySet = ReturnType<typeof createRemoteJWKSet>;

/** jose's defaults for a remote JWKS, which discovery shares (milliseconds). */
const DEFAULT_TIMEOUT = 5_000;
const DEFAULT_COOLDOWN = 30_000;
const DEFAULT_CACHE_MAX_AGE = 600_000;
/**
 * After a failed discovery, requests are answered 503 at once for this long (at most `cooldownDuration`) before the next attempt.
 *
 * @example
 * ```ts
 * const pause = Math.min(DISCOVERY_RETRY_MS, jwksOptions.cooldownDuration ?? 30_000) // 1000 ms by default
 * ```
 */
export const DISCOVERY_RETRY_MS = 1_000;

/** The algorithm a JWK without `alg` stands for when the allowlist comes from the key set: each family's usual one. */
const ALGORITHM_OF_KEY_TYPE: Readonly<Record<string, JwsAlgorithm>> = {
  RSA: 'RS256',
  'EC P-256': 'ES256',
  'EC P-384': 'ES384',
  'EC P-521': 'ES512',
  'OKP Ed25519': 'EdDSA',
};

/**
 * What keys.ts hands the discovered key source.
 *
 * @example
 * ```ts
 * const deps: IssuerKeySourceDeps = {
 *   jwksOptions: undefined,
 *   remoteKeySet: (url) => createRemoteJWKSet(url),
 *   onApplied: () => generation++,
 *   generation: () => generation,
 *   narrowAlgorithms: true,
 *   warn: console.warn,
 * }
 * ```
 */
export interface IssuerKeySourceDeps {
  /** `jwksOptions`: timeouts, cooldown, cache age and headers apply to the discovery document as to the JWKS. */
  readonly jwksOptions: RemoteJWKSetOptions | undefined;
  /** A jose remote key set for `url`, observed by keys.ts so that the fast path sees every replacement. */
  readonly remoteKeySet: (url: URL, first: boolean) => RemoteKeySet;
  /** Called each time newly read metadata is applied (keys learned from the previous state must be forgotten). */
  readonly onApplied: () => void;
  /** keys.ts's key-set generation: changes whenever jose replaces a key set or metadata is applied. */
  readonly generation: () => number;
  /**
   * True when neither `algorithm` nor `algorithms` is set: each token's `alg` must then also be one
   * the issuer allows (advertised RS/PS/ES/EdDSA algorithms, or those of its keys).
   */
  readonly narrowAlgorithms: boolean;
  /** Where configuration problems found at run time are reported (`onWarning`). */
  readonly warn: (message: string) => void;
}

/**
 * @internal The key source behind `issuerBaseURL`: the issuer's metadata (its `jwks_uri`, checked
 * `issuer`, advertised algorithms), read at the first verification and again when it is older than
 * `cacheMaxAge` or a token names a `kid` the key set lacks (at most once per `cooldownDuration`),
 * and a jose remote key set for the current `jwks_uri`.
 *
 * @example
 * ```ts
 * const source: IssuerKeySource = createIssuerKeySource(discovery, deps)
 * await jwtVerify(token, (header) => source.resolve(header), { algorithms: ['RS256'] })
 * ```
 */
export interface IssuerKeySource {
  /** The key for a token's header, as jose's key resolver; fails with a {@link JwtGuardError} (`key_source_unavailable`, `algorithm_not_allowed`) or jose's JWKS errors. */
  readonly resolve: (header: JWTHeaderParameters) => Promise<CryptoKey | KeyObject>;
  /** Whether the metadata and the key set are both fresh, so that a key jose chose before would be chosen again without fetching. */
  readonly current: () => boolean;
}

interface State {
  readonly metadata: IssuerMetadata;
  readonly remote: RemoteKeySet;
  readonly readAt: number;
  /** The kids and algorithms of the key set jose holds, read once per key-set generation (jose's `jwks()` copies the set on every call). */
  keySet?: KeySetFacts | undefined;
}

const duration = (value: unknown, fallback: number): number => (typeof value === 'number' ? value : fallback);
const isFresh = (at: number, age: number): boolean => Date.now() < at + age;

function unavailable(cause: unknown): JwtGuardError {
  return new JwtGuardError('key_source_unavailable', 'The issuer metadata could not be read.', { cause });
}

/** What a key set allows when the allowlist comes from it: each verification key stands for one algorithm. */
interface KeySetFacts {
  readonly generation: number;
  readonly kids: ReadonlySet<unknown>;
  /** Every algorithm some key stands for (tokens without a kid). */
  readonly algorithms: ReadonlySet<string>;
  /** The algorithms the keys of one kid stand for. */
  readonly byKid: ReadonlyMap<string, ReadonlySet<string>>;
}

/** The one algorithm a JWK stands for: its `alg`, else its family's usual one; `undefined` for keys that do not verify signatures. */
function algorithmOfKey(jwk: JWK): string | undefined {
  if (jwk.use !== undefined && jwk.use !== 'sig') return undefined;
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) return undefined;
  if (typeof jwk.alg === 'string') return (ASYMMETRIC_ALGORITHMS as readonly string[]).includes(jwk.alg) ? jwk.alg : undefined;
  return ALGORITHM_OF_KEY_TYPE[jwk.kty === 'RSA' ? 'RSA' : `${jwk.kty} ${jwk.crv}`];
}

function factsOfKeys(keys: JWK[], generation: number): KeySetFacts {
  const algorithms = new Set<string>();
  const byKid = new Map<string, Set<string>>();
  for (const jwk of keys) {
    const alg = algorithmOfKey(jwk);
    if (alg === undefined) continue;
    algorithms.add(alg);
    if (typeof jwk.kid === 'string') byKid.set(jwk.kid, (byKid.get(jwk.kid) ?? new Set()).add(alg));
  }
  return { generation, kids: new Set(keys.map((key) => key.kid)), algorithms, byKid };
}

/**
 * @internal Builds the discovered key source. Nothing is fetched until the first verification.
 *
 * @example
 * ```ts
 * const source = createIssuerKeySource(discoveryOptionsOf(options)!, { jwksOptions, remoteKeySet, onApplied, generation, narrowAlgorithms: true, warn })
 * const key = await source.resolve(protectedHeader)
 * ```
 */
export function createIssuerKeySource(discovery: DiscoveryOptions, deps: IssuerKeySourceDeps): IssuerKeySource {
  const { jwksOptions, remoteKeySet, onApplied, generation, narrowAlgorithms, warn } = deps;
  const timeoutMs = duration(jwksOptions?.timeoutDuration, DEFAULT_TIMEOUT);
  const cooldownMs = duration(jwksOptions?.cooldownDuration, DEFAULT_COOLDOWN);
  const cacheMaxAgeMs = duration(jwksOptions?.cacheMaxAge, DEFAULT_CACHE_MAX_AGE);
  const retryMs = Math.min(DISCOVERY_RETRY_MS, cooldownMs);

  let state: State | undefined;
  let pending: Promise<State> | undefined;
  let failure: { readonly error: DiscoveryFailure; readonly at: number } | undefined;
  /** Whether the current run of failures has been reported: one warning per outage, not per request. */
  let reported = false;
  let announcedAlgorithms = '';
  let remotes = 0;

  const apply = (metadata: IssuerMetadata): State => {
    const remote =
      state !== undefined && state.metadata.jwksUri.href === metadata.jwksUri.href ? state.remote : remoteKeySet(metadata.jwksUri, remotes++ === 0);
    state = { metadata, remote, readAt: Date.now() };
    failure = undefined;
    reported = false;
    onApplied();
    return state;
  };

  const fail = (error: unknown): never => {
    const failed = error instanceof DiscoveryFailure ? error : new DiscoveryFailure(`discovery of ${discovery.issuer} failed.`, 'network', { cause: error });
    failure = { error: failed, at: Date.now() };
    if (!reported) {
      reported = true;
      warn(`jwtguard: issuer discovery for ${discovery.issuer} failed; requests get 503 key_source_unavailable until it succeeds: ${failed.message}`);
    }
    throw unavailable(failed);
  };

  /** Reads the metadata again; concurrent callers share one read, and a recent failure is answered without a new one. */
  const refresh = (): Promise<State> => {
    if (pending !== undefined) return pending;
    if (failure !== undefined && isFresh(failure.at, retryMs)) return Promise.reject(unavailable(failure.error));
    const read = discoverIssuer(discovery, jwksOptions, timeoutMs).then(apply, fail);
    pending = read;
    // Every caller awaits `read`; this copy only clears the slot, and swallows nothing anyone waits for.
    read.then(
      () => (pending = pending === read ? undefined : pending),
      () => (pending = pending === read ? undefined : pending),
    );
    return read;
  };

  /** The metadata to verify with: the current state, or a fresh read when there is none or it is older than cacheMaxAge. */
  const currentState = (): State | Promise<State> => (state !== undefined && isFresh(state.readAt, cacheMaxAgeMs) ? state : refresh());

  const notAllowed = (): JwtGuardError => new JwtGuardError('algorithm_not_allowed', 'The token is signed with an algorithm that is not allowed.');

  /** What the key set jose holds for `current` contains; `undefined` before jose has fetched it. */
  const keySetOf = (current: State): State['keySet'] => {
    const now = generation();
    if (current.keySet?.generation !== now) {
      const keys: JWK[] | undefined = current.remote.jwks()?.keys;
      current.keySet = keys === undefined ? undefined : factsOfKeys(keys, now);
    }
    return current.keySet;
  };

  /**
   * With no configured allowlist: whether the issuer allows `header.alg` — one it advertises, else
   * the one the token's key stands for (so an RSA key without `alg` serves RS256, not PS256).
   * Never HMAC or none: those are outside the construction-time allowlist and never get here.
   */
  const allowedByIssuer = (current: State, header: JWTHeaderParameters): boolean => {
    const alg = header.alg as string;
    const advertised = current.metadata.advertisedAlgorithms;
    if (advertised !== undefined && advertised.length > 0) {
      announce(advertised, 'its discovery document (id_token_signing_alg_values_supported)');
      return (advertised as readonly string[]).includes(alg);
    }
    const keySet = keySetOf(current);
    if (keySet === undefined) return false;
    announce([...keySet.algorithms], 'the keys of its JWKS');
    return typeof header.kid === 'string' ? keySet.byKid.get(header.kid)?.has(alg) === true : keySet.algorithms.has(alg);
  };

  const announce = (algorithms: readonly string[], from: string): void => {
    const list = algorithms.join(', ');
    if (list !== announcedAlgorithms) {
      announcedAlgorithms = list;
      warn(`jwtguard: \`algorithms\` is not set, so tokens from ${discovery.issuer} are accepted with ${list || 'no algorithm'}, from ${from}; HMAC and none never are. Set \`algorithms\` to pin them.`);
    }
  };

  const keyFor = async (current: State, header: JWTHeaderParameters): Promise<CryptoKey | KeyObject> => {
    const advertised = current.metadata.advertisedAlgorithms;
    // Refused before any fetch when the advertised list decides; else once jose holds the key set.
    if (narrowAlgorithms && advertised !== undefined && advertised.length > 0 && !allowedByIssuer(current, header)) throw notAllowed();
    const key = await current.remote(header);
    if (narrowAlgorithms && !allowedByIssuer(current, header)) throw notAllowed();
    return key;
  };

  return {
    async resolve(header) {
      let current = await currentState();
      // A kid the key set lacks makes jose read the set again (outside its cooldown); the metadata
      // is read first, at most once per cooldownDuration, so keys moved to another jwks_uri are found.
      if (typeof header.kid === 'string' && !isFresh(current.readAt, cooldownMs) && keySetOf(current)?.kids.has(header.kid) === false) current = await refresh();
      return keyFor(current, header);
    },
    current: () => state !== undefined && isFresh(state.readAt, cacheMaxAgeMs) && state.remote.fresh,
  };
}
