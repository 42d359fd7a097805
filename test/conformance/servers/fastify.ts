import Fastify from 'fastify';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import * as fastifyApi from '../../../src/adapters/fastify.js';
import { jwtGuard } from '../../../src/adapters/fastify.js';
import { AUTHZ_PREFIX, authzGuards } from '../authz-routes.js';
import { chunksOf, encodedLogin, HANDLER_HEADER, isValidLogin, LOGIN_USER, loginBody, recordEffect, SECOND_ANSWER, UNROUTED_METHOD_PATHS, type AdapterHarness, type HandledError } from '../harness.js';

/** The methods the 405 routes cover (those the request-target tests send, and PATCH). */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'] as const;

export const fastifyHarness: AdapterHarness = {
  name: 'fastify',
  async start(options) {
    const app = Fastify();
    await app.register(jwtGuard, options);
    app.post('/api/auth/login', async (request, reply) => {
      if (!isValidLogin(request.body)) return reply.code(401).send({ error: 'invalid_credentials' });
      const query = new URLSearchParams(request.url.split('?')[1] ?? '');
      recordEffect(query.get('effect'));
      const mode = query.get('mode') ?? 'json';
      const json = JSON.stringify(loginBody(mode, query));
      switch (mode) {
        case 'string':
          return reply.type('application/json').send(json);
        case 'buffer':
          return reply.type('application/json').send(Buffer.from(json));
        case 'chunked':
          return reply.type('application/json').send(Readable.from([json.slice(0, 5), json.slice(5)]));
        case 'stream':
          return reply.type('application/json').send(Readable.from([json.slice(0, 3), json.slice(3, 9), json.slice(9)]));
        case 'created':
          return reply.code(201).send(loginBody(mode, query));
        case 'headers':
          return reply
            .headers({ 'x-login': 'yes', 'set-cookie': 'sid=abc', etag: '"v1"', 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(json)) })
            .send(json);
        case 'text':
          return reply.type('text/plain').send('welcome alice');
        case 'empty':
          return reply.code(200).send();
        case 'broken':
          return reply.type('application/json').send('{"userId":');
        case 'twice':
          void reply.send(LOGIN_USER);
          return reply.send(SECOND_ANSWER);
        case 'nocontent':
          return reply.code(204).send(LOGIN_USER);
        case 'bigstream':
          return reply.type('application/json').send(Readable.from(chunksOf(json)));
        case 'encoded': {
          const { coding, bytes } = encodedLogin(json, query);
          return reply.headers({ 'content-type': 'application/json', 'content-encoding': coding }).send(bytes);
        }
        default:
          return loginBody(mode, query);
      }
    });
    app.get('/api/me', async (request) => ({ user: request.user }));
    app.post('/api/effects', async (request) => {
      const id = new URLSearchParams(request.url.split('?')[1] ?? '').get('id');
      recordEffect(id);
      return { done: id, user: request.user };
    });
    // Authorization routes (authz-routes.ts): the route guards as the route's preHandler (one, or an array).
    for (const [name, guards] of authzGuards(fastifyApi)) {
      app.get(AUTHZ_PREFIX + name, { preHandler: guards.length === 1 ? guards[0] : [...guards] }, async () => ({ authorized: name }));
    }
    app.get('/api/auth/login/x', async () => ({ ok: true }));
    app.get('/api/boom', async () => {
      throw new Error('boom');
    });
    // Request-target routes (see harness.ts): each answer names its handler, in the body and in X-Handler.
    app.get('/api/health', async (_request, reply) => reply.header(HANDLER_HEADER, 'health').send({ handler: 'health' }));
    app.all('/', async (_request, reply) => reply.header(HANDLER_HEADER, 'root').send({ handler: 'root' }));
    app.options('/api/auth/login', async (_request, reply) => reply.header('access-control-allow-origin', '*').code(204).send());
    for (const url of UNROUTED_METHOD_PATHS) {
      const method = METHODS.filter((m) => !app.hasRoute({ method: m, url }));
      app.route({ method, url, handler: async (_request, reply) => reply.header(HANDLER_HEADER, 'method-not-allowed').code(405).send({ error: 'method_not_allowed' }) });
    }
    app.all('/*', async (_request, reply) => reply.header(HANDLER_HEADER, 'catchall').send({ handler: 'catchall' }));
    // Reveals what reached it: a forwarded JwtGuardError keeps its status and code; a plain Error is a 500.
    app.setErrorHandler((thrown, _request, reply) => {
      const error = thrown as HandledError;
      return reply.code(error.status ?? error.statusCode ?? 500).send({ error: 'handled', code: error.code });
    });

    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      sessions: app.jwtSessions,
      close: () => app.close(),
    };
  },
};
