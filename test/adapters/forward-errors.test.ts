import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { jwtGuard as expressGuard } from '../../src/adapters/express.js';
import { jwtGuard as fastifyGuard } from '../../src/adapters/fastify.js';
import { jwtGuard as koaGuard } from '../../src/adapters/koa.js';
import { listening } from '../conformance/harness.js';
import { STRONG_SECRET } from '../support/tokens.js';

// With forwardErrors and NO error handler of the app's own, each framework's default error
// handling answers; it must still carry the RFC 6750 challenge and no-store (from err.headers).
async function expectChallenge(url: string, authorization: string | undefined, challenge: RegExp): Promise<void> {
  const response = await fetch(`${url}/api/me`, { headers: authorization ? { authorization } : {} });
  await response.arrayBuffer();
  assert.equal(response.status, 401);
  assert.match(response.headers.get('www-authenticate') ?? '', challenge);
  assert.equal(response.headers.get('cache-control'), 'no-store');
}

/** Without a token: the bare challenge; with a bad one: `invalid_token`. */
async function expectChallenges(url: string): Promise<void> {
  await expectChallenge(url, undefined, /^Bearer$/);
  await expectChallenge(url, 'Bearer a.b.c', /^Bearer error="invalid_token"/);
}

describe('forwardErrors with the framework\'s default error handling keeps the challenge headers', () => {
  const options = { secret: STRONG_SECRET, forwardErrors: true };

  test('express (finalhandler)', async () => {
    const app = express();
    app.set('env', 'test'); // finalhandler logs errors outside the test env
    app.use(expressGuard(options));
    app.get('/api/me', (_req, res) => void res.json({}));
    const server = await listening(app.listen(0, '127.0.0.1'));
    try {
      await expectChallenges(server.url);
    } finally {
      await server.close();
    }
  });

  test('fastify (default error handler)', async () => {
    const app = Fastify();
    await app.register(fastifyGuard, options);
    app.get('/api/me', async () => ({}));
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      await expectChallenges(url);
    } finally {
      await app.close();
    }
  });

  test('koa (default onerror)', async () => {
    const app = new Koa();
    app.silent = true;
    app.use(koaGuard(options));
    app.use((ctx) => void (ctx.body = {}));
    const server = await listening(app.listen(0, '127.0.0.1'));
    try {
      await expectChallenges(server.url);
    } finally {
      await server.close();
    }
  });
});
