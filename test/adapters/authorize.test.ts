import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import express, { type Request, type Response } from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { Hono } from 'hono';
import * as expressApi from '../../src/adapters/express.js';
import * as fastifyApi from '../../src/adapters/fastify.js';
import * as honoApi from '../../src/adapters/hono.js';
import * as koaApi from '../../src/adapters/koa.js';
import { JwtGuardError, type JwtGuardPayload } from '../../src/index.js';
import { listening } from '../conformance/harness.js';
import { hmacToken, STRONG_SECRET } from '../support/tokens.js';

// ---- type-level checks (compiled by `npm run typecheck`, never run) ----------------------------
// Each `@ts-expect-error` line must fail to compile: if the types ever accept it, tsc reports the
// directive as unused and the typecheck fails.

// An app types its claims once, by declaration merging (names unique to this test, optional so
// that nothing else in the program has to provide them).
declare module '../../src/index.js' {
  interface JwtGuardPayload {
    jwtguardTestRole?: 'admin' | 'user';
    jwtguardTestGroups?: ('staff' | 'users')[];
  }
}

/** A second token shape, typed per authorize() call rather than app-wide. */
interface EntraClaims extends JwtGuardPayload {
  roles?: ('Reader' | 'Writer')[];
  tid: string;
}

function typeChecks(): void {
  const { requireScopes, requireAnyScope, requireClaims, claimCheck, anyOf, allOf, authorize } = expressApi;

  // requireClaims against the merged JwtGuardPayload.
  requireClaims({ jwtguardTestRole: 'admin' });
  requireClaims({ jwtguardTestRole: ['admin', 'user'] });
  // @ts-expect-error 'admn' is not a declared role
  requireClaims({ jwtguardTestRole: 'admn' });
  // @ts-expect-error 'root' is not a declared role
  requireClaims({ jwtguardTestRole: ['admin', 'root'] });
  // An array claim takes its element values, alone or listed.
  requireClaims({ jwtguardTestGroups: 'staff' });
  requireClaims({ jwtguardTestGroups: ['staff', 'users'] });
  // @ts-expect-error 'admins' is not a declared group
  requireClaims({ jwtguardTestGroups: 'admins' });
  // Registered claims keep jose's types.
  requireClaims({ aud: 'api', iss: ['https://a', 'https://b'] });
  // @ts-expect-error exp is a number
  requireClaims({ exp: 'soon' });
  // Undeclared claims take any string, number or boolean, or a list of them...
  requireClaims({ tenant: ['acme', 'globex'], level: 3, verified: true });
  // @ts-expect-error ...but never an object (claimCheck is for those)
  requireClaims({ tenant: { id: 'acme' } });
  // @ts-expect-error ...nor null
  requireClaims({ tenant: null });

  // claimCheck gets the typed payload and must return a boolean (or a Promise of one) and a description.
  claimCheck((payload) => payload.jwtguardTestRole === 'admin', 'an admin');
  claimCheck(async (payload) => payload.jwtguardTestGroups?.includes('staff') === true, 'staff');
  // @ts-expect-error the comparison can never be true: 'admn' is not a role
  claimCheck((payload) => payload.jwtguardTestRole === 'admn', 'an admin');
  // @ts-expect-error a string is not a verdict
  claimCheck(() => 'yes', 'x');
  // @ts-expect-error the description is required
  claimCheck(() => true);

  // Scopes are separate string arguments, at least one.
  requireScopes('read:users', 'write:users');
  requireAnyScope('admin');
  // @ts-expect-error at least one scope
  requireScopes();
  // @ts-expect-error separate arguments, not an array
  requireScopes(['read:users']);

  // Combinators take route guards, at least one.
  anyOf(requireScopes('admin'), allOf(requireClaims({ jwtguardTestRole: 'admin' }), claimCheck(() => true, 'x')));
  // @ts-expect-error at least one guard
  anyOf();
  // @ts-expect-error a plain middleware is not a route guard
  allOf(requireScopes('a'), (_req: Request, _res: Response, next: () => void) => next());

  // authorize(): its options only, typed.
  authorize({ scopeClaim: ['scp', 'roles'], forwardErrors: true });
  // @ts-expect-error scopeClaim is a claim name or a list of them
  authorize({ scopeClaim: 3 });
  // @ts-expect-error no such option
  authorize({ scopeClaims: 'scp' });

  // authorize<P>(): another payload type for one set of guards.
  const entra = authorize<EntraClaims>({ scopeClaim: ['scp', 'roles'] });
  entra.requireClaims({ roles: 'Writer', tid: 'tenant-1' });
  entra.claimCheck((payload) => payload.tid.length > 0, 'a tenant');
  // @ts-expect-error 'Admin' is not one of EntraClaims' roles
  entra.requireClaims({ roles: 'Admin' });

  // Where each framework takes them, without casts.
  const app = express();
  app.get('/users', requireScopes('read:users'), (req, res) => void res.json(req.auth));
  express.Router().delete('/users/:id', anyOf(requireScopes('admin'), requireClaims({ jwtguardTestRole: 'admin' })), (req, res) => void res.json({ id: req.params.id }));

  const fastify = Fastify();
  fastify.get('/users', { preHandler: fastifyApi.requireScopes('read:users') }, async (request) => request.user);
  fastify.get<{ Params: { id: string } }>('/users/:id', { preHandler: [fastifyApi.requireScopes('read:users'), fastifyApi.requireClaims({ tenant: 'acme' })] }, async (request) => request.params.id);
  fastify.addHook('preHandler', fastifyApi.requireAnyScope('admin'));

  const koa = new Koa();
  koa.use(koaApi.requireScopes('read:users'));
  koa.use((ctx) => void (ctx.body = ctx.state.user));

  const hono = new Hono<{ Bindings: { REGION: string } }>();
  hono.get('/users', honoApi.requireScopes('read:users'), (c) => c.json({ sub: c.get('jwtPayload').sub, region: c.env.REGION }));
  new Hono().use(honoApi.jwtGuard({ secret: STRONG_SECRET })).get('/admin', honoApi.requireClaims({ jwtguardTestRole: 'admin' }), (c) => c.json(c.get('jwtPayload')));
}
void typeChecks;

