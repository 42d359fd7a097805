import ms from 'ms';
import { JwtGuardError } from '../errors/jwt-guard-error.js';
import { createAsymmetricFastPath, type AsymmetricAlgorithm, type AsymmetricFastPath } from '../internal/asymmetric-fast-path.js';
import { createHmacFastPath, type HmacFastPath } from '../internal/hmac-fast-path.js';
import { VerifiedTokenCache } from '../internal/verified-token-cache.js';
import { resolveClaims, type ClaimRules } from './claims.js';
import { parseSeconds } from './durations.js';
import { ALGORITHMS, HASH_BYTES, isAlgorithm, isHmac, keyFamilyOf, resolveKeys, type KeySet } from './keys.js';
import { memoryStore } from '../sessions/memory-store.js';
import type { TokenStore } from '../sessions/types.js';
import { normalizeBrowser, type NormalizedBrowser } from '../browser/browser-options.js';
import type { JwsAlgorithm, JwtGuardOptions, JwtGuardPayload, PublicRequest, RefreshOptions } from './types.js';

const DEFAULT_EXPIRES_IN_SECONDS = 3600;
const DEFAULT_MAX_TOKEN_LENGTH = 8192;
const DEFAULT_CACHE_SIZE = 10_000;
const DEFAULT_MINT_BODY_LIMIT = 65_536;
/** A larger login answer could not be parsed anyway: a V8 string holds fewer than 2^29 characters. */
const MAX_MINT_BODY_LIMIT = 2 ** 30;
/** The algorithm inferred for a key family when neither `algorithm` nor `algorithms` is set. */
const DEFAULT_ALGORITHM: Readonly<Record<string, JwsAlgorithm>> = {
  oct: 'HS256',
  RSA: 'RS256',
  'EC P-256': 'ES256',
  'EC P-384': 'ES384',
  'EC P-521': 'ES512',
  'OKP Ed25519': 'EdDSA',
};

/** Where to look for the token; the header name is lower-cased once here. */
export interface TokenSources {
  readonly header: string | undefined;
  readonly cookie: string | undefined;
  readonly query: string | undefined;
}

/**
 * The `refresh` / `logoutPath` / `store` / `maxStaleness` options after validation (all times in
 * whole milliseconds); present only when `refresh` is set.
 */
export interface NormalizedSessions {
  readonly refreshPath: string;
  readonly logoutPath: string | undefined;
  readonly store: TokenStore;
  /** `refresh.expiresIn`: the absolute life of a session. */
  readonly sessionLifetimeMs: number;
  readonly idleTimeoutMs: number | undefined;
  readonly reuseIntervalMs: number;
  readonly reload: RefreshOptions['reload'];
  readonly maxStalenessMs: number;
}

/** Options after validation: everything the hot path needs, computed once. */
export interface NormalizedOptions {
  /** The algorithm tokens are signed with; `undefined` when no configured key can sign. */
  readonly algorithm: JwsAlgorithm | undefined;
  /** The allowlist: the only algorithms ever accepted. */
  readonly algorithms: readonly JwsAlgorithm[];
  readonly keys: KeySet;
  readonly claims: ClaimRules;
  readonly kid: string | undefined;
  readonly sources: TokenSources;
  readonly authPath: string | undefined;
  /** Methods minted on `authPath` (upper case); other methods there are guarded like any route. */
  readonly authMethods: ReadonlySet<string>;
  readonly delayMs: number;
  readonly expiresInSeconds: number | undefined;
  /** `maxExpiresIn` in whole seconds: no signed token lives longer; `undefined` for no cap. */
  readonly maxExpiresInSeconds: number | undefined;
  /** The largest login answer minted, in bytes, raw and decoded (`mintBodyLimit`). */
  readonly mintBodyLimit: number;
  readonly notBeforeSeconds: number | undefined;
  readonly jti: boolean;
  readonly guardPreflight: boolean;
  readonly credentialsRequired: boolean;
  readonly forwardErrors: boolean;
  /** Whether a request needs no token (`publicPaths`). */
  readonly isPublic: ((request: PublicRequest) => boolean) | undefined;
  readonly isRevoked: ((payload: JwtGuardPayload, token: string) => boolean | Promise<boolean>) | undefined;
  readonly maxTokenLength: number;
  /** Verified tokens by token string (bounded); `undefined` when `cacheSize` is 0. */
  readonly cache: VerifiedTokenCache | undefined;
  /**
   * Synchronous node:crypto verification: HMAC with the configured secret, and RS/PS/ES/EdDSA with
   * keys jose has verified with before (see {@link asymmetricFastPath}); `undefined` where the
   * runtime lacks node:crypto or keys come from `getKey`.
   */
  readonly fastPath: HmacFastPath | undefined;
  /** The RS/PS/ES/EdDSA part of {@link fastPath}, which learns its keys from jose's verifications (verifyWithJose). */
  readonly asymmetricFastPath: AsymmetricFastPath | undefined;
  /** `onWarning`, or the default: where configuration and run-time warnings go. */
  readonly warn: (message: string) => void;
  /** Sessions (refresh tokens, logout), when `refresh` is set. */
  readonly sessions: NormalizedSessions | undefined;
  /** Cookies jwtguard sets (`tokenCookie`, `refresh.cookie`) and the CSRF policy for cookie-carried tokens. */
  readonly browser: NormalizedBrowser;
}

