import { JwtGuardError } from '../../errors/jwt-guard-error.js';
import type { JwtGuardPayload } from '../../options/types.js';
import type { AuthorizationRule, AuthorizationVerdict } from '../types.js';

/** What a rule does with a payload that is known to be an object. */
export type Check = (payload: JwtGuardPayload) => AuthorizationVerdict | Promise<AuthorizationVerdict>;

/** @internal The same message as the guard's, so both answer no token with one shared response. */
export function tokenMissing(): JwtGuardError {
  return new JwtGuardError('token_missing', 'No token was provided.');
}

/** @internal A check that threw, rejected or answered nonsense: refused with a 500, the thrown value as `cause`. */
export function authorizationFailed(cause: unknown): JwtGuardError {
  return new JwtGuardError('authorization_failed', 'The authorization check failed.', { cause });
}

/** @internal An `invalid_options` error, prefixed like the guard's. */
export function invalid(message: string): JwtGuardError {
  return new JwtGuardError('invalid_options', `jwtguard: ${message}`);
}

function isPayload(value: unknown): value is JwtGuardPayload {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * @internal Every rule jwtguard makes. Combinators accept only these (a plain middleware passed to
 * `anyOf` is refused at construction), and call `check` on their children directly: the payload
 * is judged once, at the top.
 */
export class Rule implements AuthorizationRule {
  readonly description: string;
  readonly check: Check;

  constructor(description: string, check: Check) {
    this.description = description;
    this.check = check;
    Object.freeze(this);
  }

  evaluate(payload: unknown): AuthorizationVerdict | Promise<AuthorizationVerdict> {
    if (!isPayload(payload)) return tokenMissing();
    let verdict: AuthorizationVerdict | Promise<AuthorizationVerdict>;
    try {
      verdict = this.check(payload);
    } catch (error) {
      // Checks catch their users' throws themselves; this is the belt to those braces.
      return authorizationFailed(error);
    }
    return verdict instanceof Promise ? verdict.catch(authorizationFailed) : verdict;
  }
}
