import type { JwtGuardPayload } from '../options/types.js';
import { checkRule } from './internal/check.js';
import { claimsRule } from './internal/claims.js';
import { allOfRule, anyOfRule, validateRules } from './internal/combinators.js';
import { invalid } from './internal/rule.js';
import { scopeRule, validateScopeClaims, validateScopes } from './internal/scopes.js';
import type { AuthorizeOptions, Authorizer } from './types.js';

const OPTION_NAMES: readonly string[] = ['scopeClaim', 'forwardErrors'];

/** @internal The options of `authorize()` / `createAuthorizer()`, checked once. */
export interface NormalizedAuthorizeOptions {
  readonly scopeClaims: readonly string[];
  readonly forwardErrors: boolean;
}

/** @internal Validates {@link AuthorizeOptions}; throws `invalid_options` with what to change. */
export function normalizeAuthorizeOptions(options: unknown): NormalizedAuthorizeOptions {
  if (options === undefined) return { scopeClaims: ['scope'], forwardErrors: false };
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalid("authorize() takes an options object, e.g. authorize({ scopeClaim: 'permissions' }), or nothing.");
  }
  for (const name of Object.keys(options)) {
    if (!OPTION_NAMES.includes(name)) {
      throw invalid(`authorize() has no option \`${name}\`; its options are \`scopeClaim\` and \`forwardErrors\` (the guard's own options go to jwtGuard()).`);
    }
  }
  const { scopeClaim, forwardErrors } = options as AuthorizeOptions;
  if (forwardErrors !== undefined && typeof forwardErrors !== 'boolean') throw invalid('`forwardErrors` of authorize() must be true or false.');
  return { scopeClaims: validateScopeClaims(scopeClaim), forwardErrors: forwardErrors ?? false };
}

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
