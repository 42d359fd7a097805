import type { AuthorizeFunctions, AuthorizeOptions, JwtGuardPayload } from '../../src/index.js';

/**
 * What every adapter module exports for route authorization (`import * as api from 'jwtguard/x'`):
 * the six functions with the defaults, and `authorize(options)`.
 */
export interface AuthzApi<G> extends AuthorizeFunctions<G> {
  authorize(options?: AuthorizeOptions): AuthorizeFunctions<G>;
}

/** Where the routes below live: `GET /api/authz/<name>`. */
export const AUTHZ_PREFIX = '/api/authz/';

/** A route guarded by a public path (see the `authz` preset): the guard verifies nothing there, so the route guard sees no payload. */
export const AUTHZ_PUBLIC_ROUTE = 'public-scopes';

/** What `claimCheck` routes throw: it must never reach the client. */
export const CHECK_SECRET_ERROR = 'policy store down at db.internal:5432';

const verifiedEmail = (payload: JwtGuardPayload): boolean => payload.email_verified === true;
const later = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
const throws = (): boolean => {
  throw new Error(CHECK_SECRET_ERROR);
};
const rejects = async (): Promise<boolean> => {
  await later();
  throw new Error(CHECK_SECRET_ERROR);
};

/**
 * The authorization routes every harness app serves, each `GET /api/authz/<name>` behind the
 * route guard(s) built here with that adapter's own functions. A route that lets the request
 * through answers 200 `{ authorized: <name> }`; a refused request never reaches it. An entry
 * that builds a list chains the guards the framework's way (Express / Hono / Koa arguments,
 * Fastify's `preHandler` array).
 */
export const AUTHZ_ROUTES: Readonly<Record<string, <G>(api: AuthzApi<G>) => G | readonly G[]>> = {
  // Scopes, from the module's own functions (default scope claim `scope`).
  scopes: (api) => api.requireScopes('read:users', 'write:users'),
  'any-scope': (api) => api.requireAnyScope('read:users', 'admin'),
  // Each scope claim name, through authorize({ scopeClaim }).
  scp: (api) => api.authorize({ scopeClaim: 'scp' }).requireScopes('User.Read'),
  permissions: (api) => api.authorize({ scopeClaim: 'permissions' }).requireScopes('read:users', 'write:users'),
  roles: (api) => api.authorize({ scopeClaim: 'roles' }).requireAnyScope('Task.Write', 'Admin'),
  'namespaced-claim': (api) => api.authorize({ scopeClaim: 'https://example.com/permissions' }).requireScopes('read:users'),
  'scp-or-roles': (api) => api.authorize({ scopeClaim: ['scp', 'roles'] }).requireScopes('Files.Read'),
  // Claims.
  'claim-equals': (api) => api.requireClaims({ role: 'admin' }),
  'claim-in-list': (api) => api.requireClaims({ tenant: ['acme', 'globex'] }),
  'claim-array': (api) => api.requireClaims({ groups: 'staff' }),
  'claims-all': (api) => api.requireClaims({ role: 'admin', tenant: ['acme', 'globex'] }),
  'claims-typed': (api) => api.requireClaims({ level: 3, verified: true }),
  // Custom checks.
  'check-sync': (api) => api.claimCheck(verifiedEmail, 'a verified email'),
  'check-async': (api) => api.claimCheck(async (payload) => (await later(), verifiedEmail(payload)), 'a verified email'),
  'check-throws': (api) => api.claimCheck(throws, 'a policy'),
  'check-rejects': (api) => api.claimCheck(rejects, 'a policy'),
  'check-not-boolean': (api) => api.claimCheck(() => 'yes' as unknown as boolean, 'a policy'),
  // Combinators.
  'any-of': (api) => api.anyOf(api.requireScopes('admin'), api.requireClaims({ role: 'admin' })),
  'all-of': (api) => api.allOf(api.requireScopes('read:users'), api.requireClaims({ tenant: 'acme' }), api.claimCheck(async (payload) => (await later(), verifiedEmail(payload)), 'a verified email')),
  nested: (api) => api.anyOf(api.allOf(api.requireScopes('read:users'), api.requireClaims({ role: 'admin' })), api.requireScopes('superuser')),
  'any-of-throws-first': (api) => api.anyOf(api.claimCheck(throws, 'a policy'), api.requireScopes('read:users')),
  'any-of-pass-first': (api) => api.anyOf(api.requireScopes('read:users'), api.claimCheck(throws, 'a policy')),
  // Several route guards chained by the framework.
  chain: (api) => [api.requireScopes('read:users'), api.requireClaims({ role: 'admin' })],
  // forwardErrors: refusals reach the app's error handler.
  'forward-scopes': (api) => api.authorize({ forwardErrors: true }).requireScopes('admin'),
  'forward-check-throws': (api) => api.authorize({ forwardErrors: true }).claimCheck(rejects, 'a policy'),
  // Behind a public path: the guard verifies nothing there.
  [AUTHZ_PUBLIC_ROUTE]: (api) => api.requireScopes('read:users'),
};

/** The guards of each route as a list, for harnesses that chain them. */
export function authzGuards<G>(api: AuthzApi<G>): Map<string, readonly G[]> {
  const routes = new Map<string, readonly G[]>();
  for (const [name, build] of Object.entries(AUTHZ_ROUTES)) {
    const built = build(api);
    routes.set(name, Array.isArray(built) ? (built as readonly G[]) : [built as G]);
  }
  return routes;
}
