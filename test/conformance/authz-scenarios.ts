import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { hmacToken, tamper } from '../support/tokens.js';
import { AUTHZ_PREFIX, AUTHZ_PUBLIC_ROUTE, CHECK_SECRET_ERROR } from './authz-routes.js';
import type { Scenario, ScenarioContext } from './scenarios.js';

/** A fresh HS256 token (STRONG_SECRET, as the `authz` and `anonymous` presets verify) with these claims. */
function token(claims: Record<string, unknown> = {}): Promise<string> {
  return hmacToken({ sub: 'alice', jti: randomUUID(), ...claims });
}

/** `GET /api/authz/<route>`, with a bearer token for these claims, or without a token (`undefined`). */
async function call(ctx: ScenarioContext, route: string, claims: Record<string, unknown> | undefined): Promise<Response> {
  const headers: Record<string, string> = claims === undefined ? {} : { authorization: `Bearer ${await token(claims)}` };
  return fetch(`${ctx.url}${AUTHZ_PREFIX}${route}`, { headers });
}

/** The route ran: 200 `{ authorized: <route> }`. */
async function expectAuthorized(response: Response, route: string): Promise<void> {
  const text = await response.text();
  assert.equal(response.status, 200, `${route}: ${text}`);
  assert.deepEqual(JSON.parse(text), { authorized: route });
}

/**
 * Refused with 403 before the route ran: exactly `{ error, message }` as JSON, no-store, and an
 * RFC 6750 §3.1 challenge: `insufficient_scope`, with `scope="<scopes>"` for a scope refusal.
 */
