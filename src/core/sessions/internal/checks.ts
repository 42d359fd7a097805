import type { RotateInput, SessionRecord } from '../types.js';

/**
 * @internal The preconditions of `createSession`, the same for every shipped store. A violation
 * is a bug in the caller, not a state of the store, so it throws a `TypeError` instead of a
 * `JwtGuardError`: an already-expired session would otherwise be written with a TTL of zero or
 * less (Redis deletes such a key at once) and fail later in a way that hides the cause.
 */
export function checkSession(session: SessionRecord, refreshHash: string): void {
  const problem =
    typeof session !== 'object' || session === null ? 'session must be an object'
    : typeof session.sid !== 'string' || session.sid === '' ? 'session.sid must be a non-empty string'
    : session.sub !== undefined && typeof session.sub !== 'string' ? 'session.sub must be a string or undefined'
    : typeof session.claims !== 'string' ? 'session.claims must be a string (JSON)'
    : !Number.isSafeInteger(session.createdAt) || !Number.isSafeInteger(session.expiresAt) ? 'session.createdAt and session.expiresAt must be integers (ms since the epoch)'
    : session.expiresAt <= session.createdAt ? 'session.expiresAt must be after session.createdAt'
    : typeof refreshHash !== 'string' || refreshHash === '' ? 'refreshHash must be a non-empty string'
    : undefined;
  if (problem !== undefined) throw new TypeError(`jwtguard: createSession: ${problem}.`);
}

/**
 * @internal The preconditions of `rotate`: a `NaN` time would otherwise compare false everywhere
 * and turn a valid refresh into a reuse (memory) or a script error (Redis).
 */
export function checkRotate(input: RotateInput): void {
  const { hash, newHash, now, idleTimeoutMs, reuseIntervalMs, answer, revokedUntil } = input;
  const problem =
    typeof hash !== 'string' || hash === '' || typeof newHash !== 'string' || newHash === '' ? 'hash and newHash must be non-empty strings'
    : hash === newHash ? 'newHash must differ from hash'
    : !Number.isSafeInteger(now) || !Number.isSafeInteger(revokedUntil) ? 'now and revokedUntil must be integers (ms since the epoch)'
    : !Number.isSafeInteger(reuseIntervalMs) || reuseIntervalMs < 0 ? 'reuseIntervalMs must be a non-negative integer'
    : idleTimeoutMs !== undefined && (!Number.isSafeInteger(idleTimeoutMs) || idleTimeoutMs <= 0) ? 'idleTimeoutMs must be a positive integer or undefined'
    : typeof answer !== 'string' ? 'answer must be a string'
    : undefined;
  if (problem !== undefined) throw new TypeError(`jwtguard: rotate: ${problem}.`);
}
