import { JwtGuardError } from '../../errors/jwt-guard-error.js';
import type { JwtGuardPayload } from '../../options/types.js';
import type { AuthorizationVerdict } from '../types.js';
import { authorizationFailed, invalid, Rule } from './rule.js';

/** @internal `claimCheck`: only `true` passes, `false` is a 403, anything else (a throw included) a 500. */
export function checkRule(check: unknown, description: unknown): Rule {
  if (typeof check !== 'function') throw invalid("claimCheck() takes a function of the payload first: claimCheck((payload) => payload.email_verified === true, 'a verified email').");
  if (typeof description !== 'string' || description.trim() === '') {
    throw invalid("claimCheck() needs a description of what it requires as its second argument, e.g. claimCheck(fn, 'a verified email'); it is sent to refused clients.");
  }
  const text = description.trim().replace(/\.$/, '');
  const message = `The token does not meet this route's requirement: ${text}.`;
  const judge = (answer: unknown): AuthorizationVerdict => {
    if (answer === true) return undefined;
    if (answer === false) return new JwtGuardError('claim_mismatch', message);
    return authorizationFailed(new TypeError(`claimCheck(${JSON.stringify(text)}) must return true or false (or a Promise of one); it returned ${answer === null ? 'null' : typeof answer}.`));
  };
  const fn = check as (payload: JwtGuardPayload) => unknown;
  return new Rule(`claimCheck(${JSON.stringify(text)})`, (payload) => {
    let answer: unknown;
    try {
      answer = fn(payload);
    } catch (error) {
      return authorizationFailed(error);
    }
    // A thenable of any kind (not only a native Promise) is awaited; a plain value is judged now.
    if (typeof answer === 'object' && answer !== null && typeof (answer as PromiseLike<unknown>).then === 'function') {
      return Promise.resolve(answer).then(judge, authorizationFailed);
    }
    return judge(answer);
  });
}
