import type { Context, Middleware, Next } from 'koa';
import { Readable, Stream } from 'node:stream';
import { createGuard, type AuthResult, type Guard, type GuardHooks, type JwtGuardHandle } from '../core/guard/create-guard.js';
import { errorResponse, type HttpResponse } from '../core/guard/http-response.js';
import { createRouteGuards, type RuleCarrier } from '../core/authorize/route-guards.js';
import type { AuthorizationRule, AuthorizationVerdict, AuthorizeFunctions, AuthorizeOptions, ClaimCheckFunction, RequiredClaims } from '../core/authorize/types.js';
import { BODY_HEADERS, type MintBody } from '../core/mint/mint-token-response.js';
import type { JwtGuardOptions, JwtGuardPayload } from '../core/options/types.js';

declare module 'koa' {
  interface DefaultState {
    /** The verified token's payload, set by `jwtGuard` before your route runs. */
    user?: JwtGuardPayload;
  }
}

export type { JwtGuardOptions, JwtGuardPayload } from '../core/options/types.js';
export type { AuthorizationRule, AuthorizeOptions, ClaimCheckFunction, RequiredClaims } from '../core/authorize/types.js';

/** Writes a core response through Koa, so Koa (not us) sends it and upstream middleware (logging, compression) still sees it. */
function send(ctx: Context, response: HttpResponse): void {
  // The body is being replaced: headers describing the old one (length, type, ETag, ...) must go.
  for (const name of BODY_HEADERS) ctx.remove(name);
  ctx.status = response.status;
  ctx.body = response.body;
  // Last: setting a string body makes Koa guess `text/plain` and a length; the core's headers win.
  ctx.set(response.headers);
  // Added to the cookies the response already has (a login route's are kept).
  if (response.cookies !== undefined) ctx.append('Set-Cookie', [...response.cookies]);
}

/**
 * The CSRF check's `Origin` fallback compares with `ctx.protocol` (which follows Koa's
 * `app.proxy` setting, so X-Forwarded-Proto counts only behind a proxy you declared) and the `Host` header.
 */
const hooks: GuardHooks = {
  ownOrigin(request) {
    const ctx = request.raw as Context;
    const host = ctx.headers.host;
    return host === undefined ? undefined : `${ctx.protocol}://${host}`;
  },
};

/** A Node stream in Koa's sense (`instanceof Stream`, or a duck-typed userland Readable). */
function isNodeStream(body: unknown): boolean {
  return body instanceof Stream || (typeof body === 'object' && body !== null && typeof (body as Readable).pipe === 'function' && typeof (body as Readable).on === 'function');
}

/**
 * What the route put in `ctx.body`, in a form the core reads: streams, Blobs and (Koa 3) web
 * `ReadableStream`s / `Response`s are only piped by Koa after every middleware has returned, so
 * they are still unread here and the core reads them (no further than mintBodyLimit). Only an
 * old-style Node stream without an async iterator needs wrapping.
 */
function mintBody(body: unknown): MintBody {
  if (isNodeStream(body) && typeof (body as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] !== 'function') {
    return new Readable().wrap(body as NodeJS.ReadableStream);
  }
  return body as MintBody;
}

/** Runs the auth route, then lets the core decide whether its answer becomes a token. */
async function mintAfter(ctx: Context, next: Next, guard: Guard): Promise<void> {
  await next();
  // The route bypassed Koa (`ctx.respond = false`, or wrote to `ctx.res` itself): nothing left to translate.
  if (ctx.respond === false || ctx.headerSent || !guard.mints(ctx.status)) return;
  const response = await guard.mint(ctx.status, mintBody(ctx.body), { contentEncoding: ctx.response.get('Content-Encoding'), requestHeaders: ctx.headers });
  if (response !== undefined) send(ctx, response);
}

/**
 * Koa middleware (Koa 2 and 3) that guards every route with a JWT and, on `authPath`, turns the
 * login route's JSON answer into `{"token": "..."}`. The verified payload is on `ctx.state.user`;
 * a failure answers 401 (after `delay`) and downstream middleware never runs.
 *
 * Register it after your error-handling middleware and before your routes. On `authPath`, the
 * route's `ctx.body` (object, string, Buffer, stream, ...) and `ctx.status` are read once the
 * route is done; a route that sets `ctx.respond = false` is passed through as it is.
 *
 * @throws {JwtGuardError} `invalid_options` at construction when the options are unusable.
 *
 * @example
 * ```ts
 * import Koa from 'koa'
 * import { jwtGuard } from 'jwtguard/koa'
 *
 * const app = new Koa()
 * app.use(jwtGuard({ secret: process.env.JWT_SECRET!, authPath: '/api/auth/login', algorithm: 'HS512' }))
 * app.use(async (ctx) => {
 *   if (ctx.path === '/api/auth/login') ctx.body = { userId: 123, role: 'admin' } // → { token }
 *   else if (ctx.path === '/api/me') ctx.body = ctx.state.user
 * })
 * ```
 */
