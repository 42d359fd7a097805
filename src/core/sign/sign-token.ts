import { SignJWT, type JWTPayload } from 'jose';
import { JwtGuardError } from '../errors/jwt-guard-error.js';
import { normalizeOptions, type NormalizedOptions } from '../options/normalize-options.js';
import type { JwtGuardOptions } from '../options/types.js';

/**
 * @internal Times fixed by the caller instead of read from the clock: sessions mint access tokens
 * whose `exp` also depends on their session's end, and whose `iat` must come from the same
 * (injectable) clock as the session.
 */
export interface SignTimes {
  /** `iat`, seconds since the epoch. */
  readonly iat: number;
  /** `exp`, seconds since the epoch; replaces any `exp` in the payload, still capped by `maxExpiresIn`. */
  readonly exp: number;
}

/** @internal The form of {@link signToken} that works from normalised options; `times` fixes `iat` and `exp`. */
export async function signWith(payload: JWTPayload, config: NormalizedOptions, times?: SignTimes): Promise<string> {
  const alg = config.algorithm;
  if (alg === undefined) {
    throw new JwtGuardError('invalid_options', 'jwtguard: signing needs a key that can sign: `secret` for HS*, `privateKey` for RS/PS/ES/EdDSA.');
  }
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
    throw new JwtGuardError('sign_failed', 'The payload to sign must be a JSON object.');
  }
  if (payload.exp !== undefined && (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp))) {
    throw new JwtGuardError('sign_failed', 'The payload\'s "exp" must be a number of seconds since the epoch.', { claim: 'exp' });
  }
  const now = times?.iat ?? Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({ ...payload, iat: now }).setProtectedHeader({ alg, typ: config.claims.jose.typ ?? 'JWT', ...(config.kid !== undefined && { kid: config.kid }) });
  if (times !== undefined) jwt.setExpirationTime(Math.min(times.exp, now + (config.maxExpiresInSeconds ?? Infinity)));
  else if (payload.exp === undefined && config.expiresInSeconds !== undefined) jwt.setExpirationTime(now + config.expiresInSeconds);
  // maxExpiresIn caps the payload's own exp too (expiresIn is already within it, see normalizeOptions).
  else if (payload.exp !== undefined && config.maxExpiresInSeconds !== undefined && payload.exp > now + config.maxExpiresInSeconds) {
    jwt.setExpirationTime(now + config.maxExpiresInSeconds);
  }
  if (payload.nbf === undefined && config.notBeforeSeconds !== undefined) jwt.setNotBefore(now + config.notBeforeSeconds);
  const { issuer, audience } = config.claims.jose;
  // Tokens this guard mints must pass its own claim checks.
  if (payload.iss === undefined && issuer !== undefined) jwt.setIssuer(Array.isArray(issuer) ? (issuer[0] as string) : issuer);
  if (payload.aud === undefined && audience !== undefined) jwt.setAudience(audience);
  if (config.jti && payload.jti === undefined) jwt.setJti(crypto.randomUUID());
  try {
    return await jwt.sign(await config.keys.signingKey(alg));
  } catch (error) {
    if (error instanceof JwtGuardError) throw error;
    throw new JwtGuardError('sign_failed', 'The token could not be signed.', { cause: error });
  }
}

/**
 * Signs a payload as a compact JWT with the configured algorithm and key (`secret`, or
 * `privateKey` for RS/PS/ES/EdDSA, with `kid` when set). Sets `iat` to now; keeps an `exp` the
 * payload already has, otherwise applies `expiresIn` (default `"1h"`; `false` signs without
 * expiry); with `maxExpiresIn`, no token outlives `iat + maxExpiresIn` (a later `exp` is lowered
 * to it, and a token that would have no `exp` gets it); adds `nbf` (`notBefore`), `iss` / `aud` (`issuer` / `audience`) and a random `jti`
 * (`jti: true`) when configured and absent from the payload.
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
