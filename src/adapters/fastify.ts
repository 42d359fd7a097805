import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest, HookHandlerDoneFunction, preHandlerHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { JwtGuardError } from '../core/errors/jwt-guard-error.js';
import { createGuard, type AuthResult, type Guard, type GuardHooks, type GuardRequest } from '../core/guard/create-guard.js';
import { errorResponse, type HttpResponse } from '../core/guard/http-response.js';
import { createRouteGuards, type RuleCarrier } from '../core/authorize/route-guards.js';
import type { AuthorizationRule, AuthorizationVerdict, AuthorizeFunctions, AuthorizeOptions, ClaimCheckFunction, RequiredClaims } from '../core/authorize/types.js';
import type { SessionManager } from '../core/sessions/session-manager.js';
import { BODY_HEADERS, type MintBody } from '../core/mint/mint-token-response.js';
import type { JwtGuardOptions, JwtGuardPayload } from '../core/options/types.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified token's payload, set by `jwtGuard` before your route runs. */
    user?: JwtGuardPayload;
  }
  interface FastifyInstance {
    /** Sessions (`revokeSession`, `revokeSubject`), when `jwtGuard` is registered with `refresh`. */
    jwtSessions?: SessionManager;
  }
}

export type { JwtGuardOptions, JwtGuardPayload } from '../core/options/types.js';
export type { AuthorizationRule, AuthorizeOptions, ClaimCheckFunction, RequiredClaims } from '../core/authorize/types.js';

function isResponse(payload: unknown): payload is Response {
  return typeof payload === 'object' && payload !== null && Object.prototype.toString.call(payload) === '[object Response]';
}

/**
 * Writes a core response's status and headers on the reply, and adds its cookies to those the
 * reply already has (Fastify appends `set-cookie` values).
 */
function applyCore(reply: FastifyReply, response: HttpResponse): FastifyReply {
  reply.code(response.status).headers({ ...response.headers });
  if (response.cookies !== undefined) reply.header('set-cookie', [...response.cookies]);
  return reply;
}

/**
 * The CSRF check's `Origin` fallback compares with `request.protocol` (which follows Fastify's
 * `trustProxy` setting, so X-Forwarded-Proto counts only from a trusted proxy) and the `Host` header.
 */
const hooks: GuardHooks = {
  ownOrigin(request) {
    const raw = request.raw as FastifyRequest;
    const host = raw.headers.host;
    return host === undefined ? undefined : `${raw.protocol}://${host}`;
  },
};

/** A Fastify request as the core sees it: the path of the route that will run, as registered (prefix included). */
function guardRequest(request: FastifyRequest): GuardRequest {
  return { method: request.method, path: request.routeOptions.url, url: request.url, headers: request.headers, raw: request };
}

/**
 * Hands the auth route's status and body to the core and, when it mints, swaps the route's answer
 * for the token response. Whatever Fastify serialised or was given (string, Buffer, Node or web
 * stream, `Response`, nothing) reaches this hook as is.
 */
async function mintOnSend(guard: Guard, reply: FastifyReply, payload: unknown): Promise<unknown> {
  if (isResponse(payload)) {
    // Fastify applies a Response's status and headers only after onSend; apply them now, as it
    // would, so the core sees the real status and the route's headers survive a mint.
    reply.code(payload.status);
    for (const [name, value] of payload.headers) reply.header(name, value);
    payload = payload.body;
  }
  // Only a 2xx answer is minted: any other (stream or not) is passed on unread.
  if (!guard.mints(reply.statusCode)) return payload;
  // Streams are read by the core, no further than mintBodyLimit.
  const response = await guard.mint(reply.statusCode, payload as MintBody, { contentEncoding: reply.getHeader('content-encoding'), requestHeaders: reply.request.headers });
  if (response === undefined) return payload;
  for (const name of BODY_HEADERS) reply.removeHeader(name);
  applyCore(reply, response);
  return response.body;
}

function finish(guard: Guard, request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction, result: AuthResult): void {
  if (result.ok) {
    request.user = result.payload;
    // The request passed the CSRF check: the route's answer depends on Sec-Fetch-Site and Origin.
    if (result.vary !== undefined) {
      const vary = reply.getHeader('vary');
      reply.header('vary', vary === undefined ? result.vary : `${String(vary)}, ${result.vary}`);
    }
    return done();
  }
  // forwardErrors: Fastify's error handler gets the JwtGuardError (statusCode 401 / 503).
  if (guard.options.forwardErrors) return done(result.error);
  // Answering without calling done() ends the request here: the route never runs.
  void applyCore(reply, result.response).send(result.response.body);
}

