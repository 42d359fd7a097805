import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createAuthorizer, type JwtGuardPayload } from '../../../src/index.js';
import { judge, judgeSync, passes, refused } from './support.js';

describe('claimCheck', () => {
  const { claimCheck } = createAuthorizer();
  const verified = (payload: JwtGuardPayload): boolean => payload.email_verified === true;

  test('sync: true passes, false → 403 claim_mismatch whose message ends with the description', () => {
    const rule = claimCheck(verified, 'a verified email');
    passes(judgeSync(rule, { email_verified: true }));
    const error = refused(judgeSync(rule, { email_verified: false }), 'claim_mismatch');
    assert.equal(error.status, 403);
    assert.equal(error.message, "The token does not meet this route's requirement: a verified email.");
  });

  test('async: a resolved true passes, a resolved false → 403', async () => {
    const rule = claimCheck(async (payload) => {
      await new Promise((resolve) => setImmediate(resolve));
      return verified(payload);
    }, 'a verified email');
    const pending = rule.evaluate({ email_verified: true });
    assert.ok(pending instanceof Promise);
    passes(await pending);
    refused(await judge(rule, { email_verified: false }), 'claim_mismatch');
  });

  test('the function gets the payload itself', () => {
    const payload = { sub: 'alice' };
    let seen: unknown;
    passes(judgeSync(claimCheck((p) => ((seen = p), true), 'anything'), payload));
    assert.equal(seen, payload);
  });

  test('a throw → 500 authorization_failed, never a pass; the thrown error is the cause, not the message', () => {
    const thrown = new Error('policy store down at 10.0.0.5');
    const error = refused(judgeSync(claimCheck(() => { throw thrown; }, 'a policy'), {}), 'authorization_failed');
    assert.equal(error.status, 500);
    assert.equal(error.cause, thrown);
    assert.doesNotMatch(error.message, /policy store|10\.0\.0\.5/);
  });

  test('a rejection → 500 authorization_failed, never a pass', async () => {
    const thrown = new Error('timeout');
    const error = refused(await judge(claimCheck(async () => { throw thrown; }, 'a policy'), {}), 'authorization_failed');
    assert.equal(error.cause, thrown);
    refused(await judge(claimCheck(() => Promise.reject(undefined), 'a policy'), {}), 'authorization_failed');
  });

  test('anything but a boolean (truthy or not, sync or async) → 500, never a pass', async () => {
    for (const answer of [1, 'yes', 'true', {}, [], undefined, null, 0, '']) {
      const error = refused(judgeSync(claimCheck(() => answer as boolean, 'x'), {}), 'authorization_failed', JSON.stringify(answer));
      assert.ok(error.cause instanceof TypeError);
      assert.match((error.cause as Error).message, /must return true or false/);
      refused(await judge(claimCheck(async () => answer as boolean, 'x'), {}), 'authorization_failed', `async ${JSON.stringify(answer)}`);
    }
  });

  test('a thenable that is not a native Promise is awaited too', async () => {
    const thenable = { then: (resolve: (value: boolean) => void) => resolve(true) } as unknown as Promise<boolean>;
    passes(await judge(claimCheck(() => thenable, 'x'), {}));
  });

  test('a check that mutates the frozen payload throws, and is refused with a 500', () => {
    const payload = Object.freeze({ role: 'user' });
    refused(judgeSync(claimCheck((p) => ((p.role = 'admin'), true), 'x'), payload), 'authorization_failed');
  });

  test('no payload → 401 token_missing, without calling the function', () => {
    let called = false;
    refused(judgeSync(claimCheck(() => (called = true), 'x'), undefined), 'token_missing');
    assert.equal(called, false);
  });
});
