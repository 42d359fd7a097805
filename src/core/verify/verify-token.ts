import { jwtVerify, type JWTHeaderParameters } from 'jose';
import { JwtGuardError } from '../errors/jwt-guard-error.js';
import { isCanonicalCompactJws } from '../internal/canonical-jws.js';
import { deepFreeze } from '../internal/deep-freeze.js';
import { mapJoseError } from '../internal/map-jose-error.js';
import { normalizeOptions, type NormalizedOptions } from '../options/normalize-options.js';
import type { JwtGuardOptions, JwtGuardPayload } from '../options/types.js';

/** @internal Size and canonical-encoding checks every path shares, before any decoding. */
export function precheck(token: unknown, config: NormalizedOptions): JwtGuardError | undefined {
  if (typeof token !== 'string' || token === '') return new JwtGuardError('token_missing', 'No token was provided.');
  if (token.length > config.maxTokenLength) {
    return new JwtGuardError('token_too_long', `The token is longer than ${config.maxTokenLength} characters.`);
  }
  if (!isCanonicalCompactJws(token)) {
    return new JwtGuardError('token_malformed', 'The token is not a canonical compact JWS of three base64url segments.');
  }
  return undefined;
}

/** @internal jose's verdict, mapped to jwtguard codes. The reference every faster path must agree with. */
export async function verifyWithJose(token: string, config: NormalizedOptions): Promise<JwtGuardPayload> {
  const learner = config.asymmetricFastPath;
  // Read before jose resolves the key, so a key from a JWKS replaced meanwhile is not learned.
  const generation = learner?.generation() ?? 0;
  try {
    // jose checks `alg` against `algorithms` before it asks for the key, so only allowed algorithms get here.
    const { payload, protectedHeader, key } = await jwtVerify(token, (header: JWTHeaderParameters) => config.keys.verificationKey(header, token), {
      ...config.claims.jose,
      algorithms: config.algorithms as string[],
    });
    // The key jose chose and verified with serves the next token with this alg and kid synchronously.
    learner?.learn(protectedHeader, key, generation);
    return payload as JwtGuardPayload;
  } catch (error) {
    throw mapJoseError(error);
  }
}

/**
 * @internal The synchronous part of verification: prechecks, the verified-token cache and the
 * node:crypto fast path. Returns the payload or the error when they decide, `undefined` when
 * only jose can (then call {@link verifyWith}). Revocation is not checked here.
 */
export function verifySync(token: unknown, config: NormalizedOptions): JwtGuardPayload | JwtGuardError | undefined {
  const now = config.claims.now();
  // Only canonical tokens within maxTokenLength are ever cached, so an exact hit needs no precheck.
  if (typeof token === 'string') {
    const cached = config.cache?.get(token, now);
    if (cached !== undefined) return cached;
  }
  const rejected = precheck(token, config);
  if (rejected !== undefined) return rejected;
  const compact = token as string;
  const fast = config.fastPath?.(compact, now);
  if (fast === undefined || fast instanceof JwtGuardError) return fast;
  return remember(compact, fast, config);
}

/** Freezes and caches a verified payload: a cached payload is shared by every request that presents the same token. */
function remember(token: string, payload: JwtGuardPayload, config: NormalizedOptions): JwtGuardPayload {
  deepFreeze(payload);
  config.cache?.set(token, payload);
  return payload;
}

const revoked = (): JwtGuardError => new JwtGuardError('token_revoked', 'The token has been revoked.');
const revocationFailed = (cause: unknown): JwtGuardError =>
  new JwtGuardError('revocation_unavailable', 'The revocation check failed.', { cause });

/**
 * @internal Runs `isRevoked` on a verified payload, on every request (cache hits included), so
 * revoking a token takes effect at once. Synchronous when the hook is; fails closed when it throws.
 */
export function checkRevocation(payload: JwtGuardPayload, token: string, config: NormalizedOptions): JwtGuardPayload | JwtGuardError | Promise<JwtGuardPayload | JwtGuardError> {
  if (config.isRevoked === undefined) return payload;
  let answer: boolean | Promise<boolean>;
  try {
    answer = config.isRevoked(payload, token);
  } catch (error) {
    return revocationFailed(error);
  }
  if (answer === false) return payload;
  if (answer === true) return revoked();
  return Promise.resolve(answer).then(
    (isRevoked) => (isRevoked === false ? payload : isRevoked === true ? revoked() : revocationFailed(new TypeError('isRevoked must resolve to a boolean'))),
    revocationFailed,
  );
}

/** @internal The full form of {@link verifyToken}, working from normalised options. */
export async function verifyWith(token: unknown, config: NormalizedOptions): Promise<JwtGuardPayload> {
  const verdict = verifySync(token, config);
  if (verdict instanceof JwtGuardError) throw verdict;
  const payload = verdict ?? remember(token as string, await verifyWithJose(token as string, config), config);
  const checked = await checkRevocation(payload, token as string, config);
  if (checked instanceof JwtGuardError) throw checked;
  return checked;
}

/**
 * Verifies a compact JWT: size and canonical form, algorithm (from `options`, never from the
 * token), signature, `exp`, `nbf` and the configured claims (`issuer`, `audience`, ...), then
 * `isRevoked`. Resolves with the payload (read-only: it is frozen) or rejects with a
 * {@link JwtGuardError} whose `code` says why (`token_malformed`, `algorithm_not_allowed`,
 * `signature_invalid`, `token_expired`, `claim_invalid`, ...).
 *
 * Pass the same `options` object on every call: it is validated and its keys imported once, and
 * its verified-token cache is reused.
 *
 * @example
 * ```ts
 * import { verifyToken } from 'jwtguard'
 *
 * const options = { secret: process.env.JWT_SECRET!, algorithm: 'HS512', audience: 'api' } as const
 * const payload = await verifyToken(token, options)
 * console.log(payload.sub)
 * ```
 */
export function verifyToken(token: string, options: JwtGuardOptions): Promise<JwtGuardPayload> {
  let config: NormalizedOptions;
  try {
    config = normalizeOptions(options);
  } catch (error) {
    return Promise.reject(error);
  }
  return verifyWith(token, config);
}
