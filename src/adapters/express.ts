import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { OutgoingHttpHeaders } from 'node:http';
import { createGuard, type AuthResult, type Guard, type GuardHooks, type JwtGuardHandle } from '../core/guard/create-guard.js';
import { errorResponse, type HttpResponse } from '../core/guard/http-response.js';
import { createRouteGuards, type RuleCarrier } from '../core/authorize/route-guards.js';
import type { AuthorizationRule, AuthorizationVerdict, AuthorizeFunctions, AuthorizeOptions, ClaimCheckFunction, RequiredClaims } from '../core/authorize/types.js';
import { BODY_HEADERS, MintBodyCollector } from '../core/mint/mint-token-response.js';
import type { JwtGuardOptions, JwtGuardPayload } from '../core/options/types.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- Express types requests through this global namespace
  namespace Express {
    interface Request {
      /** The verified token's payload, set by `jwtGuard` before your route runs. */
      auth?: JwtGuardPayload;
    }
  }
}

export type { JwtGuardOptions, JwtGuardPayload } from '../core/options/types.js';
export type { AuthorizationRule, AuthorizeOptions, ClaimCheckFunction, RequiredClaims } from '../core/authorize/types.js';

/** Adds the core's cookies to those the response already has (a login route's are kept). */
function appendCookies(res: Response, response: HttpResponse): void {
  if (response.cookies !== undefined) res.append('Set-Cookie', [...response.cookies]);
}

function send(res: Response, response: HttpResponse): void {
  appendCookies(res, response);
  res.writeHead(response.status, response.headers);
  res.end(response.body);
}

/**
 * The CSRF check's `Origin` fallback compares with `req.protocol` (which follows Express's
 * `trust proxy` setting, so X-Forwarded-Proto counts only from a trusted proxy) and the `Host` header.
 */
const hooks: GuardHooks = {
  ownOrigin(request) {
    const req = request.raw as Request;
    const host = req.headers.host;
    return host === undefined ? undefined : `${req.protocol}://${host}`;
  },
};

type Callback = (error?: Error | null) => void;

/**
 * Buffers what the auth route writes, however it writes it (`res.json`, `res.send`, `res.write` +
 * `res.end`, `pipe`), and hands status and body to the core, which decides whether to mint. A
 * non-2xx answer is decided at its first write and streams through untouched.
 *
 * The route's first `end()` completes its answer. While the token is being signed the response
 * still looks unsent (`headersSent` is false), so a route that answers twice (`res.json(x);
 * next()` into Express's 404 handler, or a second `end()`) would answer first and the token would
 * then be written into a finished response: later writes are dropped instead, as Node drops
 * writes after `end()`, and the guard never throws outside a handler.
 */
