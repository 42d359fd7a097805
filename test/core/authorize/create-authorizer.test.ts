import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createAuthorizer, errorResponse, JwtGuardError, type AuthorizationRule } from '../../../src/index.js';
import { invalidOptions } from './support.js';

/** Lets tests pass what TypeScript would refuse, as JavaScript callers can. */
const loose = <T>(value: unknown): T => value as T;

describe('createAuthorizer: options are validated once, with messages that say what to change', () => {
  test('defaults: scope claim "scope"', () => {
    assert.equal(createAuthorizer().requireScopes('a').evaluate({ scope: 'a' }), undefined);
    assert.equal(createAuthorizer({}).requireScopes('a').evaluate({ scope: 'a' }), undefined);
  });

  test('scopeClaim must be a claim name or a non-empty list of them', () => {
    for (const scopeClaim of ['', [], [''], ['scp', 3], 3, null, { name: 'scp' }]) {
      invalidOptions(() => createAuthorizer(loose({ scopeClaim })), /`scopeClaim` must be a claim name such as 'scope', 'scp', 'permissions' or 'roles'/);
    }
  });

  test('forwardErrors must be a boolean', () => {
    invalidOptions(() => createAuthorizer(loose({ forwardErrors: 'yes' })), /`forwardErrors` of authorize\(\) must be true or false/);
  });

  test('an unknown option is refused, naming the known ones (a typo, or the guard\'s options passed here)', () => {
    invalidOptions(() => createAuthorizer(loose({ scopeClaims: 'scp' })), /no option `scopeClaims`; its options are `scopeClaim` and `forwardErrors`/);
    invalidOptions(() => createAuthorizer(loose({ secret: 'x' })), /no option `secret`.*jwtGuard\(\)/);
  });

  test('options that are not an object', () => {
    for (const options of [null, 'scp', ['scp']]) invalidOptions(() => createAuthorizer(loose(options)), /takes an options object/);
  });
});

describe('arguments are validated when a rule is made', () => {
  const { requireScopes, requireAnyScope, requireClaims, claimCheck, anyOf, allOf } = createAuthorizer();

  test('requireScopes / requireAnyScope: at least one scope', () => {
    invalidOptions(() => loose<() => unknown>(requireScopes)(), /requireScopes\(\) needs at least one scope/);
    invalidOptions(() => loose<() => unknown>(requireAnyScope)(), /requireAnyScope\(\) needs at least one scope/);
  });

  test('a scope with whitespace is refused, with the call to write instead', () => {
    invalidOptions(() => requireScopes('read:users write:users'), /contains whitespace.*requireScopes\('read:users', 'write:users'\)/);
    invalidOptions(() => requireAnyScope('a\tb'), /contains whitespace/);
  });

  test('an array instead of separate arguments', () => {
    invalidOptions(() => requireScopes(loose(['a', 'b'])), /separate arguments, not an array: requireScopes\(\.\.\.scopes\)/);
  });

  test('empty or non-string scopes', () => {
    invalidOptions(() => requireScopes(''), /scope 1 is an empty string/);
    invalidOptions(() => requireScopes('a', loose(3)), /scope 2 is number/);
  });

  test('characters outside RFC 6749 scope tokens (quotes, backslashes, non-ASCII) point to requireClaims', () => {
    for (const scope of ['say"hi', 'back\\slash', 'Админ', 'naïve']) invalidOptions(() => requireScopes(scope), /not a scope token.*requireClaims/);
  });

  test('requireClaims: an object with at least one claim', () => {
    invalidOptions(() => requireClaims({}), /requireClaims\(\{\}\) requires nothing/);
    for (const claims of [null, 'admin', ['role']]) invalidOptions(() => requireClaims(loose(claims)), /takes an object of claim names to values/);
  });

  test('requireClaims: values are strings, finite numbers, booleans, or non-empty lists of them', () => {
    invalidOptions(() => requireClaims({ tenant: [] }), /list for "tenant" is empty/);
    invalidOptions(() => requireClaims({ org: loose({ id: 1 }) }), /"org" is given object.*claimCheck/);
    invalidOptions(() => requireClaims({ role: loose(null) }), /"role" is given null/);
    invalidOptions(() => requireClaims({ role: loose(undefined) }), /"role" is given undefined/);
    invalidOptions(() => requireClaims({ level: NaN }), /"level" is given NaN/);
    invalidOptions(() => requireClaims({ level: Infinity }), /"level" is given Infinity/);
    invalidOptions(() => requireClaims({ tenant: loose([['a']]) }), /"tenant" is given a nested list/);
  });

  test('claimCheck: a function and a description', () => {
    invalidOptions(() => claimCheck(loose('payload.admin'), 'admins'), /takes a function of the payload first/);
    invalidOptions(() => loose<(f: unknown) => unknown>(claimCheck)(() => true), /needs a description/);
    invalidOptions(() => claimCheck(() => true, '  '), /needs a description/);
  });

  test('anyOf / allOf: at least one rule, and only jwtguard rules', () => {
    invalidOptions(() => loose<() => unknown>(anyOf)(), /anyOf\(\) needs at least one route guard/);
    invalidOptions(() => loose<() => unknown>(allOf)(), /allOf\(\) needs at least one route guard/);
    const middleware = (_req: unknown, _res: unknown, next: () => void) => next();
    invalidOptions(() => anyOf(requireScopes('a'), loose(middleware)), /argument 2 is a function that is not a jwtguard route guard \(a plain middleware\?\)/);
    const lookalike: AuthorizationRule = { description: 'fake', evaluate: () => undefined };
    invalidOptions(() => allOf(lookalike), /argument 1 is object/);
  });

  test('rules are frozen', () => {
    const rule = requireScopes('a');
    assert.ok(Object.isFrozen(rule));
    assert.throws(() => Object.assign(rule, { evaluate: () => undefined }), TypeError);
  });
});

