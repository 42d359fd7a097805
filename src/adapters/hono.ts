// Web-standard only (Request, Response, Headers): no `node:` imports and no Node globals, so this
// adapter runs unchanged on Node (via @hono/node-server), Bun, Deno and Cloudflare Workers.
import type { Context, MiddlewareHandler, Next } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { createGuard, type AuthResult, type Guard, type JwtGuardHandle } from '../core/guard/create-guard.js';
import type { HttpResponse } from '../core/guard/http-response.js';
import { BODY_HEADERS, type MintBody } from '../core/mint/mint-token-response.js';
import type { JwtGuardOptions, JwtGuardPayload } from '../core/options/types.js';

export type { JwtGuardOptions, JwtGuardPayload } from '../core/options/types.js';

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
  const minted = await guard.mint(status, body, { contentEncoding: headers.get('content-encoding') });
  if (minted === undefined) return;

  // Keep what the route set (Set-Cookie, X-Login, ...) but nothing that described its old body.
  for (const name of BODY_HEADERS) headers.delete(name);
  for (const [name, value] of Object.entries(minted.headers)) headers.set(name, value);

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
function send(c: Context<JwtGuardEnv>, { status, headers, body }: HttpResponse): Response {
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
    // The core only produces error statuses that carry a body (401, 500). Hono's middleware type asks for a Promise.
    return Promise.resolve(c.body(body, status as ContentfulStatusCode, headers));
  }
  if (result.payload !== undefined) c.set('jwtPayload', result.payload);
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
    const request = { method: c.req.method, path: c.req.path, url: c.req.url, headers: nodeHeaders(c) ?? c.req.raw.headers };
    const action = guard.action(request);
    if (action === 'pass') return next();
    if (action === 'mint') return next().then(() => mintAfterRoute(c, guard));
    if (action === 'refresh') return requestBody(c).then((body) => guard.refresh(body)).then((response) => send(c, response));
    const result = guard.authenticate(request);
    if (action === 'logout') {
      return Promise.resolve(result).then((settled) => guard.logout(settled)).then((response) => send(c, response));
    }
    // A closure only when the verdict is still pending: the hot path allocates none.
    return result instanceof Promise ? result.then((settled) => finish(guard, c, next, settled)) : finish(guard, c, next, result);
  };
  return Object.assign(middleware, { sessions: guard.sessions, close: () => guard.close() });
}

export default jwtGuard;
