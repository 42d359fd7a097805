import type { JwtGuardError } from '../errors/jwt-guard-error.js';
import type { JwtGuardPayload } from '../options/types.js';

/**
 * Options of `authorize()` (every adapter) and {@link createAuthorizer} (the core), validated once
 * when it is called.
 *
 * @example
 * ```ts
 * import { authorize } from 'jwtguard/express'
 *
 * // Auth0 RBAC puts permissions in an array claim; forward refusals to the app's error handler.
 * const { requireScopes } = authorize({ scopeClaim: 'permissions', forwardErrors: true })
 * app.get('/api/users', requireScopes('read:users'), listUsers)
 * ```
 */
export interface AuthorizeOptions {
  /**
   * The claim(s) that hold the token's scopes, read as a space-separated string (OAuth `scope`,
   * Entra `scp`) or an array of strings (Auth0 `permissions`, Entra `roles`). With several claims
   * the token's scopes are all of theirs together (`['scp', 'roles']`: delegated and app-only
   * Entra tokens). Exact top-level claim names: `"https://example.com/roles"` is one claim, not a
   * path. Default `"scope"`.
   */
  scopeClaim?: string | readonly string[];
  /**
   * `true`: a refusal (401, 403, 500) goes to the framework's error handling (Express `next(err)`,
   * Fastify's error handler, a Koa throw, a Hono `HTTPException` with the error as `cause`)
   * instead of being answered by the route guard. Default `false`. Only used by the adapters.
   */
  forwardErrors?: boolean;
}

/**
 * A value `requireClaims` compares claims with, by strict equality (`'1'` is not `1`).
 *
 * @example
 * ```ts
 * const accepted: ClaimValue[] = ['acme', 3, true]
 * ```
 */
export type ClaimValue = string | number | boolean;

/** What a claim of type `T` can be compared with: its scalar values, or the element values of an array claim. */
type ClaimScalar<T> = Extract<NonNullable<T> extends infer U ? (U extends readonly (infer E)[] ? E : U) : never, ClaimValue>;

/**
 * What `requireClaims` accepts for a claim of type `T`: one value, or a list of values of which
 * the claim must have one. A claim typed as a union of literals (`role: 'admin' | 'user'`) only
 * accepts those literals; an array claim (`groups: string[]`) accepts its element values; an
 * untyped claim accepts any string, number or boolean; an object claim accepts nothing (use
 * `claimCheck`).
 *
 * @example
 * ```ts
 * type Role = ClaimExpectation<'admin' | 'user'>      // 'admin' | 'user' | readonly ('admin' | 'user')[]
 * type Group = ClaimExpectation<string[] | undefined> // string | readonly string[]
 * ```
 */
export type ClaimExpectation<T> = unknown extends T
  ? ClaimValue | readonly ClaimValue[]
  : [ClaimScalar<T>] extends [never]
    ? never
    : ClaimScalar<T> | readonly ClaimScalar<T>[];

/**
 * The argument of `requireClaims`: claim names to the value, or list of values, each must have.
 * Typed from {@link JwtGuardPayload}, so a claim your app declared (`role: 'admin' | 'user'`)
 * only takes its own values, while any other claim name takes any value.
 *
 * @example
 * ```ts
 * declare module 'jwtguard' {
 *   interface JwtGuardPayload { role?: 'admin' | 'user' }
 * }
 * const ok: RequiredClaims = { role: 'admin', tenant: ['acme', 'globex'] }
 * // @ts-expect-error 'admn' is not a role
 * const typo: RequiredClaims = { role: 'admn' }
 * ```
 */
export type RequiredClaims<P extends JwtGuardPayload = JwtGuardPayload> = { readonly [K in keyof P]?: ClaimExpectation<P[K]> };