const normalizedByOptions = new WeakMap<object, NormalizedOptions>();

function invalid(message: string): JwtGuardError {
  return new JwtGuardError('invalid_options', `jwtguard: ${message}`);
}

function defaultWarn(message: string): void {
  const proc = (globalThis as { process?: { emitWarning?: (m: string, o: object) => void } }).process;
  if (typeof proc?.emitWarning === 'function') proc.emitWarning(message, { code: 'JWTGUARD_WEAK_SECRET' });
  else console.warn(message);
}

function normalizeName(value: unknown, option: 'header' | 'query' | 'cookie'): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.trim() === '') {
    throw invalid(`\`${option}\` must be a non-empty string naming the ${option} that carries the token.`);
  }
  return value.trim();
}

function normalizeDelay(delay: unknown): number {
  if (delay === undefined) return 0;
  const millis = typeof delay === 'number' ? delay : typeof delay === 'string' ? ms(delay as ms.StringValue) : Number.NaN;
  if (typeof millis !== 'number' || !Number.isFinite(millis) || millis < 0) {
    throw invalid(`\`delay\` must be a non-negative duration such as "100ms", "1s" or a number of milliseconds; got ${JSON.stringify(delay)}.`);
  }
  return millis;
}

function normalizeExpiresIn(expiresIn: unknown, maxSeconds: number | undefined): number | undefined {
  // Under maxExpiresIn, the default shrinks to fit and "no expiry" becomes the longest allowed.
  if (expiresIn === undefined) return Math.min(DEFAULT_EXPIRES_IN_SECONDS, maxSeconds ?? Infinity);
  if (expiresIn === false) return maxSeconds;
  let seconds: number;
  try {
    seconds = Math.floor(parseSeconds(expiresIn, 'expiresIn'));
  } catch {
    throw invalid(`\`expiresIn\` must be a positive duration such as "15m" or "1h", a number of seconds, or false for no expiry; got ${JSON.stringify(expiresIn)}.`);
  }
  if (maxSeconds !== undefined && seconds > maxSeconds) {
    throw invalid(`\`expiresIn\` (${seconds} s) is longer than \`maxExpiresIn\` (${maxSeconds} s): shorten \`expiresIn\` or raise \`maxExpiresIn\`.`);
  }
  return seconds;
}

function normalizeMaxExpiresIn(maxExpiresIn: unknown): number | undefined {
  if (maxExpiresIn === undefined) return undefined;
  let seconds = 0;
  try {
    seconds = Math.floor(parseSeconds(maxExpiresIn, 'maxExpiresIn'));
  } catch {
    // reported below
  }
  if (seconds < 1) {
    throw invalid(`\`maxExpiresIn\` must be a duration of at least one second such as "1h" or "7d", or a number of seconds; got ${JSON.stringify(maxExpiresIn)}.`);
  }
  return seconds;
}

