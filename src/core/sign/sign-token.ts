import { SignJWT, type JWTPayload } from 'jose';
import { JwtGuardError } from '../errors/jwt-guard-error.js';
import { normalizeOptions, type NormalizedOptions } from '../options/normalize-options.js';
import type { JwtGuardOptions } from '../options/types.js';

/** @internal The form of {@link signToken} that works from normalised options. */
export async function signWith(payload: JWTPayload, config: NormalizedOptions): Promise<string> {
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new JwtGuardError('sign_failed', 'The payload to sign must be a JSON object.');
  }
  if (payload.exp !== undefined && (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp))) {
    throw new JwtGuardError('sign_failed', 'The payload\'s "exp" must be a number of seconds since the epoch.', { claim: 'exp' });
  }
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ ...payload, iat: now }).setProtectedHeader({ alg: config.algorithm, typ: 'JWT' });
  if (payload.exp === undefined && config.expiresInSeconds !== undefined) jwt.setExpirationTime(now + config.expiresInSeconds);
  try {
    return await jwt.sign(await config.getKey(config.algorithm));
  } catch (error) {
    throw new JwtGuardError('sign_failed', 'The token could not be signed.', { cause: error });
  }
}

/**
 * Signs a payload as a compact JWT with the configured algorithm and secret. Sets `iat` to now;
 * keeps an `exp` the payload already has, otherwise applies `expiresIn` (default `"1h"`;
 * `expiresIn: false` signs without expiry).
 *
 * @example
 * ```ts
 * import { signToken } from 'jwtguard'
 *
 * const token = await signToken({ sub: 'user-123', role: 'admin' }, { secret, expiresIn: '15m' })
 * ```
 */
export function signToken(payload: JWTPayload, options: JwtGuardOptions): Promise<string> {
  let config: NormalizedOptions;
  try {
    config = normalizeOptions(options);
  } catch (error) {
    return Promise.reject(error);
  }
  return signWith(payload, config);
}
