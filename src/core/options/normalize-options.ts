import type { CryptoKey } from 'jose';
import ms from 'ms';
import { JwtGuardError } from '../errors/jwt-guard-error.js';
import { createHmacFastPath, type HmacFastPath } from '../internal/hmac-fast-path.js';
import { VerifiedTokenCache } from '../internal/verified-token-cache.js';
import type { HmacAlgorithm, JwtGuardOptions } from './types.js';

/** Hash output size in bytes per HMAC algorithm; RFC 7518 §3.2 asks for keys at least this long. */
const HASH_BYTES: Readonly<Record<HmacAlgorithm, number>> = { HS256: 32, HS384: 48, HS512: 64 };
const WEB_CRYPTO_HASH: Readonly<Record<HmacAlgorithm, string>> = {
  HS256: 'SHA-256',
  HS384: 'SHA-384',
  HS512: 'SHA-512',
};
const DEFAULT_EXPIRES_IN_SECONDS = 3600;
const DEFAULT_MAX_TOKEN_LENGTH = 8192;
const DEFAULT_CACHE_SIZE = 10_000;

/** Where to look for the token; the header name is lower-cased once here. */
export interface TokenSources {
  readonly header: string | undefined;
  readonly cookie: string | undefined;
  readonly query: string | undefined;
}

/** Options after validation: everything the hot path needs, computed once. */
export interface NormalizedOptions {
  readonly algorithm: HmacAlgorithm;
  readonly algorithms: readonly HmacAlgorithm[];
  readonly secret: Uint8Array;
  readonly sources: TokenSources;
  readonly authPath: string | undefined;
  readonly delayMs: number;
  readonly expiresInSeconds: number | undefined;
  readonly guardPreflight: boolean;
  readonly maxTokenLength: number;
  /** Verified tokens by token string (bounded); `undefined` when `cacheSize` is 0. */
  readonly cache: VerifiedTokenCache | undefined;
  /** Synchronous node:crypto HMAC verification; `undefined` where the runtime lacks node:crypto. */
  readonly fastPath: HmacFastPath | undefined;
  /** The imported Web Crypto key for `alg`; imported once, on first use, then reused. */
  readonly getKey: (alg: HmacAlgorithm) => Promise<CryptoKey>;
}

const cache = new WeakMap<object, NormalizedOptions>();

function invalid(message: string): JwtGuardError {
  return new JwtGuardError('invalid_options', `jwtguard: ${message}`);
}

function defaultWarn(message: string): void {
  const proc = (globalThis as { process?: { emitWarning?: (m: string, o: object) => void } }).process;
  if (typeof proc?.emitWarning === 'function') proc.emitWarning(message, { code: 'JWTGUARD_WEAK_SECRET' });
  else console.warn(message);
}

function isHmacAlgorithm(value: unknown): value is HmacAlgorithm {
  return typeof value === 'string' && Object.hasOwn(HASH_BYTES, value);
}

