import { JwtGuardError } from '../../errors/jwt-guard-error.js';
import { isPlainObject } from './session-claims.js';
import { REFRESH_TOKEN_LENGTH, REFRESH_TOKEN_PATTERN } from './refresh-token.js';

function invalidRequest(problem: string): JwtGuardError {
  return new JwtGuardError('invalid_request', `The refresh request ${problem}; send a JSON body {"refreshToken": "<the refresh token>"}.`);
}

/**
 * @internal The refresh token in a refresh request's parsed body, or a 400 `invalid_request` that
 * says what is wrong. Messages never quote the value: it may be a real token sent wrongly.
 */
export function refreshTokenFrom(body: unknown): string {
  if (!isPlainObject(body)) {
    const what = body === null ? 'null' : Array.isArray(body) ? 'an array' : typeof body === 'object' ? 'not a plain JSON object' : `a ${typeof body}`;
    throw invalidRequest(`body is ${what}, not a JSON object`);
  }
  if (!Object.hasOwn(body, 'refreshToken')) throw invalidRequest('body has no "refreshToken"');
  const token = body.refreshToken;
  if (typeof token !== 'string') throw invalidRequest(`"refreshToken" is ${token === null ? 'null' : Array.isArray(token) ? 'an array' : `a ${typeof token}`}, not a string`);
  if (token.length !== REFRESH_TOKEN_LENGTH) throw invalidRequest(`"refreshToken" is ${token.length} characters long, not ${REFRESH_TOKEN_LENGTH}`);
  if (!REFRESH_TOKEN_PATTERN.test(token)) throw invalidRequest('"refreshToken" has characters outside base64url (A-Z a-z 0-9 - _)');
  return token;
}