async function expectForbidden(response: Response, code: 'insufficient_scope' | 'claim_mismatch', scopes?: string): Promise<{ message: string; challenge: string }> {
  const text = await response.text();
  assert.equal(response.status, 403, text);
  const body = JSON.parse(text) as { error: string; message: string };
  assert.deepEqual(Object.keys(body), ['error', 'message']);
  assert.equal(body.error, code);
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  assert.equal(response.headers.get('cache-control'), 'no-store');
  const challenge = response.headers.get('www-authenticate') ?? '';
  assert.match(challenge, /^Bearer error="insufficient_scope", error_description="[^"]+"/);
  if (scopes === undefined) assert.doesNotMatch(challenge, /scope="/);
  else assert.ok(challenge.endsWith(`, scope="${scopes}"`), challenge);
  return { message: body.message, challenge };
}

/** A check that threw, rejected or answered nonsense: 500 `authorization_failed`, never the route, nothing of the thrown error. */
async function expectFailed(response: Response): Promise<void> {
  const text = await response.text();
  assert.equal(response.status, 500, text);
  assert.deepEqual(JSON.parse(text), { error: 'authorization_failed', message: 'The authorization check failed.' });
  assert.equal(response.headers.get('cache-control'), 'no-store');
  assert.equal(response.headers.get('www-authenticate'), null);
  assert.doesNotMatch(text, new RegExp(CHECK_SECRET_ERROR));
}

/** No payload: 401 `token_missing` with the bare challenge, as the guard answers. */
async function expectTokenMissing(response: Response): Promise<void> {
  const text = await response.text();
  assert.equal(response.status, 401, text);
  assert.equal(JSON.parse(text).error, 'token_missing');
  assert.equal(response.headers.get('www-authenticate'), 'Bearer');
  assert.equal(response.headers.get('cache-control'), 'no-store');
}

/** The app's own error handler answered (see harness.ts). */
async function expectHandled(response: Response, status: number, code: string): Promise<void> {
  const text = await response.text();
  assert.equal(response.status, status, text);
  assert.deepEqual(JSON.parse(text), { error: 'handled', code });
}

function scenario(name: string, run: (ctx: ScenarioContext) => Promise<void>, preset: 'authz' | 'anonymous' = 'authz'): Scenario {
  return { name: `authorization: ${name}`, preset, run };
}

/** Every authorization case, on every harness (routes in authz-routes.ts). */
export function authzScenarios(): Scenario[] {
  return [
    scenario('requireScopes: every scope, as a space-separated string or an array, among others and in any order → the route runs', async (ctx) => {
      await expectAuthorized(await call(ctx, 'scopes', { scope: 'read:users write:users' }), 'scopes');
      await expectAuthorized(await call(ctx, 'scopes', { scope: 'openid  write:users profile read:users ' }), 'scopes');
      await expectAuthorized(await call(ctx, 'scopes', { scope: ['write:users', 'read:users'] }), 'scopes');
    }),
    scenario('requireScopes: one short, none, no claim, or a look-alike → 403 insufficient_scope with WWW-Authenticate scope="read:users write:users"', async (ctx) => {
      for (const claims of [{ scope: 'read:users' }, { scope: ['write:users'] }, { scope: '' }, {}, { scope: 'read:users2 write:users' }, { scope: 'READ:USERS write:users' }, { scope: ['read:users write:users'] }]) {
        await expectForbidden(await call(ctx, 'scopes', claims), 'insufficient_scope', 'read:users write:users');
      }
    }),
    scenario('the insufficient_scope answer in full (RFC 6750 §3.1)', async (ctx) => {
      const { message, challenge } = await expectForbidden(await call(ctx, 'scopes', { scope: 'read:users' }), 'insufficient_scope', 'read:users write:users');
      assert.equal(message, 'The token lacks a scope this route requires; it requires all of: read:users, write:users.');
      assert.equal(challenge, `Bearer error="insufficient_scope", error_description="${message}", scope="read:users write:users"`);
    }),
    scenario('requireAnyScope: one of the scopes (string or array) → runs; none → 403 listing them all', async (ctx) => {
      await expectAuthorized(await call(ctx, 'any-scope', { scope: 'profile admin' }), 'any-scope');
      await expectAuthorized(await call(ctx, 'any-scope', { scope: ['read:users'] }), 'any-scope');
      await expectForbidden(await call(ctx, 'any-scope', { scope: 'profile write:users' }), 'insufficient_scope', 'read:users admin');
      await expectForbidden(await call(ctx, 'any-scope', {}), 'insufficient_scope', 'read:users admin');
    }),
    scenario('scopeClaim "scp" (Entra delegated, a string): read from scp, never from scope', async (ctx) => {
      await expectAuthorized(await call(ctx, 'scp', { scp: 'User.Read Mail.Send' }), 'scp');
      await expectForbidden(await call(ctx, 'scp', { scope: 'User.Read' }), 'insufficient_scope', 'User.Read');
    }),
    scenario('scopeClaim "permissions" (Auth0 RBAC, an array; a string works too)', async (ctx) => {
      await expectAuthorized(await call(ctx, 'permissions', { permissions: ['read:users', 'write:users'] }), 'permissions');
      await expectAuthorized(await call(ctx, 'permissions', { permissions: 'write:users read:users' }), 'permissions');
      await expectForbidden(await call(ctx, 'permissions', { permissions: ['read:users'], scope: 'write:users' }), 'insufficient_scope', 'read:users write:users');
    }),
    scenario('scopeClaim "roles" (Entra app roles, an array) with requireAnyScope', async (ctx) => {
      await expectAuthorized(await call(ctx, 'roles', { roles: ['Reader', 'Admin'] }), 'roles');
      await expectForbidden(await call(ctx, 'roles', { roles: ['Reader'] }), 'insufficient_scope', 'Task.Write Admin');
      await expectForbidden(await call(ctx, 'roles', { roles: 'Reader' }), 'insufficient_scope', 'Task.Write Admin');
    }),
    scenario('scopeClaim: any claim name, taken literally (a namespaced URL claim)', async (ctx) => {
      await expectAuthorized(await call(ctx, 'namespaced-claim', { 'https://example.com/permissions': ['read:users'] }), 'namespaced-claim');
      await expectForbidden(await call(ctx, 'namespaced-claim', { permissions: ['read:users'] }), 'insufficient_scope', 'read:users');
    }),
    scenario('scopeClaim ["scp", "roles"]: the scope from either claim', async (ctx) => {
      await expectAuthorized(await call(ctx, 'scp-or-roles', { scp: 'Files.Read' }), 'scp-or-roles');
      await expectAuthorized(await call(ctx, 'scp-or-roles', { roles: ['Files.Read'] }), 'scp-or-roles');
      await expectForbidden(await call(ctx, 'scp-or-roles', { scope: 'Files.Read', roles: ['Files.Write'] }), 'insufficient_scope', 'Files.Read');
    }),
    scenario('requireClaims equality: equal → runs; different or missing → 403 claim_mismatch, no scope attribute', async (ctx) => {
      await expectAuthorized(await call(ctx, 'claim-equals', { role: 'admin' }), 'claim-equals');
      const { message } = await expectForbidden(await call(ctx, 'claim-equals', { role: 'user' }), 'claim_mismatch');
      assert.equal(message, "The token's role claim does not have a value this route accepts.");
      const missing = await expectForbidden(await call(ctx, 'claim-equals', {}), 'claim_mismatch');
      assert.equal(missing.message, 'The token has no role claim, which this route requires.');
    }),
    scenario('requireClaims membership: one of the listed values → runs; another → 403', async (ctx) => {
      await expectAuthorized(await call(ctx, 'claim-in-list', { tenant: 'acme' }), 'claim-in-list');
      await expectAuthorized(await call(ctx, 'claim-in-list', { tenant: 'globex' }), 'claim-in-list');
      await expectForbidden(await call(ctx, 'claim-in-list', { tenant: 'initech' }), 'claim_mismatch');
    }),
    scenario('requireClaims on an array-valued claim: it must include the value', async (ctx) => {
      await expectAuthorized(await call(ctx, 'claim-array', { groups: ['users', 'staff'] }), 'claim-array');
      await expectAuthorized(await call(ctx, 'claim-array', { groups: 'staff' }), 'claim-array');
      await expectForbidden(await call(ctx, 'claim-array', { groups: ['users', 'staff-alumni'] }), 'claim_mismatch');
      await expectForbidden(await call(ctx, 'claim-array', { groups: [] }), 'claim_mismatch');
    }),
    scenario('requireClaims with several claims: every one must hold', async (ctx) => {
      await expectAuthorized(await call(ctx, 'claims-all', { role: 'admin', tenant: 'globex' }), 'claims-all');
      await expectForbidden(await call(ctx, 'claims-all', { role: 'admin', tenant: 'initech' }), 'claim_mismatch');
      await expectForbidden(await call(ctx, 'claims-all', { role: 'user', tenant: 'acme' }), 'claim_mismatch');
    }),
    scenario('requireClaims compares strictly: "3" is not 3, "true" is not true', async (ctx) => {
      await expectAuthorized(await call(ctx, 'claims-typed', { level: 3, verified: true }), 'claims-typed');
      await expectForbidden(await call(ctx, 'claims-typed', { level: '3', verified: true }), 'claim_mismatch');
      await expectForbidden(await call(ctx, 'claims-typed', { level: 3, verified: 'true' }), 'claim_mismatch');
    }),
    scenario('claimCheck (sync): true → runs; false → 403 claim_mismatch naming the requirement', async (ctx) => {
      await expectAuthorized(await call(ctx, 'check-sync', { email_verified: true }), 'check-sync');
      const { message } = await expectForbidden(await call(ctx, 'check-sync', { email_verified: false }), 'claim_mismatch');
      assert.equal(message, "The token does not meet this route's requirement: a verified email.");
    }),
    scenario('claimCheck (async): resolved true → runs; resolved false → 403', async (ctx) => {
      await expectAuthorized(await call(ctx, 'check-async', { email_verified: true }), 'check-async');
      await expectForbidden(await call(ctx, 'check-async', {}), 'claim_mismatch');
    }),
    scenario('claimCheck that throws, rejects or answers a non-boolean → 500 authorization_failed, never a pass', async (ctx) => {
      for (const route of ['check-throws', 'check-rejects', 'check-not-boolean']) {
        await expectFailed(await call(ctx, route, { email_verified: true, role: 'admin', scope: 'admin' }));
      }
    }),
    scenario('anyOf: either alternative → runs; none → 403 insufficient_scope with the scope alternative\'s scope', async (ctx) => {
      await expectAuthorized(await call(ctx, 'any-of', { scope: 'admin' }), 'any-of');
      await expectAuthorized(await call(ctx, 'any-of', { role: 'admin' }), 'any-of');
      await expectForbidden(await call(ctx, 'any-of', { scope: 'read:users', role: 'user' }), 'insufficient_scope', 'admin');
    }),
    scenario('allOf: all (scope, claim, async check) → runs; the first refusal answers', async (ctx) => {
      await expectAuthorized(await call(ctx, 'all-of', { scope: 'read:users', tenant: 'acme', email_verified: true }), 'all-of');
      await expectForbidden(await call(ctx, 'all-of', { tenant: 'acme', email_verified: true }), 'insufficient_scope', 'read:users');
      await expectForbidden(await call(ctx, 'all-of', { scope: 'read:users', tenant: 'globex', email_verified: true }), 'claim_mismatch');
      await expectForbidden(await call(ctx, 'all-of', { scope: 'read:users', tenant: 'acme' }), 'claim_mismatch');
    }),
    scenario('nested anyOf(allOf(...), ...): either branch → runs; refused with the scopes that could open it', async (ctx) => {
      await expectAuthorized(await call(ctx, 'nested', { scope: 'read:users', role: 'admin' }), 'nested');
      await expectAuthorized(await call(ctx, 'nested', { scope: 'superuser' }), 'nested');
      await expectForbidden(await call(ctx, 'nested', { scope: 'read:users', role: 'user' }), 'insufficient_scope', 'superuser');
      await expectForbidden(await call(ctx, 'nested', { role: 'admin' }), 'insufficient_scope', 'read:users superuser');
    }),
    scenario('anyOf is evaluated in order: a throwing check first → 500 even when a later alternative passes; a pass first → the check never runs', async (ctx) => {
      await expectFailed(await call(ctx, 'any-of-throws-first', { scope: 'read:users' }));
      await expectAuthorized(await call(ctx, 'any-of-pass-first', { scope: 'read:users' }), 'any-of-pass-first');
      await expectFailed(await call(ctx, 'any-of-pass-first', { scope: 'profile' }));
    }),
    scenario('route guards chained by the framework: each in turn, the first refusal answers', async (ctx) => {
      await expectAuthorized(await call(ctx, 'chain', { scope: 'read:users', role: 'admin' }), 'chain');
      await expectForbidden(await call(ctx, 'chain', { role: 'admin' }), 'insufficient_scope', 'read:users');
      await expectForbidden(await call(ctx, 'chain', { scope: 'read:users', role: 'user' }), 'claim_mismatch');
    }),
    scenario('no token, or a bad one: the guard answers 401 before any route guard', async (ctx) => {
      const missing = await fetch(`${ctx.url}${AUTHZ_PREFIX}scopes`);
      await expectTokenMissing(missing);
      const forged = tamper(await token({ scope: 'read:users' }), { scope: 'read:users write:users' });
      const response = await fetch(`${ctx.url}${AUTHZ_PREFIX}scopes`, { headers: { authorization: `Bearer ${forged}` } });
      await response.arrayBuffer();
      assert.equal(response.status, 401);
      assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer error="invalid_token"/);
    }),
    scenario('behind a public path the guard verifies nothing, so a route guard sees no payload → 401 token_missing even with a valid token', async (ctx) => {
      await expectTokenMissing(await call(ctx, AUTHZ_PUBLIC_ROUTE, { scope: 'read:users' }));
      await expectTokenMissing(await call(ctx, AUTHZ_PUBLIC_ROUTE, undefined));
    }),
    scenario('forwardErrors: a 403 and a 500 reach the app\'s error handler with their status and code', async (ctx) => {
      await expectHandled(await call(ctx, 'forward-scopes', { scope: 'read:users' }), 403, 'insufficient_scope');
      await expectAuthorized(await call(ctx, 'forward-scopes', { scope: 'admin' }), 'forward-scopes');
      await expectHandled(await call(ctx, 'forward-check-throws', { scope: 'admin' }), 500, 'authorization_failed');
    }),
    scenario('anonymous request (credentialsRequired: false): every route guard answers 401 token_missing', async (ctx) => {
      for (const route of ['scopes', 'any-scope', 'permissions', 'claim-equals', 'check-sync', 'check-throws', 'any-of', 'all-of', 'chain']) {
        await expectTokenMissing(await call(ctx, route, undefined));
      }
      await expectHandled(await call(ctx, 'forward-scopes', undefined), 401, 'token_missing');
    }, 'anonymous'),
    scenario('anonymous preset with a valid token: the route guards judge its payload as usual', async (ctx) => {
      await expectAuthorized(await call(ctx, 'scopes', { scope: 'read:users write:users' }), 'scopes');
      await expectForbidden(await call(ctx, 'scopes', { scope: 'read:users' }), 'insufficient_scope', 'read:users write:users');
    }, 'anonymous'),
  ];
}
