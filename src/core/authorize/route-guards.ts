import type { JwtGuardPayload } from '../options/types.js';
import { createAuthorizer } from './create-authorizer.js';
import { normalizeAuthorizeOptions } from './internal/options.js';
import type { AuthorizationRule, AuthorizeFunctions, AuthorizeOptions } from './types.js';

/**
 * What every adapter's route guard is besides its framework's middleware: the rule it applies.
 *
 * @example
 * ```ts
 * const guard = requireScopes('read:users')        // from any adapter
 * console.log(guard.rule.description)              // requireScopes("read:users")
 * ```
 */
export interface RuleCarrier {
  /** The framework-agnostic rule this route guard applies. */
  readonly rule: AuthorizationRule;
}

/** A route guard's own rule, or the value itself (a core rule, or something `anyOf` will refuse with a clear message). */
function unwrap(value: unknown): unknown {
  const rule = typeof value === 'function' ? (value as { rule?: unknown }).rule : undefined;
  return typeof rule === 'object' && rule !== null ? rule : value;
}

/**
 * @internal What an adapter's `authorize()` is made of: the core's functions, with each rule
 * turned into that framework's middleware by `toGuard`. Combinators take route guards and
 * combine their rules; the combined guard answers (or forwards) as this call's options say.
 *
 * @example
 * ```ts
 * export function authorize(options?: AuthorizeOptions): RouteGuards {
 *   return createRouteGuards(options, (rule, forwardErrors) => toMiddleware(rule, forwardErrors))
 * }
 * ```
 */
export function createRouteGuards<G extends RuleCarrier, P extends JwtGuardPayload = JwtGuardPayload>(
  options: AuthorizeOptions | undefined,
  toGuard: (rule: AuthorizationRule, forwardErrors: boolean) => G,
): AuthorizeFunctions<G, P> {
  const { forwardErrors } = normalizeAuthorizeOptions(options);
  const core = createAuthorizer<P>(options);
  const guard = (rule: AuthorizationRule): G => toGuard(rule, forwardErrors);
  return Object.freeze({
    requireScopes: (...scopes) => guard(core.requireScopes(...scopes)),
    requireAnyScope: (...scopes) => guard(core.requireAnyScope(...scopes)),
    requireClaims: (claims) => guard(core.requireClaims(claims)),
    claimCheck: (check, description) => guard(core.claimCheck(check, description)),
    anyOf: (...guards) => guard(core.anyOf(...(guards.map(unwrap) as [AuthorizationRule, ...AuthorizationRule[]]))),
    allOf: (...guards) => guard(core.allOf(...(guards.map(unwrap) as [AuthorizationRule, ...AuthorizationRule[]]))),
  } satisfies AuthorizeFunctions<G, P>);
}