// ---- runtime: what the conformance table does not show ------------------------------------------

const bearer = async (claims: Record<string, unknown>): Promise<Record<string, string>> => ({ authorization: `Bearer ${await hmacToken({ sub: 'alice', ...claims })}` });

/** A forwarded refusal answered by the framework's own default error handling: status, no-store and the challenge survive (err.headers). */
async function expectDefaultHandled(response: Response | globalThis.Response, status: number, challenge: RegExp | null): Promise<void> {
  const r = response as globalThis.Response;
  await r.arrayBuffer();
  assert.equal(r.status, status);
  assert.equal(r.headers.get('cache-control'), 'no-store');
  if (challenge === null) assert.equal(r.headers.get('www-authenticate'), null);
  else assert.match(r.headers.get('www-authenticate') ?? '', challenge);
}

const SCOPE_CHALLENGE = /^Bearer error="insufficient_scope", error_description="[^"]+", scope="admin"$/;

describe('route guards: forwardErrors with the framework\'s default error handling keeps status and challenge', () => {
  test('express (finalhandler)', async () => {
    const { requireScopes, claimCheck } = expressApi.authorize({ forwardErrors: true });
    const app = express();
    app.set('env', 'test');
    app.use(expressApi.jwtGuard({ secret: STRONG_SECRET }));
    app.get('/scoped', requireScopes('admin'), (_req, res) => void res.json({}));
    app.get('/broken', claimCheck(() => { throw new Error('x'); }, 'x'), (_req, res) => void res.json({}));
    const server = await listening(app.listen(0, '127.0.0.1'));
    try {
      await expectDefaultHandled(await fetch(`${server.url}/scoped`, { headers: await bearer({ scope: 'read' }) }), 403, SCOPE_CHALLENGE);
      await expectDefaultHandled(await fetch(`${server.url}/broken`, { headers: await bearer({}) }), 500, null);
    } finally {
      await server.close();
    }
  });

  test('fastify (default error handler)', async () => {
    const { requireScopes } = fastifyApi.authorize({ forwardErrors: true });
    const app = Fastify();
    await app.register(fastifyApi.jwtGuard, { secret: STRONG_SECRET });
    app.get('/scoped', { preHandler: requireScopes('admin') }, async () => ({}));
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      await expectDefaultHandled(await fetch(`${url}/scoped`, { headers: await bearer({ scope: 'read' }) }), 403, SCOPE_CHALLENGE);
    } finally {
      await app.close();
    }
  });

  test('koa (default onerror)', async () => {
    const { requireScopes } = koaApi.authorize({ forwardErrors: true });
    const app = new Koa();
    app.silent = true;
    app.use(koaApi.jwtGuard({ secret: STRONG_SECRET }));
    app.use(requireScopes('admin'));
    app.use((ctx) => void (ctx.body = {}));
    const server = await listening(app.listen(0, '127.0.0.1'));
    try {
      await expectDefaultHandled(await fetch(`${server.url}/`, { headers: await bearer({ scope: 'read' }) }), 403, SCOPE_CHALLENGE);
    } finally {
      await server.close();
    }
  });

  test('hono (no onError: the HTTPException\'s ready response)', async () => {
    const { requireScopes } = honoApi.authorize({ forwardErrors: true });
    const app = new Hono();
    app.use('*', honoApi.jwtGuard({ secret: STRONG_SECRET }));
    app.get('/scoped', requireScopes('admin'), (c) => c.json({}));
    await expectDefaultHandled(await app.request('/scoped', { headers: await bearer({ scope: 'read' }) }), 403, SCOPE_CHALLENGE);
  });

  test('hono onError sees the JwtGuardError as the HTTPException\'s cause', async () => {
    const { requireClaims } = honoApi.authorize({ forwardErrors: true });
    const app = new Hono();
    app.use('*', honoApi.jwtGuard({ secret: STRONG_SECRET }));
    app.get('/admin', requireClaims({ role: 'admin' }), (c) => c.json({}));
    let seen: unknown;
    app.onError((error, c) => ((seen = error.cause), c.json({ handled: true }, 418)));
    const response = await app.request('/admin', { headers: await bearer({ role: 'user' }) });
    assert.equal(response.status, 418);
    assert.ok(seen instanceof JwtGuardError);
    assert.equal(seen.code, 'claim_mismatch');
    assert.equal(seen.claim, 'role');
  });
});