async function jwtGuardPlugin(fastify: FastifyInstance, options: JwtGuardOptions): Promise<void> {
  // Built once here, so invalid options reject `register` / `ready` instead of failing requests.
  const guard = createGuard(options, hooks);
  // Requests on the auth path, as decided at onRequest, whose answer onSend must hand to the core.
  const minting = new WeakSet<FastifyRequest>();

  // A nested registration (or another plugin) may have decorated `user` already; it is inherited.
  if (!fastify.hasRequestDecorator('user')) fastify.decorateRequest('user', undefined);

  // onRequest runs before body parsing, so a request without a valid token costs no parsing.
  // Callback-style hooks: a cached or fast-path verdict continues without a promise hop.
  fastify.addHook('onRequest', (request, reply, done) => {
    // Fastify has routed the request before onRequest: the guard decides on the path of the route
    // that will run, as registered (prefix included), not on a parse of its own. No route (404):
    // no path, so the request is verified like any other.
    const core = { method: request.method, path: request.routeOptions.url, url: request.url, headers: request.headers, raw: request };
    const action = guard.action(core);
    if (action === 'pass' || action === 'refresh' || action === 'logout') return done(); // the endpoints below answer those
    if (action === 'mint') {
      // With cookies, a cross-origin login is refused before the login route runs.
      const refused = guard.checkCsrf(core);
      if (refused !== undefined) return void Promise.resolve(refused).then((settled) => finish(guard, request, reply, done, settled), done);
      minting.add(request);
      return done();
    }
    const result = guard.authenticate(core);
    // A closure only when the verdict is still pending: the hot path allocates none.
    if (result instanceof Promise) result.then((settled) => finish(guard, request, reply, done, settled), done);
    else finish(guard, request, reply, done, result);
  });

  // Only a guard with an auth path ever mints; without one, no per-request onSend hook.
  if (guard.options.authPath !== undefined) {
    // Auth-route answers whose token is being signed. A route that sends twice (`reply.send(a);
    // reply.send(b)`) reaches onSend again before the first answer is written, and both would
    // then write: the later one is dropped (its hook never completes), the first one is minted.
    const signing = new WeakSet<FastifyRequest>();
    fastify.addHook('onSend', (request, reply, payload, done) => {
      if (signing.has(request)) return guard.options.warn('jwtguard: the auth route sent a second answer while its first was being minted; the second was dropped.');
      if (!minting.has(request)) return done(null, payload);
      minting.delete(request);
      signing.add(request);
      mintOnSend(guard, reply, payload).then(
        (minted) => {
          signing.delete(request);
          done(null, minted);
        },
        (error: Error) => {
          signing.delete(request);
          done(error);
        },
      );
    });
  }

  const sessions = guard.options.sessions;
  if (sessions !== undefined) {
    // Fastify routes only to registered routes (and the guard decides on the route), so the
    // refresh and logout endpoints are routes, registered here in the guarded context.
    const prefix = fastify.prefix;
    const relative = (path: string, option: string): string => {
      if (!path.startsWith(prefix)) throw new JwtGuardError('invalid_options', `jwtguard: \`${option}\` (${path}) is outside the prefix "${prefix}" of the context the guard is registered in.`);
      return path.slice(prefix.length) || '/';
    };
    await fastify.register(async (endpoints) => {
      // The unread request stream for any content type: the core reads (no more than a few KiB) and
      // parses the JSON itself, with its own 400s.
      endpoints.removeAllContentTypeParsers();
      endpoints.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
      endpoints.post(relative(sessions.refreshPath, 'refresh.path'), (request, reply) => guard.refresh(request.body, guardRequest(request)).then((response) => sendCore(reply, response)));
      if (sessions.logoutPath !== undefined) {
        endpoints.post(relative(sessions.logoutPath, 'logoutPath'), (request, reply) => {
          const core = guardRequest(request);
          return Promise.resolve(guard.authenticate(core))
            .then((result) => guard.logout(result, core))
            .then((response) => sendCore(reply, response));
        });
      }
    });
    if (!fastify.hasDecorator('jwtSessions')) fastify.decorate('jwtSessions', guard.sessions);
    fastify.addHook('onClose', () => guard.close());
  }
}

/** Sends a core response from a route handler. */
function sendCore(reply: FastifyReply, response: HttpResponse): FastifyReply {
  return applyCore(reply, response).send(response.status === 204 ? undefined : response.body);
}