/**
 * A custom check of a verified payload for `claimCheck`: `true` lets the request through,
 * `false` refuses it with 403 `claim_mismatch`; a throw, a rejection or any other answer refuses
 * it with 500 `authorization_failed`.
 *
 * @example
 * ```ts
 * const verifiedEmail: ClaimCheckFunction = (payload) => payload.email_verified === true
 * ```
 */
export type ClaimCheckFunction<P extends JwtGuardPayload = JwtGuardPayload> = (payload: P) => boolean | Promise<boolean>;

/**
 * The verdict of a rule: `undefined` when the request may go on, the error to answer otherwise
 * (401 `token_missing`, 403 `insufficient_scope` / `claim_mismatch`, 500 `authorization_failed`).
 *
 * @example
 * ```ts
 * const verdict: AuthorizationVerdict = await rule.evaluate(payload)
 * if (verdict?.code === 'insufficient_scope') console.log(verdict.scopes)
 * ```
 */
export type AuthorizationVerdict = JwtGuardError | undefined;

/**
 * A framework-agnostic authorization rule, made by {@link createAuthorizer}'s functions. Adapters
 * wrap one per route guard (`guard.rule`).
 *
 * @example
 * ```ts
 * const rule = createAuthorizer().requireScopes('read:users')
 * const verdict = await rule.evaluate(payload)     // undefined, or a JwtGuardError
 * if (verdict !== undefined) send(errorResponse(verdict))
 * ```
 */
export interface AuthorizationRule {
  /** What the rule requires, written as the call that made it, e.g. `anyOf(requireScopes("admin"), requireClaims({"role":"admin"}))`. */
  readonly description: string;
  /**
   * Judges a payload: `undefined` to pass, or the error. No payload (`undefined`, or anything but
   * an object: no `jwtGuard` ran, or the request is anonymous) is 401 `token_missing`. Returns
   * the verdict directly when every rule involved is synchronous, a Promise otherwise. Never
   * throws, never rejects.
   */
  evaluate(payload: unknown): AuthorizationVerdict | Promise<AuthorizationVerdict>;
}

/**
 * The six functions of authorization, the same in the core (returning {@link AuthorizationRule}s)
 * and in every adapter (returning that framework's route guards). Each validates its arguments
 * when called and throws `invalid_options` with a message that says what to change.
 *
 * @example
 * ```ts
 * import { authorize } from 'jwtguard/fastify'
 *
 * const { requireScopes, requireClaims, anyOf } = authorize()
 * app.delete('/api/users/:id', { preHandler: anyOf(requireScopes('admin'), requireClaims({ role: 'admin' })) }, handler)
 * ```
 */
export interface AuthorizeFunctions<R, P extends JwtGuardPayload = JwtGuardPayload> {
  /** The token must have every one of these scopes (RFC 6749 §3.3 scope tokens). */
  requireScopes(...scopes: [string, ...string[]]): R;
  /** The token must have at least one of these scopes. */
  requireAnyScope(...scopes: [string, ...string[]]): R;
  /**
   * Every named claim must have the value, or one of the listed values; an array-valued claim
   * has each of its elements. Comparison is strict equality.
   */
  requireClaims(claims: RequiredClaims<P>): R;
  /** `check(payload)` must return (or resolve to) `true`; `description` says what it requires and is sent to the client on refusal. */
  claimCheck(check: ClaimCheckFunction<P>, description: string): R;
  /** At least one of these must pass; evaluated in order, stopping at the first that passes. */
  anyOf(...rules: [R, ...R[]]): R;
  /** Every one of these must pass; evaluated in order, stopping at the first refusal. */
  allOf(...rules: [R, ...R[]]): R;
}

/**
 * The core's authorization functions, returned by {@link createAuthorizer}.
 *
 * @example
 * ```ts
 * const authorizer: Authorizer = createAuthorizer({ scopeClaim: 'scp' })
 * const rule = authorizer.requireScopes('User.Read')
 * ```
 */
export type Authorizer<P extends JwtGuardPayload = JwtGuardPayload> = AuthorizeFunctions<AuthorizationRule, P>;
