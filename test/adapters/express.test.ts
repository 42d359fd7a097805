import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import compression from 'compression';
import express, { type RequestHandler } from 'express';
import { jwtGuard } from '../../src/adapters/express.js';
import type { JwtGuardOptions } from '../../src/index.js';
import { listening, type RunningServer } from '../conformance/harness.js';
import { decodePayload, STRONG_SECRET } from '../support/tokens.js';

const USER = { userId: 7, role: 'admin' };

// The guard must never throw outside a handler: any rejection nobody handled fails the test.
const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => void unhandled.push(reason));

const servers: RunningServer[] = [];
after(() => Promise.all(servers.map((server) => server.close())));

/** An Express 5 app: the guard, then `before` (e.g. compression), then `login` on POST /login. */
async function start(login: RequestHandler, options: Partial<JwtGuardOptions> = {}, before: RequestHandler[] = []): Promise<{ url: string; warnings: string[] }> {
  const warnings: string[] = [];
  const app = express();
  app.use(jwtGuard({ secret: STRONG_SECRET, authPath: '/login', onWarning: (message) => void warnings.push(message), ...options }));
  for (const middleware of before) app.use(middleware);
  app.post('/login', login);
  const server = await listening(app.listen(0, '127.0.0.1'));
  servers.push(server);
  return { url: server.url, warnings };
}

async function postLogin(url: string, headers: Record<string, string> = {}): Promise<{ response: Response; body: Record<string, unknown> }> {
  const response = await fetch(`${url}/login`, { method: 'POST', headers });
  const body = (await response.json()) as Record<string, unknown>;
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(unhandled.splice(0), [], 'unhandled rejections');
  return { response, body };
}

describe('express adapter: a login route that answers twice', () => {
  test('res.json() then next() into Express’s 404 handler: the first answer is minted, the later one dropped with a warning, the process stays up', async () => {
    const { url, warnings } = await start((_req, res, next) => {
      res.json(USER);
      next();
    });
    for (let i = 0; i < 3; i++) {
      const { response, body } = await postLogin(url);
      assert.equal(response.status, 200);
      assert.deepEqual(Object.keys(body), ['token']);
      assert.equal(decodePayload(body.token as string).userId, USER.userId);
      assert.equal(response.headers.get('content-type'), 'application/json; charset=utf-8');
    }
    assert.equal(warnings.length, 3);
    assert.match(warnings[0] ?? '', /after ending it.*dropped/);
  });

  test('a second end() (with a callback) is dropped; its callback still runs', async () => {
    let called = false;
    const { url, warnings } = await start((_req, res) => {
      res.json(USER);
      res.end('late', () => void (called = true));
      res.write('later');
    });
    const { response, body } = await postLogin(url);
    assert.equal(response.status, 200);
    assert.equal(decodePayload(body.token as string).role, 'admin');
    assert.ok(called, 'the dropped end() callback ran');
    assert.equal(warnings.length, 1, 'one warning per response');
  });

  test('a response destroyed while the token is signed is left alone: no write, no throw', async () => {
    let destroyed = false;
    const { url } = await start((_req, res) => {
      res.json(USER);
      res.destroy();
      destroyed = true;
    });
    await assert.rejects(fetch(`${url}/login`, { method: 'POST' }));
    assert.ok(destroyed);
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(unhandled.splice(0), []);
  });
});

describe('express adapter: compression() mounted after the guard', () => {
  const big = { ...USER, bio: 'x'.repeat(4000) }; // over compression()'s 1 KiB threshold

  test('the gzip-compressed login answer is decoded and minted; the token answer is sent uncompressed', async () => {
    const { url } = await start((_req, res) => void res.json(big), {}, [compression()]);
    const { response, body } = await postLogin(url, { 'accept-encoding': 'gzip' });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('content-encoding'), null);
    assert.equal(decodePayload(body.token as string).bio, big.bio);
  });

  test('brotli too', async () => {
    const { url } = await start((_req, res) => void res.json(big), {}, [compression()]);
    const { response, body } = await postLogin(url, { 'accept-encoding': 'br' });
    assert.equal(response.status, 200);
    assert.equal(decodePayload(body.token as string).userId, USER.userId);
  });

  test('a compressed answer that decodes to more than mintBodyLimit is refused', async () => {
    const { url } = await start((_req, res) => void res.json({ ...USER, bio: 'x'.repeat(100_000) }), {}, [compression()]);
    const { response, body } = await postLogin(url, { 'accept-encoding': 'gzip' });
    assert.equal(response.status, 500);
    assert.equal(body.error, 'mint_body_invalid');
    assert.match(body.message as string, /mintBodyLimit/);
  });
});
