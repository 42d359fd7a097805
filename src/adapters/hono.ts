// Web-standard only (Request, Response, Headers): no `node:` imports and no Node globals, so this
// adapter runs unchanged on Node (via @hono/node-server), Bun, Deno and Cloudflare Workers.
import type { Context, MiddlewareHandler, Next } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { createGuard, type AuthResult, type Guard, type JwtGuardHandle } from '../core/guard/create-guard.js';
import { errorResponse, type HttpResponse } from '../core/guard/http-response.js';
import { createRouteGuards, type RuleCarrier } from '../core/authorize/route-guards.js';
import type { AuthorizationRule, AuthorizationVerdict, AuthorizeFunctions, AuthorizeOptions, ClaimCheckFunction, RequiredClaims } from '../core/authorize/types.js';
import { BODY_HEADERS, type MintBody } from '../core/mint/mint-token-response.js';
import type { JwtGuardOptions, JwtGuardPayload } from '../core/options/types.js';

export type { JwtGuardOptions, JwtGuardPayload } from '../core/options/types.js';
export type { AuthorizationRule, AuthorizeOptions, ClaimCheckFunction, RequiredClaims } from '../core/authorize/types.js';

declare module 'hono' {
  // Hono's own convention (hono/jwt does the same): typing the variable app-wide means
  // `c.get('jwtPayload')` is typed even on `new Hono()` with a non-chained `app.use(jwtGuard(...))`.
  interface ContextVariableMap {
    /** The verified token's payload, set by `jwtGuard` before your route runs. */
    jwtPayload: JwtGuardPayload;
  }
}

/**
 * The Hono environment `jwtGuard` contributes: `c.get('jwtPayload')` is the verified token's
 * payload. Combine it with your own, e.g. `new Hono<{ Bindings: Env } & JwtGuardEnv>()`.
 */
export type JwtGuardEnv = { Variables: { jwtPayload: JwtGuardPayload } };

/**
 * Lets the auth route answer however it likes (`c.json`, a string, a stream, ...), then hands its
 * status and body to the core, which decides whether to mint. A non-2xx answer is left as it is.
 */
async function mintAfterRoute(c: Context<JwtGuardEnv>, guard: Guard): Promise<void> {
  const original = c.res;
  // Read once: on node-server, reading a property of a Response that cannot exist (see below) throws.
  const status = original.status;
  if (!guard.mints(status)) return;
  // The core reads the body (no further than mintBodyLimit). An answer that cannot exist as a
  // Response (`c.json(x, 204)`: a body on a null-body status) throws as soon as node-server
  // materialises it; the core then refuses it like an empty 2xx body.
  let body: MintBody = null;
  let headers = new Headers();
  try {
    headers = new Headers(original.headers);
    body = original.body;
  } catch {
    // left empty: refused below
  }
  const minted = await guard.mint(status, body, { contentEncoding: headers.get('content-encoding'), requestHeaders: nodeHeaders(c) ?? c.req.raw.headers });
  if (minted === undefined) return;

  // Keep what the route set (Set-Cookie, X-Login, ...) but nothing that described its old body.
  for (const name of BODY_HEADERS) headers.delete(name);
  for (const [name, value] of Object.entries(minted.headers)) headers.set(name, value);
  // The token cookies join the route's own.
  for (const cookie of minted.cookies ?? []) headers.append('set-cookie', cookie);

  // Hono's `c.res` setter merges the previous response's headers into the new one, which would
  // bring the stale Content-Length and ETag back; clearing it first makes the replacement exact.
  c.res = undefined;
  c.res = new Response(minted.body, { status: minted.status, headers });
}

/**
 * @hono/node-server hands the Node request over as `c.env.incoming`; its plain header object is
 * what the core reads fastest, and using it spares materialising a Web `Request` (a few µs per
 * request). Duck-typed, so other runtimes simply fall back to the Web `Headers`.
 */
function nodeHeaders(c: Context<JwtGuardEnv>): Record<string, string | string[] | undefined> | undefined {
  const incoming = (c.env as { incoming?: { headers?: unknown } } | undefined)?.incoming;
  const headers = incoming?.headers;
  return typeof headers === 'object' && headers !== null ? (headers as Record<string, string | string[] | undefined>) : undefined;
}