/**
 * Fastify plugin (Fastify 4 and 5) that guards every route of the context it is registered in
 * with a JWT and, on `authPath`, turns the login route's JSON answer into `{"token": "..."}`.
 * The verified payload is on `request.user`; a failure answers 401 (after `delay`) from an
 * `onRequest` hook, so the body is never parsed and the route never runs.
 *
 * It is wrapped with `fastify-plugin`, so it guards the context you call `register` on (the root,
 * or one encapsulated plugin and its children) and not only its own. `authPath` is matched
 * against the full request path, including any route prefix.
 *
 * @throws {JwtGuardError} `invalid_options` from `register` / `ready` when the options are unusable.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify'
 * import { jwtGuard } from 'jwtguard/fastify'
 *
 * const app = Fastify()
 * await app.register(jwtGuard, { secret: process.env.JWT_SECRET!, authPath: '/api/auth/login', algorithm: 'HS512' })
 * app.post('/api/auth/login', async () => ({ userId: 123, role: 'admin' }))
 * app.get('/api/me', async (request) => request.user)
 * ```
 */
export const jwtGuard: FastifyPluginAsync<JwtGuardOptions> = fp(jwtGuardPlugin, { fastify: '4.x || 5.x', name: 'jwtguard' });

// ---- route authorization -------------------------------------------------------------------

/**
 * A Fastify `preHandler` hook made by {@link requireScopes}, {@link requireAnyScope},
 * {@link requireClaims}, {@link claimCheck}, {@link anyOf} or {@link allOf}: a route's
 * `preHandler` option (alone or in an array), or `addHook('preHandler', ...)` for a whole
 * encapsulated context. It reads `request.user`, so `jwtGuard` must be registered for that
 * route; `rule` is the framework-agnostic rule it applies.
 *
 * @example
 * ```ts
 * const canRead: RouteGuard = requireScopes('read:users')
 * app.get('/api/users', { preHandler: canRead }, listUsers)
 * ```
 */
export type RouteGuard = preHandlerHookHandler & RuleCarrier;

/**
 * The route guards of one {@link authorize} call, all sharing its options.
 *
 * @example
 * ```ts
 * const permissions: RouteGuards = authorize({ scopeClaim: 'permissions' })
 * app.get('/api/users', { preHandler: permissions.requireScopes('read:users') }, listUsers)
 * ```
 */
export type RouteGuards<P extends JwtGuardPayload = JwtGuardPayload> = AuthorizeFunctions<RouteGuard, P>;

function toRouteGuard(rule: AuthorizationRule, forwardErrors: boolean): RouteGuard {
  const settle = (reply: FastifyReply, done: HookHandlerDoneFunction, verdict: AuthorizationVerdict): void => {
    if (verdict === undefined) return done();
    // forwardErrors: Fastify's error handler gets the JwtGuardError (statusCode 401 / 403 / 500).
    if (forwardErrors) return done(verdict);
    const { status, headers, body } = errorResponse(verdict);
    // Answering without calling done() ends the request here: the handler never runs.
    void reply.code(status).headers({ ...headers }).send(body);
  };
  // Callback style: a synchronous rule (scopes, claims) continues without a promise hop.
  const hook: preHandlerHookHandler = function jwtGuardRouteGuard(request, reply, done) {
    const verdict = rule.evaluate(request.user);
    if (verdict instanceof Promise) verdict.then((settled) => settle(reply, done, settled), done);
    else settle(reply, done, verdict);
  };
  return Object.assign(hook, { rule });
}

/**
 * Route guards with options: which claim holds the scopes (`scopeClaim`, default `"scope"`), and
 * whether refusals go to Fastify's error handler (`forwardErrors`, default `false`: the guard
 * answers 401 / 403 / 500 JSON itself, like `jwtGuard`). Validated here, once. The module's own
 * {@link requireScopes} and friends are `authorize()` with the defaults. Pass your claims type to
 * check `requireClaims` and `claimCheck` against it: `authorize<EntraClaims>({ scopeClaim: 'scp' })`.
 *
 * @throws {JwtGuardError} `invalid_options` for unusable options.
 *
 * @example
 * ```ts
 * import { authorize } from 'jwtguard/fastify'
 *
 * const { requireScopes, requireAnyScope } = authorize({ scopeClaim: ['scp', 'roles'] }) // Entra ID
 * app.get('/api/files', { preHandler: requireScopes('Files.Read') }, listFiles)
 * app.delete('/api/files/:id', { preHandler: requireAnyScope('Files.Delete', 'Admin') }, deleteFile)
 * ```
 */
export function authorize<P extends JwtGuardPayload = JwtGuardPayload>(options?: AuthorizeOptions): RouteGuards<P> {
  return createRouteGuards<RouteGuard, P>(options, toRouteGuard);
}

const defaults = authorize();