describe('failure responses', () => {
  const { requireScopes, requireAnyScope, requireClaims, claimCheck } = createAuthorizer();

  function response(rule: AuthorizationRule, payload: unknown) {
    const verdict = rule.evaluate(payload);
    assert.ok(verdict instanceof JwtGuardError);
    return errorResponse(verdict);
  }

  test('insufficient_scope: 403 JSON, no-store, RFC 6750 §3.1 challenge with the required scopes', () => {
    const { status, headers, body } = response(requireScopes('read:users', 'write:users'), { scope: 'read:users' });
    assert.equal(status, 403);
    assert.equal(headers['cache-control'], 'no-store');
    assert.match(headers['content-type'] ?? '', /^application\/json/);
    assert.equal(headers['www-authenticate'], 'Bearer error="insufficient_scope", error_description="The token lacks a scope this route requires; it requires all of: read:users, write:users.", scope="read:users write:users"');
    assert.deepEqual(JSON.parse(body), { error: 'insufficient_scope', message: 'The token lacks a scope this route requires; it requires all of: read:users, write:users.' });
  });

  test('responses are shared by message, so each scope list keeps its own challenge', () => {
    const one = response(requireScopes('a'), {});
    const other = response(requireScopes('b'), {});
    assert.match(one.headers['www-authenticate'] ?? '', /scope="a"$/);
    assert.match(other.headers['www-authenticate'] ?? '', /scope="b"$/);
    assert.match(response(requireAnyScope('a', 'b'), {}).headers['www-authenticate'] ?? '', /scope="a b"$/);
    assert.match(response(requireScopes('a'), {}).headers['www-authenticate'] ?? '', /scope="a"$/);
  });

  test('claim_mismatch: 403 with an insufficient_scope challenge and no scope attribute', () => {
    const { status, headers, body } = response(requireClaims({ role: 'admin' }), { role: 'user' });
    assert.equal(status, 403);
    assert.equal(headers['www-authenticate'], 'Bearer error="insufficient_scope", error_description="The token\'s role claim does not have a value this route accepts."');
    assert.equal(JSON.parse(body).error, 'claim_mismatch');
  });

  test('a description outside printable ASCII stays whole in the body and is made header-safe in the challenge', () => {
    const { headers, body } = response(claimCheck(() => false, 'adresse e-mail vérifiée "v2"\n'), {});
    assert.equal(JSON.parse(body).message, "The token does not meet this route's requirement: adresse e-mail vérifiée \"v2\".");
    assert.equal(headers['www-authenticate'], 'Bearer error="insufficient_scope", error_description="The token does not meet this route\'s requirement: adresse e-mail v?rifi?e \'v2\'."');
  });

  test('authorization_failed: 500 JSON, no-store, no challenge, nothing of the thrown error', () => {
    const { status, headers, body } = response(claimCheck(() => { throw new Error('db at 10.0.0.5'); }, 'x'), {});
    assert.equal(status, 500);
    assert.equal(headers['cache-control'], 'no-store');
    assert.equal(headers['www-authenticate'], undefined);
    assert.deepEqual(JSON.parse(body), { error: 'authorization_failed', message: 'The authorization check failed.' });
  });

  test('token_missing: the guard\'s own 401 with a bare Bearer challenge', () => {
    const { status, headers } = response(requireScopes('a'), undefined);
    assert.equal(status, 401);
    assert.equal(headers['www-authenticate'], 'Bearer');
  });

  test('403 refusals carry no stack trace (an expected outcome), 500s keep theirs', () => {
    const refusal = requireScopes('a').evaluate({}) as JwtGuardError;
    assert.doesNotMatch(refusal.stack ?? '', /\n\s+at /);
    const failure = claimCheck(() => { throw new Error('x'); }, 'x').evaluate({}) as JwtGuardError;
    assert.match(failure.stack ?? '', /\n\s+at /);
  });
});