/** A core response as Hono's answer; a 204 has no body at all (a Response refuses even ''). */
function send(c: Context<JwtGuardEnv>, { status, headers, body, cookies }: HttpResponse): Response {
  // Appended, so cookies an earlier middleware set stay.
  if (cookies !== undefined) for (const cookie of cookies) c.header('set-cookie', cookie, { append: true });
  return status === 204 ? c.body(null, 204, headers) : c.body(body, status as ContentfulStatusCode, headers);
}

/**
 * The refresh request's body: the stream as it arrived, or, when a middleware before the guard
 * already read it (`await c.req.json()`), the value Hono cached for it.
 */
function requestBody(c: Context<JwtGuardEnv>): Promise<unknown> {
  if (!c.req.raw.bodyUsed) return Promise.resolve(c.req.raw.body);
  return c.req.json().catch(() => undefined);
}

function finish(guard: Guard, c: Context<JwtGuardEnv>, next: Next, result: AuthResult): Promise<Response | void> {
  if (!result.ok) {
    const { status, headers, body } = result.response;
    // forwardErrors: Hono's own error path; the exception carries the ready response and the JwtGuardError as cause.
    if (guard.options.forwardErrors) {
      throw new HTTPException(status as ContentfulStatusCode, { res: new Response(body, { status, headers }), message: result.error.message, cause: result.error });
    }
    // The core only produces error statuses that carry a body (401, 403, 500). Hono's middleware type asks for a Promise.
    return Promise.resolve(send(c, result.response));
  }
  if (result.payload !== undefined) c.set('jwtPayload', result.payload);
  // The request passed the CSRF check: the route's answer depends on Sec-Fetch-Site and Origin.
  if (result.vary !== undefined) c.header('Vary', result.vary, { append: true });
  return next();
}

/**
 * Hono middleware (Hono 4) that guards every route it is mounted on with a JWT and, on `authPath`,
 * turns the login route's JSON answer into `{"token": "..."}`. The verified payload is available as
 * `c.get('jwtPayload')`; a failure answers 401 (after `delay`) and the route never runs. Failures
 * are returned through Hono's normal response path, so outer middleware and `app.onError` behave
 * as usual. Web-standard only: runs on Node, Bun, Deno and Cloudflare Workers.
 *
 * `authPath` is matched against the full request path, also when the guard is mounted on a sub-path.
 *
 * @throws {JwtGuardError} `invalid_options` at construction when the options are unusable.
 *
 * @example
 * ```ts
 * import { Hono } from 'hono'
 * import { jwtGuard, type JwtGuardEnv } from 'jwtguard/hono'
 *
 * const app = new Hono<JwtGuardEnv>()
 * app.use('/api/*', jwtGuard({ secret: env.JWT_SECRET, authPath: '/api/auth/login', algorithm: 'HS512' }))
 * app.post('/api/auth/login', async (c) => c.json({ userId: 123, role: 'admin' }))
 * app.get('/api/me', (c) => c.json(c.get('jwtPayload')))
 * ```
 */
export function jwtGuard(options: JwtGuardOptions): MiddlewareHandler<JwtGuardEnv> & JwtGuardHandle {
  // Built once: options are validated (and may throw) here, not on the first request.
  const guard = createGuard(options);
  // Not async: a cached or fast-path verdict continues into next() without an extra promise.
  const middleware: MiddlewareHandler<JwtGuardEnv> = function jwtGuardMiddleware(c, next) {
    // c.req.path is the path Hono's router matched (its own getPath), full even under a sub-path
    // mount. The core understands Web Headers and absolute URLs, so nothing else needs converting.
    // The URL is absolute: its scheme and host are the request's own origin for the CSRF check's
    // Origin fallback (on @hono/node-server the scheme is the socket's: http behind a TLS proxy).
    const request = { method: c.req.method, path: c.req.path, url: c.req.url, headers: nodeHeaders(c) ?? c.req.raw.headers };
    const action = guard.action(request);
    if (action === 'pass') return next();
    if (action === 'mint') {
      // With cookies, a cross-origin login is refused before the login route runs.
      const refused = guard.checkCsrf(request);
      if (refused !== undefined) return Promise.resolve(refused).then((settled) => finish(guard, c, next, settled));
      return next().then(() => mintAfterRoute(c, guard));
    }
    if (action === 'refresh') return requestBody(c).then((body) => guard.refresh(body, request)).then((response) => send(c, response));
    const result = guard.authenticate(request);
    if (action === 'logout') {
      return Promise.resolve(result).then((settled) => guard.logout(settled, request)).then((response) => send(c, response));
    }
    // A closure only when the verdict is still pending: the hot path allocates none.
    return result instanceof Promise ? result.then((settled) => finish(guard, c, next, settled)) : finish(guard, c, next, result);
  };
  return Object.assign(middleware, { sessions: guard.sessions, close: () => guard.close() });
}

