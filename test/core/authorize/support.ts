import assert from 'node:assert/strict';
import { JwtGuardError, type AuthorizationRule, type AuthorizationVerdict, type JwtGuardErrorCode } from '../../../src/index.js';

/** Evaluates a rule, asserting that a rule made only of synchronous parts answers synchronously. */
export function judgeSync(rule: AuthorizationRule, payload: unknown): AuthorizationVerdict {
  const verdict = rule.evaluate(payload);
  assert.ok(!(verdict instanceof Promise), `${rule.description} should answer synchronously`);
  return verdict;
}

export async function judge(rule: AuthorizationRule, payload: unknown): Promise<AuthorizationVerdict> {
  return rule.evaluate(payload);
}

export function passes(verdict: AuthorizationVerdict, why = ''): void {
  assert.equal(verdict, undefined, `expected a pass${why ? ` (${why})` : ''}, got ${verdict?.code}: ${verdict?.message}`);
}

export function refused(verdict: AuthorizationVerdict, code: JwtGuardErrorCode, why = ''): JwtGuardError {
  assert.ok(verdict instanceof JwtGuardError, `expected ${code}${why ? ` (${why})` : ''}, got a pass`);
  assert.equal(verdict.code, code, verdict.message);
  return verdict;
}

/** Asserts that `make` throws `invalid_options` with a message matching `message`. */
export function invalidOptions(make: () => unknown, message: RegExp): void {
  assert.throws(make, (error: unknown) => {
    assert.ok(error instanceof JwtGuardError);
    assert.equal(error.code, 'invalid_options');
    assert.match(error.message, message);
    return true;
  });
}
