import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { OutgoingHttpHeaders } from 'node:http';
import { createGuard, type AuthResult, type Guard, type JwtGuardHandle } from '../core/guard/create-guard.js';
import type { HttpResponse } from '../core/guard/http-response.js';
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

function send(res: Response, response: HttpResponse): void {
  res.writeHead(response.status, response.headers);
  res.end(response.body);
}

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
function captureForMint(res: Response, guard: Guard): void {
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
    void guard.mint(status, body, { contentEncoding }).then((response) => {
      restore();
      // The client went away, or something wrote to the response behind Express's back.
      if (res.destroyed) return;
      if (res.headersSent || res.writableEnded) {
        return guard.options.warn('jwtguard: the auth route\'s response was already sent by something else; no token was minted.');
      }
      if (response === undefined) return void originalEnd.apply(res, [callback] as never);
      try {
        for (const name of BODY_HEADERS) res.removeHeader(name);
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
  const guard = createGuard(options);
  const middleware = function jwtGuardMiddleware(req: Request, res: Response, next: NextFunction): void {
    // The path Express routes by (its own parse of the target, under any mount point): the guard
    // decides on exactly that. originalUrl is only read for a query-string token.
    const request = { method: req.method, path: req.baseUrl + req.path, url: req.originalUrl, headers: req.headers };
    const action = guard.action(request);
    if (action === 'pass') return next();
    if (action === 'mint') {
      captureForMint(res, guard);
      return next();
    }
    // req.body when a body parser ran before the guard, else the unread request stream.
    if (action === 'refresh') return void guard.refresh((req.body as unknown) ?? req).then((response) => send(res, response));
    const result = guard.authenticate(request);
    if (action === 'logout') {
      return void Promise.resolve(result).then((settled) => guard.logout(settled)).then((response) => send(res, response), next);
    }
    // A closure only when the verdict is still pending: the hot path allocates none.
    if (result instanceof Promise) result.then((settled) => finish(guard, req, res, next, settled), next);
    else finish(guard, req, res, next, result);
  };
  return Object.assign(middleware, { sessions: guard.sessions, close: () => guard.close() });
}

export default jwtGuard;