export function jwtGuard(options: JwtGuardOptions): Middleware & JwtGuardHandle {
  // Options are validated once, here, so a misconfiguration fails at startup, not per request.
  const guard = createGuard(options, hooks);
  const finish = (ctx: Context, next: Next, result: AuthResult): Promise<void> | void => {
    if (!result.ok) {
      // forwardErrors: Koa's own error path (err.status, err.expose) instead of the built-in answer.
      if (guard.options.forwardErrors) throw result.error;
      return send(ctx, result.response);
    }
    ctx.state.user = result.payload;
    // The request passed the CSRF check: the route's answer depends on Sec-Fetch-Site and Origin.
    if (result.vary !== undefined) ctx.vary(result.vary);
    return next();
  };
  // Not async: a cached or fast-path verdict continues without a promise hop.
  const middleware = function jwtGuardMiddleware(ctx: Context, next: Next): Promise<void> | void {
    // ctx.path: Koa's own parse of the target, what routers after the guard match (under
    // koa-mount, relative to the mount point). The URL is only read for a query-string token.
    const request = { method: ctx.method, path: ctx.path, url: ctx.url, headers: ctx.headers, raw: ctx };
    const action = guard.action(request);
    if (action === 'pass') return next();
    if (action === 'mint') {
      // With cookies, a cross-origin login is refused before the login route runs.
      const refused = guard.checkCsrf(request);
      if (refused !== undefined) return Promise.resolve(refused).then((settled) => finish(ctx, next, settled));
      return mintAfter(ctx, next, guard);
    }
    // The parsed body when a body parser (koa-bodyparser, @koa/bodyparser) ran first, else the request stream.
    if (action === 'refresh') return guard.refresh((ctx.request as { body?: unknown }).body ?? ctx.req, request).then((response) => send(ctx, response));
    const result = guard.authenticate(request);
    if (action === 'logout') {
      return Promise.resolve(result).then((settled) => guard.logout(settled, request)).then((response) => send(ctx, response));
    }
    return result instanceof Promise ? result.then((settled) => finish(ctx, next, settled)) : finish(ctx, next, result);
  };
  return Object.assign(middleware, { sessions: guard.sessions, close: () => guard.close() });
}

// ---- route authorization -------------------------------------------------------------------

/**
 * A Koa middleware made by {@link requireScopes}, {@link requireAnyScope}, {@link requireClaims},
 * {@link claimCheck}, {@link anyOf} or {@link allOf}, for a router's route (`@koa/router`) or
 * `app.use` after `jwtGuard`. It reads `ctx.state.user`; `rule` is the framework-agnostic rule it
 * applies.
 *
 * @example
 * ```ts
 * const canRead: RouteGuard = requireScopes('read:users')
 * router.get('/api/users', canRead, listUsers)
 * ```
 */
export type RouteGuard = Middleware & RuleCarrier;

/**
 * The route guards of one {@link authorize} call, all sharing its options.
 *
 * @example
 * ```ts
 * const permissions: RouteGuards = authorize({ scopeClaim: 'permissions' })
 * router.get('/api/users', permissions.requireScopes('read:users'), listUsers)
 * ```
 */
export type RouteGuards<P extends JwtGuardPayload = JwtGuardPayload> = AuthorizeFunctions<RouteGuard, P>;

function toRouteGuard(rule: AuthorizationRule, forwardErrors: boolean): RouteGuard {
  const settle = (ctx: Context, next: Next, verdict: AuthorizationVerdict): Promise<void> | void => {
    if (verdict === undefined) return next();
    // forwardErrors: Koa's own error path (err.status 401 / 403 / 500, err.expose, err.headers).
    if (forwardErrors) throw verdict;
    return send(ctx, errorResponse(verdict));
  };
  // Not async: a synchronous rule (scopes, claims) continues without a promise hop.
  const middleware = function jwtGuardRouteGuard(ctx: Context, next: Next): Promise<void> | void {
    const verdict = rule.evaluate(ctx.state.user);
    return verdict instanceof Promise ? verdict.then((settled) => settle(ctx, next, settled)) : settle(ctx, next, verdict);
  };
  return Object.assign(middleware, { rule });
}

/**
 * Route guards with options: which claim holds the scopes (`scopeClaim`, default `"scope"`), and
 * whether refusals are thrown to Koa's error handling (`forwardErrors`, default `false`: the
 * guard answers 401 / 403 / 500 JSON itself, like `jwtGuard`). Validated here, once. The module's
 * own {@link requireScopes} and friends are `authorize()` with the defaults. Pass your claims type to
 * check `requireClaims` and `claimCheck` against it: `authorize<EntraClaims>({ scopeClaim: 'scp' })`.
 *
 * @throws {JwtGuardError} `invalid_options` for unusable options.
 *
 * @example
 * ```ts
 * import { authorize } from 'jwtguard/koa'
 *
 * const { requireScopes, requireAnyScope } = authorize({ scopeClaim: ['scp', 'roles'] }) // Entra ID
 * router.get('/api/files', requireScopes('Files.Read'), listFiles)
 * router.delete('/api/files/:id', requireAnyScope('Files.Delete', 'Admin'), deleteFile)
 * ```
 */