// ---- route authorization -------------------------------------------------------------------

/**
 * A Hono middleware made by {@link requireScopes}, {@link requireAnyScope}, {@link requireClaims},
 * {@link claimCheck}, {@link anyOf} or {@link allOf}, for a route (`app.get(path, guard, handler)`)
 * or `app.use` after `jwtGuard`. It reads `c.get('jwtPayload')`; `rule` is the framework-agnostic
 * rule it applies.
 *
 * @example
 * ```ts
 * const canRead: RouteGuard = requireScopes('read:users')
 * app.get('/api/users', canRead, (c) => c.json(listUsers()))
 * ```
 */
export type RouteGuard = MiddlewareHandler<JwtGuardEnv> & RuleCarrier;

/**
 * The route guards of one {@link authorize} call, all sharing its options.
 *
 * @example
 * ```ts
 * const permissions: RouteGuards = authorize({ scopeClaim: 'permissions' })
 * app.get('/api/users', permissions.requireScopes('read:users'), listUsers)
 * ```
 */
export type RouteGuards<P extends JwtGuardPayload = JwtGuardPayload> = AuthorizeFunctions<RouteGuard, P>;

function toRouteGuard(rule: AuthorizationRule, forwardErrors: boolean): RouteGuard {
  const settle = (c: Context<JwtGuardEnv>, next: Next, verdict: AuthorizationVerdict): Promise<Response | void> => {
    if (verdict === undefined) return next();
    const { status, headers, body } = errorResponse(verdict);
    // forwardErrors: Hono's own error path; the exception carries the ready response and the JwtGuardError as cause.
    if (forwardErrors) {
      throw new HTTPException(status as ContentfulStatusCode, { res: new Response(body, { status, headers }), message: verdict.message, cause: verdict });
    }
    return Promise.resolve(c.body(body, status as ContentfulStatusCode, headers));
  };
  // Not async: a synchronous rule (scopes, claims) continues into next() without an extra promise.
  const middleware: MiddlewareHandler<JwtGuardEnv> = function jwtGuardRouteGuard(c, next) {
    // Unset (undefined) when no jwtGuard ran or the request is anonymous: the rule answers 401.
    const verdict = rule.evaluate(c.get('jwtPayload') as JwtGuardPayload | undefined);
    return verdict instanceof Promise ? verdict.then((settled) => settle(c, next, settled)) : settle(c, next, verdict);
  };
  return Object.assign(middleware, { rule });
}

/**
 * Route guards with options: which claim holds the scopes (`scopeClaim`, default `"scope"`), and
 * whether refusals go to Hono's error handling as an `HTTPException` with the error as `cause`
 * (`forwardErrors`, default `false`: the guard answers 401 / 403 / 500 JSON itself, like
 * `jwtGuard`). Validated here, once. The module's own {@link requireScopes} and friends are
 * `authorize()` with the defaults. Pass your claims type to
 * check `requireClaims` and `claimCheck` against it: `authorize<EntraClaims>({ scopeClaim: 'scp' })`.
 *
 * @throws {JwtGuardError} `invalid_options` for unusable options.
 *
 * @example
 * ```ts
 * import { authorize } from 'jwtguard/hono'
 *
 * const { requireScopes, requireAnyScope } = authorize({ scopeClaim: ['scp', 'roles'] }) // Entra ID
 * app.get('/api/files', requireScopes('Files.Read'), listFiles)
 * app.delete('/api/files/:id', requireAnyScope('Files.Delete', 'Admin'), deleteFile)
 * ```
 */
export function authorize<P extends JwtGuardPayload = JwtGuardPayload>(options?: AuthorizeOptions): RouteGuards<P> {
  return createRouteGuards<RouteGuard, P>(options, toRouteGuard);
}

const defaults = authorize();

