import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createAuthorizer, errorResponse } from '../../../src/index.js';
import { judge, judgeSync, passes, refused } from './support.js';

const { requireScopes, requireAnyScope, requireClaims, claimCheck, anyOf, allOf } = createAuthorizer();

/** A check that records that it ran and answers `answer`. */
function spy(answer: boolean | 'throw', async = false) {
  const calls: unknown[] = [];
  const fn = (payload: unknown): boolean => {
    calls.push(payload);
    if (answer === 'throw') throw new Error('check failed');
    return answer;
  };
  const rule = claimCheck(async ? async (payload) => fn(payload) : fn, `spy ${String(answer)}`);
  return { rule, calls };
}

describe('anyOf', () => {
  const rule = anyOf(requireScopes('admin'), requireClaims({ role: 'admin' }));

  test('passes when any alternative passes', () => {
    passes(judgeSync(rule, { scope: 'admin', role: 'user' }));
    passes(judgeSync(rule, { scope: 'read', role: 'admin' }));
    passes(judgeSync(rule, { scope: 'admin', role: 'admin' }));
  });

  test('none passes → 403 insufficient_scope listing its scope alternatives\' scopes', () => {
    const error = refused(judgeSync(rule, { scope: 'read', role: 'user' }), 'insufficient_scope');
    assert.deepEqual(error.scopes, ['admin']);
    assert.match(errorResponse(error).headers['www-authenticate'] ?? '', /scope="admin"$/);
  });

  test('the scopes of every scope alternative, once each', () => {
    const error = refused(judgeSync(anyOf(requireScopes('a', 'b'), requireAnyScope('b', 'c'), requireClaims({ x: 1 })), {}), 'insufficient_scope');
    assert.deepEqual(error.scopes, ['a', 'b', 'c']);
  });

  test('none passes and no alternative is about scopes → 403 claim_mismatch', () => {
    refused(judgeSync(anyOf(requireClaims({ role: 'admin' }), requireClaims({ tenant: 'acme' })), {}), 'claim_mismatch');
  });

  test('anyOf(x) refuses exactly as x does', () => {
    const error = refused(judgeSync(anyOf(requireClaims({ role: 'admin' })), { role: 'user' }), 'claim_mismatch');
    assert.equal(error.claim, 'role');
  });

  test('in order, stopping at the first pass: later alternatives do not run', async () => {
    const later = spy(true);
    passes(judgeSync(anyOf(requireScopes('a'), later.rule), { scope: 'a' }));
    assert.equal(later.calls.length, 0);
    const laterAsync = spy(true, true);
    passes(await judge(anyOf(spy(true, true).rule, laterAsync.rule), {}));
    assert.equal(laterAsync.calls.length, 0);
  });

  test('a check that throws → 500, even when a later alternative would pass: an error is never skipped over', async () => {
    refused(judgeSync(anyOf(spy('throw').rule, requireScopes('a')), { scope: 'a' }), 'authorization_failed');
    refused(await judge(anyOf(spy('throw', true).rule, requireScopes('a')), { scope: 'a' }), 'authorization_failed');
    refused(await judge(anyOf(requireScopes('b'), spy('throw', true).rule, requireScopes('a')), { scope: 'a' }), 'authorization_failed');
  });

  test('sync and async alternatives mix: async false then sync pass, sync false then async pass', async () => {
    passes(await judge(anyOf(spy(false, true).rule, requireScopes('a')), { scope: 'a' }));
    passes(await judge(anyOf(requireScopes('b'), spy(true, true).rule), { scope: 'a' }));
    refused(await judge(anyOf(spy(false, true).rule, requireScopes('b')), { scope: 'a' }), 'insufficient_scope');
  });
});

describe('allOf', () => {
  test('passes only when every rule passes; the first refusal is the answer', () => {
    const rule = allOf(requireScopes('read:users'), requireClaims({ tenant: 'acme' }));
    passes(judgeSync(rule, { scope: 'read:users', tenant: 'acme' }));
    refused(judgeSync(rule, { scope: 'read:users', tenant: 'globex' }), 'claim_mismatch');
    const error = refused(judgeSync(rule, { scope: 'profile', tenant: 'globex' }), 'insufficient_scope');
    assert.deepEqual(error.scopes, ['read:users']);
  });

  test('stops at the first refusal: later rules, async checks included, do not run', async () => {
    const later = spy(true, true);
    refused(judgeSync(allOf(requireScopes('a'), later.rule), {}), 'insufficient_scope');
    assert.equal(later.calls.length, 0);
    const afterAsync = spy(true);
    refused(await judge(allOf(spy(false, true).rule, afterAsync.rule), {}), 'claim_mismatch');
    assert.equal(afterAsync.calls.length, 0);
  });

  test('a throwing or rejecting check → 500, never a pass', async () => {
    refused(judgeSync(allOf(requireScopes('a'), spy('throw').rule), { scope: 'a' }), 'authorization_failed');
    refused(await judge(allOf(requireScopes('a'), spy('throw', true).rule, requireScopes('a')), { scope: 'a' }), 'authorization_failed');
  });

  test('async rules: all resolve true → pass', async () => {
    passes(await judge(allOf(spy(true, true).rule, requireScopes('a'), spy(true, true).rule), { scope: 'a' }));
  });
});

describe('nesting', () => {
  const rule = anyOf(allOf(requireScopes('read:users'), requireClaims({ role: 'admin' })), requireScopes('superuser'));

  test('anyOf(allOf(...), ...) passes by either branch', () => {
    passes(judgeSync(rule, { scope: 'read:users', role: 'admin' }));
    passes(judgeSync(rule, { scope: 'superuser' }));
  });

  test('refused: the scopes of the failures involved', () => {
    // The allOf branch failed on its claim, so only "superuser" is a scope that could open the route.
    assert.deepEqual(refused(judgeSync(rule, { scope: 'read:users', role: 'user' }), 'insufficient_scope').scopes, ['superuser']);
    assert.deepEqual(refused(judgeSync(rule, { role: 'admin' }), 'insufficient_scope').scopes, ['read:users', 'superuser']);
  });

  test('descriptions read as the calls that made them', () => {
    assert.equal(rule.description, 'anyOf(allOf(requireScopes("read:users"), requireClaims({"role":"admin"})), requireScopes("superuser"))');
    assert.equal(createAuthorizer({ scopeClaim: ['scp', 'roles'] }).requireAnyScope('A', 'B').description, 'requireAnyScope("A", "B") from ["scp", "roles"]');
    assert.equal(claimCheck(() => true, 'a verified email.').description, 'claimCheck("a verified email")');
  });

  test('no payload → 401 token_missing from the outermost rule, before any check runs', () => {
    const inner = spy(true);
    refused(judgeSync(anyOf(inner.rule, requireScopes('a')), undefined), 'token_missing');
    assert.equal(inner.calls.length, 0);
  });
});