export function authorize<P extends JwtGuardPayload = JwtGuardPayload>(options?: AuthorizeOptions): RouteGuards<P> {
  return createRouteGuards<RouteGuard, P>(options, toRouteGuard);
}

const defaults = authorize();

/**
 * Koa middleware: the token's `scope` claim (a space-separated string or an array) must hold
 * every one of these scopes; otherwise 403 `insufficient_scope` with
 * `WWW-Authenticate: Bearer error="insufficient_scope", scope="..."`. No payload on
 * `ctx.state.user` (no `jwtGuard` before it, an anonymous request) → 401 `token_missing`. Another
 * claim: `authorize({ scopeClaim })`.
 *
 * @throws {JwtGuardError} `invalid_options` without scopes, or for a scope that is not an RFC 6749 scope token.
 *
 * @example
 * ```ts
 * router.get('/api/users', requireScopes('read:users'), listUsers)
 * router.put('/api/users/:id', requireScopes('read:users', 'write:users'), updateUser)
 * ```
 */
export function requireScopes(...scopes: [string, ...string[]]): RouteGuard {
  return defaults.requireScopes(...scopes);
}

/**
 * Koa middleware: the token's `scope` claim must hold at least one of these scopes; otherwise
 * 403 `insufficient_scope` listing them.
 *
 * @throws {JwtGuardError} `invalid_options` without scopes, or for a scope that is not an RFC 6749 scope token.
 *
 * @example
 * ```ts
 * router.get('/api/reports', requireAnyScope('read:reports', 'admin'), listReports)
 * ```
 */
export function requireAnyScope(...scopes: [string, ...string[]]): RouteGuard {
  return defaults.requireAnyScope(...scopes);
}

/**
 * Koa middleware: each named claim must have the value, or one of the listed values (strict
 * equality); an array-valued claim passes when one of its elements does. Missing or different →
 * 403 `claim_mismatch`. Typed against `JwtGuardPayload`: a claim you declared only takes its values.
 *
 * @throws {JwtGuardError} `invalid_options` for no claims, an empty list, or a value that is not a string, finite number or boolean.
 *
 * @example
 * ```ts
 * router.get('/api/admin', requireClaims({ role: 'admin' }), admin)               // role === 'admin'
 * router.get('/api/t', requireClaims({ tenant: ['acme', 'globex'] }), handler)   // one of the two
 * router.get('/api/staff', requireClaims({ groups: 'staff' }), handler)          // groups: [..., 'staff', ...]
 * ```
 */
export function requireClaims(claims: RequiredClaims): RouteGuard {
  return defaults.requireClaims(claims);
}

/**
 * Koa middleware running your own check of the verified payload (sync or async): `true`
 * passes, `false` → 403 `claim_mismatch` whose message ends with `description`; a throw, a
 * rejection or a non-boolean → 500 `authorization_failed` (the error as `cause`), never a pass.
 *
 * @throws {JwtGuardError} `invalid_options` when `check` is not a function or `description` is empty.
 *
 * @example
 * ```ts
 * router.post('/api/orders', claimCheck((payload) => payload.email_verified === true, 'a verified email'), createOrder)
 * ```
 */
export function claimCheck(check: ClaimCheckFunction, description: string): RouteGuard {
  return defaults.claimCheck(check, description);
}

/**
 * Koa middleware passing when at least one of the given route guards would, tried in order
 * and stopping at the first pass. When none passes: 403 `insufficient_scope` listing the scopes
 * of its scope alternatives, or `claim_mismatch` when it has none; a check that fails with a
 * 500 ends it with that 500.
 *
 * @throws {JwtGuardError} `invalid_options` without arguments, or for an argument that is not a route guard.
 *
 * @example
 * ```ts
 * router.delete('/api/users/:id', anyOf(requireScopes('delete:users'), requireClaims({ role: 'admin' })), deleteUser)
 * ```
 */
export function anyOf(...guards: [RouteGuard, ...RouteGuard[]]): RouteGuard {
  return defaults.anyOf(...guards);
}

/**
 * Koa middleware passing when every given route guard would, tried in order; the first
 * refusal is the answer and the rest do not run.
 *
 * @throws {JwtGuardError} `invalid_options` without arguments, or for an argument that is not a route guard.
 *
 * @example
 * ```ts
 * router.post('/api/invoices', allOf(requireScopes('write:invoices'), requireClaims({ tenant: ['acme', 'globex'] })), createInvoice)
 * ```
 */
export function allOf(...guards: [RouteGuard, ...RouteGuard[]]): RouteGuard {
  return defaults.allOf(...guards);
}

export default jwtGuard;