/**
 * Hono middleware: the token's `scope` claim (a space-separated string or an array) must hold
 * every one of these scopes; otherwise 403 `insufficient_scope` with
 * `WWW-Authenticate: Bearer error="insufficient_scope", scope="..."`. No payload on
 * `c.get('jwtPayload')` (no `jwtGuard` before it, an anonymous request) → 401 `token_missing`. Another
 * claim: `authorize({ scopeClaim })`.
 *
 * @throws {JwtGuardError} `invalid_options` without scopes, or for a scope that is not an RFC 6749 scope token.
 *
 * @example
 * ```ts
 * app.get('/api/users', requireScopes('read:users'), listUsers)
 * app.put('/api/users/:id', requireScopes('read:users', 'write:users'), updateUser)
 * ```
 */
export function requireScopes(...scopes: [string, ...string[]]): RouteGuard {
  return defaults.requireScopes(...scopes);
}

/**
 * Hono middleware: the token's `scope` claim must hold at least one of these scopes; otherwise
 * 403 `insufficient_scope` listing them.
 *
 * @throws {JwtGuardError} `invalid_options` without scopes, or for a scope that is not an RFC 6749 scope token.
 *
 * @example
 * ```ts
 * app.get('/api/reports', requireAnyScope('read:reports', 'admin'), listReports)
 * ```
 */
export function requireAnyScope(...scopes: [string, ...string[]]): RouteGuard {
  return defaults.requireAnyScope(...scopes);
}

/**
 * Hono middleware: each named claim must have the value, or one of the listed values (strict
 * equality); an array-valued claim passes when one of its elements does. Missing or different →
 * 403 `claim_mismatch`. Typed against `JwtGuardPayload`: a claim you declared only takes its values.
 *
 * @throws {JwtGuardError} `invalid_options` for no claims, an empty list, or a value that is not a string, finite number or boolean.
 *
 * @example
 * ```ts
 * app.get('/api/admin', requireClaims({ role: 'admin' }), admin)               // role === 'admin'
 * app.get('/api/t', requireClaims({ tenant: ['acme', 'globex'] }), handler)   // one of the two
 * app.get('/api/staff', requireClaims({ groups: 'staff' }), handler)          // groups: [..., 'staff', ...]
 * ```
 */
export function requireClaims(claims: RequiredClaims): RouteGuard {
  return defaults.requireClaims(claims);
}

/**
 * Hono middleware running your own check of the verified payload (sync or async): `true`
 * passes, `false` → 403 `claim_mismatch` whose message ends with `description`; a throw, a
 * rejection or a non-boolean → 500 `authorization_failed` (the error as `cause`), never a pass.
 *
 * @throws {JwtGuardError} `invalid_options` when `check` is not a function or `description` is empty.
 *
 * @example
 * ```ts
 * app.post('/api/orders', claimCheck((payload) => payload.email_verified === true, 'a verified email'), createOrder)
 * ```
 */
export function claimCheck(check: ClaimCheckFunction, description: string): RouteGuard {
  return defaults.claimCheck(check, description);
}

/**
 * Hono middleware passing when at least one of the given route guards would, tried in order
 * and stopping at the first pass. When none passes: 403 `insufficient_scope` listing the scopes
 * of its scope alternatives, or `claim_mismatch` when it has none; a check that fails with a
 * 500 ends it with that 500.
 *
 * @throws {JwtGuardError} `invalid_options` without arguments, or for an argument that is not a route guard.
 *
 * @example
 * ```ts
 * app.delete('/api/users/:id', anyOf(requireScopes('delete:users'), requireClaims({ role: 'admin' })), deleteUser)
 * ```
 */
export function anyOf(...guards: [RouteGuard, ...RouteGuard[]]): RouteGuard {
  return defaults.anyOf(...guards);
}

/**
 * Hono middleware passing when every given route guard would, tried in order; the first
 * refusal is the answer and the rest do not run.
 *
 * @throws {JwtGuardError} `invalid_options` without arguments, or for an argument that is not a route guard.
 *
 * @example
 * ```ts
 * app.post('/api/invoices', allOf(requireScopes('write:invoices'), requireClaims({ tenant: ['acme', 'globex'] })), createInvoice)
 * ```
 */
export function allOf(...guards: [RouteGuard, ...RouteGuard[]]): RouteGuard {
  return defaults.allOf(...guards);
}

export default jwtGuard;
