import assert from 'node:assert/strict';
import { JwtGuardError, type JwtGuardErrorCode } from '../../src/index.js';

/** Asserts the promise rejects with a JwtGuardError of exactly this code; returns the error. */
export async function rejectsWith(promise: Promise<unknown>, code: JwtGuardErrorCode): Promise<JwtGuardError> {
  let caught: unknown;
  await promise.then(
    () => assert.fail(`resolved, but ${code} was expected`),
    (error: unknown) => (caught = error),
  );
  assert.ok(caught instanceof JwtGuardError, `rejected with a non-JwtGuardError: ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  return caught;
}
