import express, { type NextFunction, type Request, type Response } from 'express';
import express4 from 'express4';
import { Readable } from 'node:stream';
import * as expressApi from '../../../src/adapters/express.js';
import { jwtGuard } from '../../../src/adapters/express.js';
import { AUTHZ_PREFIX, authzGuards } from '../authz-routes.js';
import { chunksOf, encodedLogin, HANDLER_HEADER, isValidLogin, listening, LOGIN_USER, loginBody, recordEffect, UNROUTED_METHOD_PATHS, type AdapterHarness, type HandledError } from '../harness.js';

/** The harness app on a given express(), so the same app runs on Express 5 and Express 4. */
export function createExpressHarness(name: string, createApp: typeof express): AdapterHarness {
  return {
  name,
  async start(options, setup = {}) {
    const app = createApp();
    if (setup.bodyParserFirst === true) app.use(createApp.json());
    const guard = jwtGuard(options);
    app.use(guard);
    app.post('/api/auth/login', createApp.json(), (req: Request, res: Response, next: NextFunction) => {
      if (!isValidLogin(req.body)) return void res.status(401).json({ error: 'invalid_credentials' });
      const query = new URLSearchParams(req.originalUrl.split('?')[1] ?? '');
      recordEffect(query.get('effect'));
      const mode = query.get('mode') ?? 'json';
      const json = JSON.stringify(loginBody(mode, query));
      switch (mode) {
        case 'string':
          return void res.type('application/json').send(json);
        case 'buffer':
          return void res.type('application/json').send(Buffer.from(json));
        case 'chunked':
          res.setHeader('content-type', 'application/json');
          res.write(json.slice(0, 5));
          return void res.end(json.slice(5));
        case 'stream':
          res.setHeader('content-type', 'application/json');
          return void Readable.from([json.slice(0, 3), json.slice(3, 9), json.slice(9)]).pipe(res);
        case 'created':
          return void res.status(201).json(loginBody(mode, query));
        case 'headers':
          res.writeHead(200, { 'x-login': 'yes', 'set-cookie': 'sid=abc', etag: '"v1"', 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) });
          return void res.end(json);
        case 'text':
          return void res.type('text/plain').send('welcome alice');
        case 'empty':
          return void res.status(200).end();
        case 'broken':
          return void res.type('application/json').send('{"userId":');
        case 'twice':
          // The 405 route on this path answers again (SECOND_ANSWER's role).
          res.json(LOGIN_USER);
          return next();
        case 'nocontent':
          return void res.status(204).json(LOGIN_USER);
        case 'bigstream':
          res.setHeader('content-type', 'application/json');
          return void Readable.from(chunksOf(json)).pipe(res);
        case 'encoded': {
          const { coding, bytes } = encodedLogin(json, query);
          return void res.set({ 'content-type': 'application/json', 'content-encoding': coding }).send(bytes);
        }
        default:
          return void res.json(loginBody(mode, query));
      }
    });
    app.get('/api/me', (req: Request, res: Response) => void res.json({ user: req.auth }));
    app.post('/api/effects', (req: Request, res: Response) => {
      const id = new URLSearchParams(req.originalUrl.split('?')[1] ?? '').get('id');
      recordEffect(id);
      res.json({ done: id, user: req.auth });
    });
    // Authorization routes (authz-routes.ts): the route guards as route middleware, chained as arguments.
    for (const [name, guards] of authzGuards(expressApi)) {
      app.get(AUTHZ_PREFIX + name, ...guards, (_req: Request, res: Response) => void res.json({ authorized: name }));
    }
    app.get('/api/auth/login/x', (_req: Request, res: Response) => void res.json({ ok: true }));
    app.get('/api/boom', () => {
      throw new Error('boom');
    });
    // Request-target routes (see harness.ts): each answer names its handler, in the body and in X-Handler.
    app.get('/api/health', (_req: Request, res: Response) => void res.set(HANDLER_HEADER, 'health').json({ handler: 'health' }));
    app.all('/', (_req: Request, res: Response) => void res.set(HANDLER_HEADER, 'root').json({ handler: 'root' }));
    app.options('/api/auth/login', (_req: Request, res: Response) => void res.set('access-control-allow-origin', '*').status(204).end());
    for (const path of UNROUTED_METHOD_PATHS) {
      app.all(path, (_req: Request, res: Response) => void res.set(HANDLER_HEADER, 'method-not-allowed').status(405).json({ error: 'method_not_allowed' }));
    }
    app.use((_req: Request, res: Response) => void res.set(HANDLER_HEADER, 'catchall').json({ handler: 'catchall' }));
    // Reveals what reached it: a forwarded JwtGuardError keeps its status and code; a plain Error is a 500.
    app.use((error: HandledError, _req: Request, res: Response, _next: NextFunction) =>
      void res.status(error.status ?? error.statusCode ?? 500).json({ error: 'handled', code: error.code }),
    );

    const server = await listening(app.listen(0, '127.0.0.1'));
    return { ...server, sessions: guard.sessions, close: () => guard.close().then(() => server.close()) };
  },
};
}

export const expressHarness = createExpressHarness('express', express);
export const express4Harness = createExpressHarness('express4', express4 as unknown as typeof express);
