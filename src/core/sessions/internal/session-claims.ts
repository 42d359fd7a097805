import { JwtGuardError } from '../../errors/jwt-guard-error.js';
import type { JwtGuardPayload } from '../../options/types.js';

/**
 * Claims a session never keeps from a login payload or a `reload` result: each access token gets
 * its own `iat`, `exp`, `jti` and the session's `sid`, and a login's `nbf` concerned that login's
 * token only. Keeping them would give every refreshed token the login's times.
 */
const PER_TOKEN_CLAIMS = ['iat', 'exp', 'nbf', 'jti', 'sid'] as const;

/** @internal Whether `value` is a plain object (`{}` or `Object.create(null)`), as JSON parsers and body parsers make them. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** @internal `payload` without the per-token claims: what a session stores and re-signs at each refresh. */
export function sessionClaims(payload: Record<string, unknown>): Record<string, unknown> {
  const claims: Record<string, unknown> = { ...payload };
  for (const claim of PER_TOKEN_CLAIMS) delete claims[claim];
  return claims;
}

/**
 * @internal The subject a session is indexed under for `revokeSubject`: a string `sub`, or a
 * number `sub` in its string form (JSON has both; `revokeSubject('42')` must reach `sub: 42`);
 * `undefined` for anything else.
 */
export function subjectOf(claims: Record<string, unknown>): string | undefined {
  const { sub } = claims;
  if (typeof sub === 'string') return sub;
  if (typeof sub === 'number' && Number.isFinite(sub)) return String(sub);
  return undefined;
}

/** @internal The stored claims of a session, parsed; a store that returns something else is faulty. */
export function parseStoredClaims(json: string): JwtGuardPayload {
  let claims: unknown;
  try {
    claims = JSON.parse(json);
  } catch {
    claims = undefined;
  }
  if (!isPlainObject(claims)) throw new JwtGuardError('session_store_unavailable', 'The session store returned session claims that are not a JSON object.');
  return claims as JwtGuardPayload;
}
