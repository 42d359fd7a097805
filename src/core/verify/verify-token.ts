import { jwtVerify, type JWTHeaderParameters } from 'jose';
import { JwtGuardError } from '../errors/jwt-guard-error.js';
import { mapJoseError } from '../internal/map-jose-error.js';
import { normalizeOptions, type NormalizedOptions } from '../options/normalize-options.js';
import type { HmacAlgorithm, JwtGuardOptions, JwtGuardPayload } from '../options/types.js';

/** Three non-empty base64url segments; rejects padding, whitespace and foreign characters before decoding. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** @internal The hot-path form of {@link verifyToken}, working from normalised options. */
export async function verifyWith(token: unknown, config: NormalizedOptions): Promise<JwtGuardPayload> {
  if (typeof token !== 'string' || token === '') {
    throw new JwtGuardError('token_missing', 'No token was provided.');
  }
  if (token.length > config.maxTokenLength) {
    throw new JwtGuardError('token_too_long', `The token is longer than ${config.maxTokenLength} characters.`);
  }
  if (!COMPACT_JWS.test(token)) {
    throw new JwtGuardError('token_malformed', 'The token is not a compact JWS of three base64url segments.');
  }
  try {
    // jose checks `alg` against `algorithms` before it asks for the key, so only allowed algorithms get here.
    const { payload } = await jwtVerify(token, (header: JWTHeaderParameters) => config.getKey(header.alg as HmacAlgorithm), {
      algorithms: config.algorithms as string[],
    });
    return payload as JwtGuardPayload;
  } catch (error) {
    throw mapJoseError(error);
  }
}

/**
 * Verifies a compact JWT: format, algorithm (from `options`, never from the token), signature,
 * `exp` and `nbf`. Resolves with the payload or rejects with a {@link JwtGuardError} whose `code`
 * says why (`token_malformed`, `algorithm_not_allowed`, `signature_invalid`, `token_expired`, ...).
 *
 * Pass the same `options` object on every call: it is validated and its key imported once.
 *
 * @example
 * ```ts
 * import { verifyToken } from 'jwtguard'
 *
 * const options = { secret: process.env.JWT_SECRET!, algorithm: 'HS512' } as const
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