function normalizeMintBodyLimit(limit: unknown): number {
  if (limit === undefined) return DEFAULT_MINT_BODY_LIMIT;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_MINT_BODY_LIMIT) {
    throw invalid(`\`mintBodyLimit\` must be a whole number of bytes from 1 to ${MAX_MINT_BODY_LIMIT}, e.g. 65536 (64 KiB, the default); got ${JSON.stringify(limit)}.`);
  }
  return limit;
}

function normalizeCount(value: unknown, option: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw invalid(`\`${option}\` must be a whole number of at least ${min}; got ${JSON.stringify(value)}.`);
  }
  return value;
}

function normalizePath(value: unknown, option: string, example: string): string {
  if (typeof value !== 'string' || !value.startsWith('/') || /[?#\s]/.test(value)) {
    throw invalid(`\`${option}\` must be a path starting with "/" and without query or fragment, e.g. "${example}"; got ${JSON.stringify(value)}.`);
  }
  return value;
}

function normalizeAuthPath(authPath: unknown): string | undefined {
  if (authPath === undefined || authPath === '') return undefined;
  return normalizePath(authPath, 'authPath', '/api/auth/login');
}

const DEFAULT_SESSION_LIFETIME = '30d';
const DEFAULT_REUSE_INTERVAL = '10s';
const DEFAULT_MAX_STALENESS = '30s';
const STORE_METHODS = ['createSession', 'findRefresh', 'rotate', 'endSession', 'revokeSubject', 'revocations', 'subscribe'] as const;

function millis(value: unknown, option: string, fallback: string | number, allowZero = false): number {
  return Math.round(parseSeconds(value ?? fallback, option, { allowZero }) * 1000);
}

function normalizeSessions(options: JwtGuardOptions, authPath: string | undefined, expiresInSeconds: number | undefined): NormalizedSessions | undefined {
  const { refresh, logoutPath, store, maxStaleness } = options;
  if (refresh === undefined) {
    for (const [option, value] of [['logoutPath', logoutPath], ['store', store], ['maxStaleness', maxStaleness]] as const) {
      if (value !== undefined) throw invalid(`\`${option}\` belongs to sessions, which \`refresh\` turns on, e.g. \`refresh: { path: "/api/auth/refresh" }\`.`);
    }
    return undefined;
  }
  if (refresh === null || typeof refresh !== 'object') throw invalid('`refresh` must be an object such as `{ path: "/api/auth/refresh", expiresIn: "30d" }`.');
  if (authPath === undefined) throw invalid('`refresh` needs `authPath`: sessions start when the login route answers.');
  if (expiresInSeconds === undefined) throw invalid('`refresh` needs access tokens that expire: drop `expiresIn: false` (short lifetimes such as "15m" are the point of refresh tokens).');
  const refreshPath = normalizePath(refresh.path, 'refresh.path', '/api/auth/refresh');
  const logout = logoutPath === undefined ? undefined : normalizePath(logoutPath, 'logoutPath', '/api/auth/logout');
  const paths = [authPath, refreshPath, logout].filter((p) => p !== undefined);
  if (new Set(paths).size !== paths.length) throw invalid(`\`authPath\`, \`refresh.path\` and \`logoutPath\` must be three different paths; got ${JSON.stringify(paths)}.`);
  if (refresh.reload !== undefined && typeof refresh.reload !== 'function') throw invalid('`refresh.reload` must be a function `(claims) => claims | undefined` (sync or async).');
  if (store !== undefined && (store === null || typeof store !== 'object' || STORE_METHODS.some((m) => typeof (store as unknown as Record<string, unknown>)[m] !== 'function'))) {
    throw invalid(`\`store\` must implement TokenStore (${STORE_METHODS.join(', ')}): use \`memoryStore()\` or \`redisStore({ client })\` from "jwtguard/redis".`);
  }
  const sessionLifetimeMs = millis(refresh.expiresIn, 'refresh.expiresIn', DEFAULT_SESSION_LIFETIME);
  if (sessionLifetimeMs <= expiresInSeconds * 1000) {
    throw invalid(`\`refresh.expiresIn\` (${sessionLifetimeMs / 1000} s) must be longer than the access tokens' \`expiresIn\` (${expiresInSeconds} s).`);
  }
  return Object.freeze({
    refreshPath,
    logoutPath: logout,
    store: store ?? memoryStore(),
    sessionLifetimeMs,
    idleTimeoutMs: refresh.idleTimeout === undefined ? undefined : millis(refresh.idleTimeout, 'refresh.idleTimeout', 0),
    reuseIntervalMs: millis(refresh.reuseInterval, 'refresh.reuseInterval', DEFAULT_REUSE_INTERVAL, true),
    reload: refresh.reload,
    maxStalenessMs: millis(maxStaleness, 'maxStaleness', DEFAULT_MAX_STALENESS, true),
  });
}

/** An HTTP method token (RFC 9110 §9.1), compared upper-cased. */
const METHOD_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function normalizeAuthMethods(authMethods: unknown): ReadonlySet<string> {
  if (authMethods === undefined) return new Set(['POST']);
  if (!Array.isArray(authMethods) || authMethods.length === 0 || !authMethods.every((m) => typeof m === 'string' && METHOD_TOKEN.test(m))) {
    throw invalid(`\`authMethods\` must be a non-empty list of HTTP methods, e.g. ["POST"]; got ${JSON.stringify(authMethods)}.`);
  }
  const methods = new Set(authMethods.map((m: string) => m.toUpperCase()));
  if (methods.has('OPTIONS')) throw invalid('`authMethods` cannot include OPTIONS: a CORS preflight is never minted.');
  return methods;
}

function normalizePublicPaths(publicPaths: unknown): ((request: PublicRequest) => boolean) | undefined {
  if (publicPaths === undefined) return undefined;
  if (typeof publicPaths === 'function') return publicPaths as (request: PublicRequest) => boolean;
  if (!Array.isArray(publicPaths)) throw invalid('`publicPaths` must be a list of paths / patterns or a function `({ method, path }) => boolean`.');
  const exact = new Set<string>();
  const prefixes: string[] = [];
  const patterns: RegExp[] = [];
  for (const entry of publicPaths) {
    if (entry instanceof RegExp) patterns.push(new RegExp(entry.source, entry.flags.replace(/[gy]/g, ''))); // no lastIndex state
    else if (typeof entry === 'string' && entry.startsWith('/')) {
      if (entry.endsWith('/*')) prefixes.push(entry.slice(0, -1));
      else exact.add(entry);
    } else throw invalid(`\`publicPaths\` entries must be paths starting with "/" (a trailing "/*" matches a prefix) or RegExps; got ${JSON.stringify(entry)}.`);
  }
  return ({ path }) => exact.has(path) || prefixes.some((prefix) => path.startsWith(prefix)) || patterns.some((pattern) => pattern.test(path));
}

function normalizeAlgorithms(options: JwtGuardOptions, keys: KeySet): { algorithms: JwsAlgorithm[]; algorithm: JwsAlgorithm | undefined } {
  const { algorithm, algorithms } = options;
  const known = `one of ${ALGORITHMS.map((a) => `"${a}"`).join(', ')}`;
  if (algorithm !== undefined && !isAlgorithm(algorithm)) throw invalid(`\`algorithm\` must be ${known}; got ${JSON.stringify(algorithm)}.`);
  if (algorithms !== undefined && (!Array.isArray(algorithms) || algorithms.length === 0 || !algorithms.every(isAlgorithm))) {
    throw invalid(`\`algorithms\` must be a non-empty list, each ${known}; got ${JSON.stringify(algorithms)}.`);
  }
  let allowed: JwsAlgorithm[];
  if (algorithms !== undefined) allowed = [...new Set(algorithms)];
  else if (algorithm !== undefined) allowed = [algorithm];
  else if (keys.discovered && keys.families.size === 0) {
    // The ceiling; each token's alg must also be one the issuer allows (see issuer-key-source.ts).
    allowed = ALGORITHMS.filter((alg) => !isHmac(alg));
  } else {
    if (keys.discovered) throw invalid('`issuerBaseURL` together with `secret`, `publicKey` or `privateKey` needs an explicit allowlist, e.g. `algorithms: ["RS256", "HS256"]`.');
    if (keys.dynamic) throw invalid('`jwks` and `getKey` need an explicit allowlist, e.g. `algorithms: ["RS256"]`.');
    if (keys.families.size > 1) throw invalid(`keys of several kinds (${[...keys.families].join(', ')}) are configured; list the algorithms to accept, e.g. \`algorithms: ["HS256", "RS256"]\`.`);
    const family = [...keys.families][0] ?? 'oct';
    const inferred = DEFAULT_ALGORITHM[family];
    if (inferred === undefined) throw invalid(`no JWS algorithm fits the configured key (${family}).`);
    allowed = [inferred];
  }
  if (algorithm !== undefined && !allowed.includes(algorithm)) throw invalid(`\`algorithm\` ${algorithm} is not in \`algorithms\`; add it there or drop \`algorithm\`.`);
  if (!keys.dynamic) {
    for (const alg of allowed) {
      if (!keys.families.has(keyFamilyOf(alg))) {
        throw invalid(`${alg} is allowed but no configured key can verify it: ${isHmac(alg) ? 'add `secret`' : `add a ${keyFamilyOf(alg)} \`publicKey\` (or \`jwks\`)`}, or remove ${alg} from the allowed algorithms.`);
      }
    }
  }
  for (const family of new Set([...keys.families, ...keys.signOnlyFamilies])) {
    if (!allowed.some((alg) => keyFamilyOf(alg) === family)) {
      throw invalid(`the configured ${family === 'oct' ? '`secret`' : `${family} key`} fits none of the allowed algorithms (${allowed.join(', ')}).`);
    }
  }
  for (const [option, alg] of keys.pinned) {
    if (!allowed.includes(alg as JwsAlgorithm)) throw invalid(`the \`${option}\` JWK is for alg ${alg}, which is not among the allowed algorithms (${allowed.join(', ')}).`);
  }
  const signing = algorithm ?? allowed.find((alg) => keys.canSign(alg));
  return { algorithms: allowed, algorithm: signing !== undefined && keys.canSign(signing) ? signing : undefined };
}

/**
 * Validates options once and returns the normalised form every core function works from.
 * The result is cached per options object, so calling `verifyToken(token, options)` on every
 * request with the same `options` object imports keys only once.
 *
 * @throws {JwtGuardError} `invalid_options`, with a message that says how to fix it.
 *
 * @example
 * ```ts
 * import { normalizeOptions } from 'jwtguard'
 *
 * normalizeOptions({ secret: process.env.JWT_SECRET!, delay: '100ms' }) // throws early on bad options
 * ```
 */
export function normalizeOptions(options: JwtGuardOptions): NormalizedOptions {
  if (options === null || typeof options !== 'object') {
    throw invalid('options are required, e.g. `{ secret: process.env.JWT_SECRET }`.');
  }
  const cached = normalizedByOptions.get(options);
  if (cached !== undefined) return cached;

  // `warn` is read only once a verification runs, after it is set below.
  const keys = resolveKeys(options, (message) => warn(message));
  const { algorithms, algorithm } = normalizeAlgorithms(options, keys);
  const claims = resolveClaims(options);
  const authPath = normalizeAuthPath(options.authPath);
  if (authPath !== undefined && algorithm === undefined) {
    throw invalid('`authPath` mints tokens, which needs a signing key: `secret` for HS*, `privateKey` for RS/PS/ES/EdDSA.');
  }

  const warn = options.onWarning ?? defaultWarn;
  if (typeof warn !== 'function') throw invalid('`onWarning` must be a function.');
  const strongestHmac = Math.max(0, ...algorithms.filter(isHmac).map((alg) => HASH_BYTES[alg] ?? 0));
  if (keys.secret !== undefined && keys.secret.byteLength < strongestHmac) {
    const alg = algorithms.find((a) => HASH_BYTES[a] === strongestHmac);
    warn(`jwtguard: the secret is ${keys.secret.byteLength} bytes, shorter than the ${strongestHmac}-byte output of ${alg} (RFC 7518 §3.2). Use a longer random secret.`);
  }

  let header = normalizeName(options.header, 'header');
  const cookie = normalizeName(options.cookie, 'cookie');
  const query = normalizeName(options.query, 'query');
  if (header === undefined && cookie === undefined && query === undefined) header = 'authorization';
  if (options.kid !== undefined && (typeof options.kid !== 'string' || options.kid === '')) throw invalid('`kid` must be a non-empty string.');
  if (options.isRevoked !== undefined && typeof options.isRevoked !== 'function') throw invalid('`isRevoked` must be a function `(payload, token) => boolean | Promise<boolean>`.');

  const maxExpiresInSeconds = normalizeMaxExpiresIn(options.maxExpiresIn);
  const expiresInSeconds = normalizeExpiresIn(options.expiresIn, maxExpiresInSeconds);
  const cacheSize = normalizeCount(options.cacheSize, 'cacheSize', DEFAULT_CACHE_SIZE, 0);
  const sessions = normalizeSessions(options, authPath, expiresInSeconds);
  const browser = normalizeBrowser(options, { authPath, refreshPath: sessions?.refreshPath, cookieSource: cookie, warn });
  const hmacAlgorithms = algorithms.filter(isHmac);
  const hmacFastPath =
    keys.secret !== undefined && options.getKey === undefined && hmacAlgorithms.length > 0
      ? createHmacFastPath(keys.secret, hmacAlgorithms as ('HS256' | 'HS384' | 'HS512')[], claims)
      : undefined;
  const asymmetricAlgorithms = algorithms.filter((alg) => !isHmac(alg)) as AsymmetricAlgorithm[];
  const asymmetricFastPath =
    keys.reuse !== undefined && asymmetricAlgorithms.length > 0 ? createAsymmetricFastPath(keys.reuse, asymmetricAlgorithms, claims) : undefined;
  const asymmetricVerify = asymmetricFastPath?.verify;
  // Each path answers `undefined` for the other's algorithms, so they simply run one after the other.
  const fastPath: HmacFastPath | undefined =
    hmacFastPath !== undefined && asymmetricVerify !== undefined ? (token, now) => hmacFastPath(token, now) ?? asymmetricVerify(token, now) : (hmacFastPath ?? asymmetricVerify);

  const normalized: NormalizedOptions = Object.freeze({
    algorithm,
    algorithms: Object.freeze(algorithms),
    keys,
    claims,
    kid: options.kid,
    // tokenCookie adds its cookie as a source, after the header (which stays the default one).
    sources: Object.freeze({ header: header?.toLowerCase(), cookie: cookie ?? browser.tokenCookie?.name, query }),
    authPath,
    authMethods: normalizeAuthMethods(options.authMethods),
    delayMs: normalizeDelay(options.delay),
    expiresInSeconds,
    maxExpiresInSeconds,
    mintBodyLimit: normalizeMintBodyLimit(options.mintBodyLimit),
    notBeforeSeconds: options.notBefore === undefined ? undefined : parseSeconds(options.notBefore, 'notBefore', { allowZero: true }),
    jti: options.jti === true,
    guardPreflight: options.guardPreflight === true,
    credentialsRequired: options.credentialsRequired !== false,
    forwardErrors: options.forwardErrors === true,
    isPublic: normalizePublicPaths(options.publicPaths),
    isRevoked: options.isRevoked,
    maxTokenLength: normalizeCount(options.maxTokenLength, 'maxTokenLength', DEFAULT_MAX_TOKEN_LENGTH, 16),
    // Keys from jwks / getKey can be withdrawn at run time (rotation after a compromise); a cached
    // verdict would outlive that, so only tokens verified with configured keys are cached.
    cache: cacheSize > 0 && !keys.dynamic ? new VerifiedTokenCache(cacheSize, claims.stillValid) : undefined,
    fastPath,
    asymmetricFastPath,
    warn,
    sessions,
    browser,
  });
  normalizedByOptions.set(options, normalized);
  return normalized;
}