/**
 * A Fastify `preHandler` (route option or hook): the token's `scope` claim (a space-separated string or an array) must hold
 * every one of these scopes; otherwise 403 `insufficient_scope` with
 * `WWW-Authenticate: Bearer error="insufficient_scope", scope="..."`. No payload on
 * `request.user` (no `jwtGuard` before it, an anonymous request) → 401 `token_missing`. Another
 * claim: `authorize({ scopeClaim })`.
 *
 * @throws {JwtGuardError} `invalid_options` without scopes, or for a scope that is not an RFC 6749 scope token.
 *
 * @example
 * ```ts
 * app.get('/api/users', { preHandler: requireScopes('read:users') }, listUsers)
 * app.put('/api/users/:id', { preHandler: requireScopes('read:users', 'write:users') }, updateUser)
 * ```
 */
export function requireScopes(...scopes: [string, ...string[]]): RouteGuard {
  return defaults.requireScopes(...scopes);
}

/**
 * A Fastify `preHandler` (route option or hook): the token's `scope` claim must hold at least one of these scopes; otherwise
 * 403 `insufficient_scope` listing them.
 *
 * @throws {JwtGuardError} `invalid_options` without scopes, or for a scope that is not an RFC 6749 scope token.
 *
 * @example
 * ```ts
 * app.get('/api/reports', { preHandler: requireAnyScope('read:reports', 'admin') }, listReports)
 * ```
 */
export function requireAnyScope(...scopes: [string, ...string[]]): RouteGuard {
  return defaults.requireAnyScope(...scopes);
}

/**
 * A Fastify `preHandler` (route option or hook): each named claim must have the value, or one of the listed values (strict
 * equality); an array-valued claim passes when one of its elements does. Missing or different →
 * 403 `claim_mismatch`. Typed against `JwtGuardPayload`: a claim you declared only takes its values.
 *
 * @throws {JwtGuardError} `invalid_options` for no claims, an empty list, or a value that is not a string, finite number or boolean.
 *
 * @example
 * ```ts
 * app.get('/api/admin', { preHandler: requireClaims({ role: 'admin' }) }, admin)               // role === 'admin'
 * app.get('/api/t', { preHandler: requireClaims({ tenant: ['acme', 'globex'] }) }, handler)   // one of the two
 * app.get('/api/staff', { preHandler: requireClaims({ groups: 'staff' }) }, handler)          // groups: [..., 'staff', ...]
 * ```
 */
export function requireClaims(claims: RequiredClaims): RouteGuard {
  return defaults.requireClaims(claims);
}

/**
 * A Fastify `preHandler` (route option or hook) running your own check of the verified payload (sync or async): `true`
 * passes, `false` → 403 `claim_mismatch` whose message ends with `description`; a throw, a
 * rejection or a non-boolean → 500 `authorization_failed` (the error as `cause`), never a pass.
 *
 * @throws {JwtGuardError} `invalid_options` when `check` is not a function or `description` is empty.
 *
 * @example
 * ```ts
 * app.post('/api/orders', { preHandler: claimCheck((payload) => payload.email_verified === true, 'a verified email') }, createOrder)
 * ```
 */
export function claimCheck(check: ClaimCheckFunction, description: string): RouteGuard {
  return defaults.claimCheck(check, description);
}

/**
 * A Fastify `preHandler` (route option or hook) passing when at least one of the given route guards would, tried in order
 * and stopping at the first pass. When none passes: 403 `insufficient_scope` listing the scopes
 * of its scope alternatives, or `claim_mismatch` when it has none; a check that fails with a
 * 500 ends it with that 500.
 *
 * @throws {JwtGuardError} `invalid_options` without arguments, or for an argument that is not a route guard.
 *
 * @example
 * ```ts
 * app.delete('/api/users/:id', { preHandler: anyOf(requireScopes('delete:users'), requireClaims({ role: 'admin' })) }, deleteUser)
 * ```
 */
export function anyOf(...guards: [RouteGuard, ...RouteGuard[]]): RouteGuard {
  return defaults.anyOf(...guards);
}

/**
 * A Fastify `preHandler` (route option or hook) passing when every given route guard would, tried in order; the first
 * refusal is the answer and the rest do not run.
 *
 * @throws {JwtGuardError} `invalid_options` without arguments, or for an argument that is not a route guard.
 *
 * @example
 * ```ts
 * app.post('/api/invoices', { preHandler: allOf(requireScopes('write:invoices'), requireClaims({ tenant: ['acme', 'globex'] })) }, createInvoice)
 * ```
 */
export function allOf(...guards: [RouteGuard, ...RouteGuard[]]): RouteGuard {
  return defaults.allOf(...guards);
}

export default jwtGuard;