describe('route guards: framework specifics', () => {
  test('fastify: addHook(\'preHandler\', guard) in an encapsulated plugin guards that context only', async () => {
    const app = Fastify();
    await app.register(fastifyApi.jwtGuard, { secret: STRONG_SECRET });
    await app.register(async (admin) => {
      admin.addHook('preHandler', fastifyApi.requireClaims({ role: 'admin' }));
      admin.get('/admin/stats', async () => ({ stats: true }));
    });
    app.get('/me', async (request) => ({ sub: request.user?.sub }));
    const user = await bearer({ role: 'user' });
    assert.equal((await app.inject({ url: '/admin/stats', headers: user })).statusCode, 403);
    assert.equal((await app.inject({ url: '/admin/stats', headers: await bearer({ role: 'admin' }) })).statusCode, 200);
    assert.equal((await app.inject({ url: '/me', headers: user })).statusCode, 200);
    await app.close();
  });

  test('fastify: a refused POST with a body never reaches the handler', async () => {
    const app = Fastify();
    await app.register(fastifyApi.jwtGuard, { secret: STRONG_SECRET });
    let ran = false;
    app.post('/items', { preHandler: fastifyApi.requireScopes('write:items') }, async () => ((ran = true), {}));
    const response = await app.inject({ method: 'POST', url: '/items', headers: { ...(await bearer({ scope: 'read:items' })), 'content-type': 'application/json' }, payload: '{}' });
    assert.equal(response.statusCode, 403);
    assert.equal(response.json().error, 'insufficient_scope');
    assert.equal(ran, false);
    await app.close();
  });

  test('express: a synchronous rule calls next() in the same tick (no promise hop)', () => {
    const guard = expressApi.requireScopes('a');
    let called = false;
    const req = { auth: { scope: 'a' } } as unknown as Request;
    guard(req, {} as Response, () => void (called = true));
    assert.equal(called, true);
  });

  test('koa: a synchronous rule returns next()\'s own promise', () => {
    const guard = koaApi.requireClaims({ role: 'admin' });
    const done = Promise.resolve();
    const ctx = { state: { user: { role: 'admin' } } } as unknown as Parameters<typeof guard>[0];
    assert.equal(guard(ctx, () => done), done);
  });

  test('every route guard carries its rule, and combinators take guards of different authorize() calls', async () => {
    const permissions = honoApi.authorize({ scopeClaim: 'permissions' });
    const combined = honoApi.anyOf(permissions.requireScopes('read:users'), honoApi.requireClaims({ role: 'admin' }));
    assert.equal(combined.rule.description, 'anyOf(requireScopes("read:users") from "permissions", requireClaims({"role":"admin"}))');
    const app = new Hono();
    app.use('*', honoApi.jwtGuard({ secret: STRONG_SECRET }));
    app.get('/x', combined, (c) => c.text('ok'));
    assert.equal((await app.request('/x', { headers: await bearer({ permissions: ['read:users'] }) })).status, 200);
    assert.equal((await app.request('/x', { headers: await bearer({ role: 'admin' }) })).status, 200);
    assert.equal((await app.request('/x', { headers: await bearer({ scope: 'read:users' }) })).status, 403);
  });

  test('options and arguments are refused at construction, on every adapter', () => {
    for (const api of [expressApi, fastifyApi, koaApi, honoApi]) {
      assert.throws(() => api.authorize({ scopeClaim: '' }), { code: 'invalid_options' });
      assert.throws(() => api.requireScopes('a b'), { code: 'invalid_options' });
      assert.throws(() => (api.anyOf as (...args: unknown[]) => unknown)(() => undefined), { code: 'invalid_options' });
    }
  });
});