function normalizeSecret(secret: unknown): Uint8Array {
  if (typeof secret === 'string') {
    if (secret.length === 0) throw invalid('`secret` is empty. Pass a long random string, e.g. 64 hex characters from `openssl rand -hex 32`.');
    return new TextEncoder().encode(secret);
  }
  if (secret instanceof Uint8Array) {
    if (secret.byteLength === 0) throw invalid('`secret` is an empty byte array. Pass at least 32 random bytes.');
    return Uint8Array.from(secret); // a private copy: later mutation by the caller cannot change the key
  }
  if (secret === undefined || secret === null) {
    throw invalid('`secret` is required. Pass the HMAC secret as a string or Uint8Array, e.g. `jwtGuard({ secret: process.env.JWT_SECRET })`.');
  }
  throw invalid(`\`secret\` must be a string or Uint8Array, got ${typeof secret}.`);
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

function normalizeExpiresIn(expiresIn: unknown): number | undefined {
  if (expiresIn === undefined) return DEFAULT_EXPIRES_IN_SECONDS;
  if (expiresIn === false) return undefined;
  const seconds =
    typeof expiresIn === 'number' ? expiresIn
    : typeof expiresIn === 'string' ? (ms(expiresIn as ms.StringValue) as number | undefined) ?? Number.NaN
    : Number.NaN;
  const value = typeof expiresIn === 'string' ? seconds / 1000 : seconds;
  if (!Number.isFinite(value) || value <= 0) {
    throw invalid(`\`expiresIn\` must be a positive duration such as "15m" or "1h", a number of seconds, or false for no expiry; got ${JSON.stringify(expiresIn)}.`);
  }
  return Math.floor(value);
}

function normalizeCacheSize(cacheSize: unknown): number {
  if (cacheSize === undefined) return DEFAULT_CACHE_SIZE;
  if (typeof cacheSize !== 'number' || !Number.isInteger(cacheSize) || cacheSize < 0) {
    throw invalid(`\`cacheSize\` must be a whole number of tokens (0 turns the cache off); got ${JSON.stringify(cacheSize)}.`);
  }
  return cacheSize;
}

function normalizeAuthPath(authPath: unknown): string | undefined {
  if (authPath === undefined || authPath === '') return undefined;
  if (typeof authPath !== 'string' || !authPath.startsWith('/') || /[?#\s]/.test(authPath)) {
    throw invalid(`\`authPath\` must be a path starting with "/" and without query or fragment, e.g. "/api/auth/login"; got ${JSON.stringify(authPath)}.`);
  }
  return authPath;
}

/**
 * Validates options once and returns the normalised form every core function works from.
 * The result is cached per options object, so calling `verifyToken(token, options)` on every
 * request with the same `options` object imports the key only once.
 *
 * @throws {JwtGuardError} `invalid_options`, with a message that says how to fix it.
 */
export function normalizeOptions(options: JwtGuardOptions): NormalizedOptions {
  if (options === null || typeof options !== 'object') {
    throw invalid('options are required, e.g. `{ secret: process.env.JWT_SECRET }`.');
  }
  const cached = cache.get(options);
  if (cached !== undefined) return cached;

  const algorithm = options.algorithm ?? 'HS256';
  if (!isHmacAlgorithm(algorithm)) {
    throw invalid(`\`algorithm\` must be one of "HS256", "HS384" or "HS512"; got ${JSON.stringify(options.algorithm)}.`);
  }
  const secret = normalizeSecret(options.secret);
  const warn = options.onWarning ?? defaultWarn;
  if (typeof warn !== 'function') throw invalid('`onWarning` must be a function.');
  if (secret.byteLength < HASH_BYTES[algorithm]) {
    warn(
      `jwtguard: the secret is ${secret.byteLength} bytes, shorter than the ${HASH_BYTES[algorithm]}-byte output of ${algorithm} ` +
        '(RFC 7518 §3.2). Use a longer random secret.',
    );
  }

  let header = normalizeName(options.header, 'header');
  const cookie = normalizeName(options.cookie, 'cookie');
  const query = normalizeName(options.query, 'query');
  if (header === undefined && cookie === undefined && query === undefined) header = 'authorization';

  const keyPromises = new Map<HmacAlgorithm, Promise<CryptoKey>>();
  const getKey = (alg: HmacAlgorithm): Promise<CryptoKey> => {
    let key = keyPromises.get(alg);
    if (key === undefined) {
      key = crypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: WEB_CRYPTO_HASH[alg] }, false, ['sign', 'verify']);
      keyPromises.set(alg, key);
    }
    return key;
  };

  const cacheSize = normalizeCacheSize(options.cacheSize);
  const algorithms = Object.freeze([algorithm]);
  const normalized: NormalizedOptions = Object.freeze({
    algorithm,
    algorithms,
    secret,
    sources: Object.freeze({ header: header?.toLowerCase(), cookie, query }),
    authPath: normalizeAuthPath(options.authPath),
    delayMs: normalizeDelay(options.delay),
    expiresInSeconds: normalizeExpiresIn(options.expiresIn),
    guardPreflight: options.guardPreflight === true,
    maxTokenLength: DEFAULT_MAX_TOKEN_LENGTH,
    cache: cacheSize > 0 ? new VerifiedTokenCache(cacheSize) : undefined,
    fastPath: createHmacFastPath(secret, algorithms),
    getKey,
  });
  cache.set(options, normalized);
  return normalized;
}
