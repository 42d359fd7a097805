import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createAuthorizer } from '../../../src/index.js';
import { judgeSync, passes, refused } from './support.js';

describe('requireScopes / requireAnyScope', () => {
  const { requireScopes, requireAnyScope } = createAuthorizer();
  const both = requireScopes('read:users', 'write:users');
  const either = requireAnyScope('read:users', 'admin');

  test('all: a space-separated string or an array holding every scope passes, in any order, among others', () => {
    passes(judgeSync(both, { scope: 'read:users write:users' }));
    passes(judgeSync(both, { scope: 'openid write:users profile read:users' }));
    passes(judgeSync(both, { scope: ['write:users', 'read:users'] }));
  });

  test('all: runs of spaces and leading / trailing spaces are only separators', () => {
    passes(judgeSync(both, { scope: '  read:users    write:users ' }));
  });

  test('all: one scope short, none, no claim, or a claim of another type → 403 insufficient_scope', () => {
    for (const scope of ['read:users', ['read:users'], '', [], 42, { 'read:users': true, 'write:users': true }, null]) {
      const error = refused(judgeSync(both, { scope }), 'insufficient_scope', JSON.stringify(scope));
      assert.equal(error.status, 403);
      assert.deepEqual(error.scopes, ['read:users', 'write:users']);
    }
    refused(judgeSync(both, {}), 'insufficient_scope', 'no scope claim');
  });

  test('scopes are whole tokens, case-sensitive: no prefix, suffix or substring matches', () => {
    for (const scope of ['read:users2 write:users', 'xread:users write:users', 'read:user write:users', 'READ:USERS write:users', 'read:userswrite:users', 'read:users,write:users']) {
      refused(judgeSync(both, { scope }), 'insufficient_scope', scope);
    }
    // The same scope at a later position still counts after a near miss earlier in the string.
    passes(judgeSync(both, { scope: 'read:users2 read:users write:users' }));
  });

  test('array elements must be the exact strings: non-strings and space-joined elements do not count', () => {
    refused(judgeSync(both, { scope: ['read:users write:users'] }), 'insufficient_scope');
    refused(judgeSync(both, { scope: ['read:users', 1, null] }), 'insufficient_scope');
  });

  test('any: one of the scopes is enough, as a string or an array; none → 403 listing all of them', () => {
    passes(judgeSync(either, { scope: 'admin' }));
    passes(judgeSync(either, { scope: ['profile', 'read:users'] }));
    const error = refused(judgeSync(either, { scope: 'profile write:users' }), 'insufficient_scope');
    assert.deepEqual(error.scopes, ['read:users', 'admin']);
    assert.match(error.message, /none of the scopes this route accepts: read:users, admin/);
  });

  test('the scope claim is only read from the payload itself, never its prototype', () => {
    const payload = Object.create({ scope: 'read:users write:users' }) as Record<string, unknown>;
    refused(judgeSync(both, payload), 'insufficient_scope');
  });

  test('no payload at all (undefined, null, a string, an array) → 401 token_missing, as the guard answers', () => {
    for (const payload of [undefined, null, 'read:users write:users', ['read:users', 'write:users']]) {
      const error = refused(judgeSync(both, payload), 'token_missing', String(payload));
      assert.equal(error.status, 401);
      assert.equal(error.message, 'No token was provided.');
    }
  });
});

describe('scopeClaim', () => {
  test('scp (Entra delegated, a string), permissions (Auth0, an array), roles (Entra app roles, an array)', () => {
    passes(judgeSync(createAuthorizer({ scopeClaim: 'scp' }).requireScopes('User.Read'), { scp: 'User.Read Mail.Send' }));
    passes(judgeSync(createAuthorizer({ scopeClaim: 'permissions' }).requireScopes('read:users'), { permissions: ['read:users'] }));
    passes(judgeSync(createAuthorizer({ scopeClaim: 'roles' }).requireAnyScope('Task.Write', 'Admin'), { roles: ['Admin'] }));
  });

  test('with another claim configured, `scope` is not read at all', () => {
    const { requireScopes } = createAuthorizer({ scopeClaim: 'permissions' });
    refused(judgeSync(requireScopes('read:users'), { scope: 'read:users' }), 'insufficient_scope');
  });

  test('any claim name, taken literally: a namespaced URL claim is one claim, not a path', () => {
    const { requireScopes } = createAuthorizer({ scopeClaim: 'https://example.com/permissions' });
    passes(judgeSync(requireScopes('read:users'), { 'https://example.com/permissions': ['read:users'] }));
    refused(judgeSync(requireScopes('read:users'), { 'https://example': { 'com/permissions': ['read:users'] } }), 'insufficient_scope');
  });

  test('several claims: their scopes together (Entra scp for delegated, roles for app-only tokens)', () => {
    const { requireScopes } = createAuthorizer({ scopeClaim: ['scp', 'roles'] });
    const rule = requireScopes('Files.Read', 'Files.Write');
    passes(judgeSync(rule, { scp: 'Files.Read Files.Write' }));
    passes(judgeSync(rule, { roles: ['Files.Read', 'Files.Write'] }));
    passes(judgeSync(rule, { scp: 'Files.Read', roles: ['Files.Write'] }));
    refused(judgeSync(rule, { scp: 'Files.Read', scope: 'Files.Write' }), 'insufficient_scope');
  });
});
