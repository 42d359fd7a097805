import type { Context, Middleware, Next } from 'koa';
import { Readable, Stream } from 'node:stream';
import { createGuard, type AuthResult, type Guard, type JwtGuardHandle } from '../core/guard/create-guard.js';
import type { HttpResponse } from '../core/guard/http-response.js';
import { BODY_HEADERS, type MintBody } from '../core/mint/mint-token-response.js';
import type { JwtGuardOptions, JwtGuardPayload } from '../core/options/types.js';

declare module 'koa' {
  interface DefaultState {
    /** The verified token's payload, set by `jwtGuard` before your route runs. */
    user?: JwtGuardPayload;
  }
}

export type { JwtGuardOptions, JwtGuardPayload } from '../core/options/types.js';

/** Writes a core response through Koa, so Koa (not us) sends it and upstream middleware (logging, compression) still sees it. */
function send(ctx: Context, response: HttpResponse): void {
  // The body is being replaced: headers describing the old one (length, type, ETag, ...) must go.
  for (const name of BODY_HEADERS) ctx.remove(name);
  ctx.status = response.status;
  ctx.body = response.body;
  // Last: setting a string body makes Koa guess `text/plain` and a length; the core's headers win.
  ctx.set(response.headers);
}

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
  const response = await guard.mint(ctx.status, mintBody(ctx.body), { contentEncoding: ctx.response.get('Content-Encoding') });
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
  const guard = createGuard(options);
  const finish = (ctx: Context, next: Next, result: AuthResult): Promise<void> | void => {
    if (!result.ok) {
      // forwardErrors: Koa's own error path (err.status, err.expose) instead of the built-in answer.
      if (guard.options.forwardErrors) throw result.error;
      return send(ctx, result.response);
    }
    ctx.state.user = result.payload;
    return next();
  };
  // Not async: a cached or fast-path verdict continues without a promise hop.
  const middleware = function jwtGuardMiddleware(ctx: Context, next: Next): Promise<void> | void {
    // ctx.path: Koa's own parse of the target, what routers after the guard match (under
    // koa-mount, relative to the mount point). The URL is only read for a query-string token.
    const request = { method: ctx.method, path: ctx.path, url: ctx.url, headers: ctx.headers };
    const action = guard.action(request);
    if (action === 'pass') return next();
    if (action === 'mint') return mintAfter(ctx, next, guard);
    // The parsed body when a body parser (koa-bodyparser, @koa/bodyparser) ran first, else the request stream.
    if (action === 'refresh') return guard.refresh((ctx.request as { body?: unknown }).body ?? ctx.req).then((response) => send(ctx, response));
    const result = guard.authenticate(request);
    if (action === 'logout') {
      return Promise.resolve(result).then((settled) => guard.logout(settled)).then((response) => send(ctx, response));
    }
    return result instanceof Promise ? result.then((settled) => finish(ctx, next, settled)) : finish(ctx, next, result);
  };
  return Object.assign(middleware, { sessions: guard.sessions, close: () => guard.close() });
}

export default jwtGuard;
