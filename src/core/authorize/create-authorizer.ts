import type { JwtGuardPayload } from '../options/types.js';
import { checkRule } from './internal/check.js';
import { claimsRule } from './internal/claims.js';
import { allOfRule, anyOfRule, validateRules } from './internal/combinators.js';
import { normalizeAuthorizeOptions } from './internal/options.js';
import { scopeRule, validateScopes } from './internal/scopes.js';
import type { AuthorizeOptions, Authorizer } from './types.js';

/**
 * The framework-agnostic authorization functions: each returns an {@link AuthorizationRule}
 * whose `evaluate(payload)` judges a verified payload. The adapters' `authorize()` and route
 * guards (`jwtguard/express`, ...) are built on it; use it directly to authorize in a framework
 * without an adapter. Options are validated here, once, and every function validates its own
 * arguments when called: both throw `invalid_options` with a message that says what to change.
 *
 * @throws {JwtGuardError} `invalid_options` for unusable options or arguments.
 *
 * @example
 * ```ts
 * import { createAuthorizer, errorResponse } from 'jwtguard'
 *
 * const { requireScopes, requireClaims, allOf } = createAuthorizer({ scopeClaim: 'scp' })
 * const rule = allOf(requireScopes('User.Read'), requireClaims({ tid: tenantId }))
 *
 * const verdict = await rule.evaluate(payload)   // payload: what verifyToken resolved with
 * if (verdict !== undefined) {
 *   const { status, headers, body } = errorResponse(verdict) // 401, 403 or 500, as the adapters answer
 * }
 * ```
 */
export function createAuthorizer<P extends JwtGuardPayload = JwtGuardPayload>(options?: AuthorizeOptions): Authorizer<P> {
  const { scopeClaims } = normalizeAuthorizeOptions(options);
  return Object.freeze({
    requireScopes: (...scopes) => scopeRule('all', validateScopes('requireScopes', scopes), scopeClaims),
    requireAnyScope: (...scopes) => scopeRule('any', validateScopes('requireAnyScope', scopes), scopeClaims),
    requireClaims: (claims) => claimsRule(claims),
    claimCheck: (check, description) => checkRule(check, description),
    anyOf: (...rules) => anyOfRule(validateRules('anyOf', rules)),
    allOf: (...rules) => allOfRule(validateRules('allOf', rules)),
  } satisfies Authorizer<P>);
}