function captureForMint(req: Request, res: Response, guard: Guard): void {
  const originalWriteHead = res.writeHead;
  const originalWrite = res.write;
  const originalEnd = res.end;
  // Keeps at most mintBodyLimit bytes, however much the route writes.
  const body = new MintBodyCollector(guard.options.mintBodyLimit);
  let capturing: boolean | undefined;

  const restore = (): void => {
    res.writeHead = originalWriteHead;
    res.write = originalWrite;
    res.end = originalEnd;
  };
  const decide = (): boolean => {
    if (capturing === undefined) {
      capturing = guard.mints(res.statusCode);
      if (!capturing) restore();
    }
    return capturing;
  };
  let warnedLate = false;
  const dropLate = (...args: unknown[]): void => {
    if (!warnedLate) {
      warnedLate = true;
      guard.options.warn('jwtguard: the auth route wrote to its response after ending it (e.g. `res.json()` then `next()`); the later write was dropped and the first answer minted.');
    }
    const callback = args.filter((arg) => typeof arg === 'function').pop() as Callback | undefined;
    if (callback !== undefined) queueMicrotask(() => callback());
  };

  // writeHead would freeze the headers; record status and headers instead, so they can still be replaced.
  res.writeHead = function writeHead(this: Response, statusCode: number, ...rest: unknown[]) {
    res.statusCode = statusCode;
    if (!decide()) return originalWriteHead.apply(res, [statusCode, ...rest] as never);
    if (typeof rest[0] === 'string') res.statusMessage = rest[0];
    const headers = (typeof rest[0] === 'string' ? rest[1] : rest[0]) as OutgoingHttpHeaders | unknown[] | undefined;
    if (Array.isArray(headers)) {
      const flat = Array.isArray(headers[0]) ? (headers as unknown[][]).flat() : headers;
      for (let i = 0; i + 1 < flat.length; i += 2) res.setHeader(String(flat[i]), flat[i + 1] as string);
    } else if (headers) {
      for (const [name, value] of Object.entries(headers)) if (value !== undefined) res.setHeader(name, value);
    }
    return res;
  } as Response['writeHead'];

  res.write = function write(this: Response, chunk: unknown, encoding?: unknown, callback?: unknown) {
    if (!decide()) return originalWrite.apply(res, [chunk, encoding, callback] as never);
    body.push(chunk, encoding);
    const cb = typeof encoding === 'function' ? encoding : callback;
    if (typeof cb === 'function') queueMicrotask(() => (cb as Callback)());
    return true;
  } as Response['write'];

  res.end = function end(this: Response, chunk?: unknown, encoding?: unknown, callback?: unknown) {
    if (!decide()) return originalEnd.apply(res, [chunk, encoding, callback] as never);
    if (typeof chunk === 'function') callback = chunk;
    else {
      if (typeof encoding === 'function') callback = encoding;
      body.push(chunk, encoding);
    }
    const status = res.statusCode;
    // The answer is complete: from here on, writes are the route answering twice.
    res.writeHead = function lateWriteHead() {
      dropLate();
      return res;
    } as Response['writeHead'];
    res.write = function lateWrite(...args: unknown[]) {
      dropLate(...args);
      return true;
    } as Response['write'];
    res.end = function lateEnd(...args: unknown[]) {
      dropLate(...args);
      return res;
    } as Response['end'];
    // Read now: a compression middleware after the guard sets it only as it writes.
    const contentEncoding = res.getHeader('content-encoding');
    void guard.mint(status, body, { contentEncoding, requestHeaders: req.headers }).then((response) => {
      restore();
      // The client went away, or something wrote to the response behind Express's back.
      if (res.destroyed) return;
      if (res.headersSent || res.writableEnded) {
        return guard.options.warn('jwtguard: the auth route\'s response was already sent by something else; no token was minted.');
      }
      if (response === undefined) return void originalEnd.apply(res, [callback] as never);
      try {
        for (const name of BODY_HEADERS) res.removeHeader(name);
        appendCookies(res, response);
        res.writeHead(response.status, response.headers);
        res.end(response.body, callback as Callback);
      } catch (error) {
        // Never a throw outside a handler (it would take the process down): end this response instead.
        guard.options.warn(`jwtguard: the minted answer could not be written (${(error as Error).message}); the connection was closed.`);
        res.destroy();
      }
    });
    return res;
  } as Response['end'];
}

function finish(guard: Guard, req: Request, res: Response, next: NextFunction, result: AuthResult): void {
  if (!result.ok) return guard.options.forwardErrors ? next(result.error) : send(res, result.response);
  req.auth = result.payload;
  // The request passed the CSRF check: the route's answer depends on Sec-Fetch-Site and Origin.
  if (result.vary !== undefined) res.vary(result.vary);
  next();
}

/**
 * Express middleware (Express 4 and 5) that guards every route with a JWT and, on `authPath`,
 * turns the login route's JSON answer into `{"token": "..."}`. The verified payload is on
 * `req.auth`; a failure answers 401 (after `delay`) and the route never runs.
 *
 * @throws {JwtGuardError} `invalid_options` at construction when the options are unusable.
 *
 * @example
 * ```ts
 * import express from 'express'
 * import { jwtGuard } from 'jwtguard/express'
 *
 * const app = express()
 * app.use(jwtGuard({ secret: process.env.JWT_SECRET!, authPath: '/api/auth/login', algorithm: 'HS512' }))
 * app.post('/api/auth/login', express.json(), (req, res) => res.json({ userId: 123, role: 'admin' }))
 * app.get('/api/me', (req, res) => res.json(req.auth))
 * ```
 */
export function jwtGuard(options: JwtGuardOptions): RequestHandler & JwtGuardHandle {
  const guard = createGuard(options, hooks);
  const middleware = function jwtGuardMiddleware(req: Request, res: Response, next: NextFunction): void {
    // The path Express routes by (its own parse of the target, under any mount point): the guard
    // decides on exactly that. originalUrl is only read for a query-string token.
    const request = { method: req.method, path: req.baseUrl + req.path, url: req.originalUrl, headers: req.headers, raw: req };
    const action = guard.action(request);
    if (action === 'pass') return next();
    if (action === 'mint') {
      // With cookies, a cross-origin login is refused before the login route runs.
      const refused = guard.checkCsrf(request);
      if (refused !== undefined) return void Promise.resolve(refused).then((settled) => finish(guard, req, res, next, settled), next);
      captureForMint(req, res, guard);
      return next();
    }
    // req.body when a body parser ran before the guard, else the unread request stream.
    if (action === 'refresh') return void guard.refresh((req.body as unknown) ?? req, request).then((response) => send(res, response));
    const result = guard.authenticate(request);
    if (action === 'logout') {
      return void Promise.resolve(result).then((settled) => guard.logout(settled, request)).then((response) => send(res, response), next);
    }
    // A closure only when the verdict is still pending: the hot path allocates none.
    if (result instanceof Promise) result.then((settled) => finish(guard, req, res, next, settled), next);
    else finish(guard, req, res, next, result);
  };
  return Object.assign(middleware, { sessions: guard.sessions, close: () => guard.close() });
}

