import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createAuthorizer } from '../../../src/index.js';
import { judgeSync, passes, refused } from './support.js';

describe('requireClaims', () => {
  const { requireClaims } = createAuthorizer();

  test('equality: the claim must be present and equal to the value', () => {
    const rule = requireClaims({ role: 'admin' });
    passes(judgeSync(rule, { role: 'admin' }));
    for (const role of ['user', 'Admin', 'admin ', '']) refused(judgeSync(rule, { role }), 'claim_mismatch', role);
  });

  test('equality is strict: no coercion between strings, numbers and booleans', () => {
    const rule = requireClaims({ level: 3, verified: true });
    passes(judgeSync(rule, { level: 3, verified: true }));
    refused(judgeSync(rule, { level: '3', verified: true }), 'claim_mismatch');
    refused(judgeSync(rule, { level: 3, verified: 'true' }), 'claim_mismatch');
    refused(judgeSync(rule, { level: 3, verified: 1 }), 'claim_mismatch');
    refused(judgeSync(requireClaims({ enabled: false }), { enabled: 0 }), 'claim_mismatch');
    passes(judgeSync(requireClaims({ enabled: false }), { enabled: false }));
  });

  test('membership: with a list, the claim must be one of its values', () => {
    const rule = requireClaims({ tenant: ['acme', 'globex'] });
    passes(judgeSync(rule, { tenant: 'acme' }));
    passes(judgeSync(rule, { tenant: 'globex' }));
    refused(judgeSync(rule, { tenant: 'initech' }), 'claim_mismatch');
  });

  test('an array-valued claim must include the value (one of the values, with a list)', () => {
    passes(judgeSync(requireClaims({ groups: 'staff' }), { groups: ['users', 'staff'] }));
    refused(judgeSync(requireClaims({ groups: 'staff' }), { groups: ['users', 'staff-alumni'] }), 'claim_mismatch');
    refused(judgeSync(requireClaims({ groups: 'staff' }), { groups: [] }), 'claim_mismatch');
    passes(judgeSync(requireClaims({ groups: ['admins', 'staff'] }), { groups: ['users', 'staff'] }));
    refused(judgeSync(requireClaims({ groups: ['admins', 'staff'] }), { groups: ['users'] }), 'claim_mismatch');
    // Only elements count: an array claim never equals a list given as the expected value.
    refused(judgeSync(requireClaims({ groups: ['a', 'b'] }), { groups: [['a', 'b']] }), 'claim_mismatch');
  });

  test('an object claim never matches (claimCheck is for those)', () => {
    refused(judgeSync(requireClaims({ org: 'acme' }), { org: { id: 'acme' } }), 'claim_mismatch');
  });

  test('every named claim must hold: one failing claim refuses, naming it', () => {
    const rule = requireClaims({ role: 'admin', tenant: ['acme', 'globex'] });
    passes(judgeSync(rule, { role: 'admin', tenant: 'globex' }));
    const wrongTenant = refused(judgeSync(rule, { role: 'admin', tenant: 'initech' }), 'claim_mismatch');
    assert.equal(wrongTenant.claim, 'tenant');
    assert.equal(wrongTenant.status, 403);
    assert.equal(wrongTenant.message, "The token's tenant claim does not have a value this route accepts.");
    const wrongRole = refused(judgeSync(rule, { role: 'user', tenant: 'acme' }), 'claim_mismatch');
    assert.equal(wrongRole.claim, 'role');
  });

  test('a missing claim (absent, undefined, null) is refused with its own message', () => {
    const rule = requireClaims({ role: 'admin' });
    for (const payload of [{}, { role: undefined }, { role: null }]) {
      const error = refused(judgeSync(rule, payload), 'claim_mismatch');
      assert.equal(error.claim, 'role');
      assert.equal(error.message, 'The token has no role claim, which this route requires.');
    }
  });

  test('only the payload\'s own claims count: nothing from Object.prototype', () => {
    refused(judgeSync(requireClaims({ constructor: 'x' }), {}), 'claim_mismatch');
    refused(judgeSync(requireClaims({ toString: 'x' }), {}), 'claim_mismatch');
    const inherited = Object.create({ role: 'admin' }) as Record<string, unknown>;
    refused(judgeSync(requireClaims({ role: 'admin' }), inherited), 'claim_mismatch');
  });

  test('the list is copied when the rule is made: changing it afterwards changes nothing', () => {
    const tenants = ['acme'];
    const rule = requireClaims({ tenant: tenants });
    tenants.push('globex');
    refused(judgeSync(rule, { tenant: 'globex' }), 'claim_mismatch');
  });

  test('no payload → 401 token_missing', () => {
    refused(judgeSync(requireClaims({ role: 'admin' }), undefined), 'token_missing');
  });
});