// ---- route authorization -------------------------------------------------------------------

/**
 * An Express route middleware made by {@link requireScopes}, {@link requireAnyScope},
 * {@link requireClaims}, {@link claimCheck}, {@link anyOf} or {@link allOf}. It reads `req.auth`,
 * so it goes after `jwtGuard`; `rule` is the framework-agnostic rule it applies.
 *
 * @example
 * ```ts
 * const canRead: RouteGuard = requireScopes('read:users')
 * app.get('/api/users', canRead, listUsers)
 * ```
 */
export type RouteGuard = RequestHandler & RuleCarrier;

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
  const settle = (res: Response, next: NextFunction, verdict: AuthorizationVerdict): void => {
    if (verdict === undefined) return next();
    if (forwardErrors) return next(verdict);
    send(res, errorResponse(verdict));
  };
  const middleware = function jwtGuardRouteGuard(req: Request, res: Response, next: NextFunction): void {
    const verdict = rule.evaluate(req.auth);
    // A synchronous rule (scopes, claims) answers without a promise hop.
    if (verdict instanceof Promise) verdict.then((settled) => settle(res, next, settled), next);
    else settle(res, next, verdict);
  };
  return Object.assign(middleware, { rule });
}

/**
 * Route guards with options: which claim holds the scopes (`scopeClaim`, default `"scope"`), and
 * whether refusals go to Express's error handling (`forwardErrors`, default `false`: the guard
 * answers 401 / 403 / 500 JSON itself, like `jwtGuard`). Validated here, once. The module's own
 * {@link requireScopes} and friends are `authorize()` with the defaults. Pass your claims type to
 * check `requireClaims` and `claimCheck` against it: `authorize<EntraClaims>({ scopeClaim: 'scp' })`.
 *
 * @throws {JwtGuardError} `invalid_options` for unusable options.
 *
 * @example
 * ```ts
 * import { authorize, jwtGuard } from 'jwtguard/express'
 *
 * const { requireScopes, requireAnyScope } = authorize({ scopeClaim: ['scp', 'roles'] }) // Entra ID
 * app.use(jwtGuard({ jwks, algorithms: ['RS256'], audience }))
 * app.get('/api/files', requireScopes('Files.Read'), listFiles)
 * app.delete('/api/files/:id', requireAnyScope('Files.Delete', 'Admin'), deleteFile)
 * ```
 */
export function authorize<P extends JwtGuardPayload = JwtGuardPayload>(options?: AuthorizeOptions): RouteGuards<P> {
  return createRouteGuards<RouteGuard, P>(options, toRouteGuard);
}

const defaults = authorize();

/**
 * Route middleware: the token's `scope` claim (a space-separated string or an array) must hold
 * every one of these scopes; otherwise 403 `insufficient_scope` with
 * `WWW-Authenticate: Bearer error="insufficient_scope", scope="..."`. No payload on `req.auth`
 * (no `jwtGuard` before it, an anonymous request) → 401 `token_missing`. Another claim:
 * `authorize({ scopeClaim })`.
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
 * Route middleware: the token's `scope` claim must hold at least one of these scopes; otherwise
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
 * Route middleware: each named claim must have the value, or one of the listed values (strict
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
 * Route middleware running your own check of the verified payload (sync or async): `true`
 * passes, `false` → 403 `claim_mismatch` whose message ends with `description`; a throw, a
 * rejection or a non-boolean → 500 `authorization_failed` (the error as `cause`), never a pass.
 *
 * @throws {JwtGuardError} `invalid_options` when `check` is not a function or `description` is empty.
 *
 * @example
 * ```ts
 * app.post('/api/orders', claimCheck((payload) => payload.email_verified === true, 'a verified email'), createOrder)
 * app.get('/api/org/:id', claimCheck(async (payload) => db.isMember(payload.sub, orgId()), 'membership of the organisation'), getOrg)
 * ```
 */
export function claimCheck(check: ClaimCheckFunction, description: string): RouteGuard {
  return defaults.claimCheck(check, description);
}

/**
 * Route middleware passing when at least one of the given route guards would, tried in order
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
 * Route middleware passing when every given route guard would, tried in order; the first
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
