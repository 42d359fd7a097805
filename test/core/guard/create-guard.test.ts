import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createGuard, errorResponse, JwtGuardError } from '../../../src/index.js';
import { hmacToken, STRONG_SECRET } from '../../support/tokens.js';

describe('createGuard', () => {
  const guard = createGuard({ secret: STRONG_SECRET, authPath: '/api/auth/login' });

  test('action: authMethods (POST) on the exact routed path mint; anything else verifies', () => {
    const req = (path: string | undefined, method = 'POST') => guard.action({ method, path, url: '/', headers: {} });
    assert.equal(req('/api/auth/login'), 'mint');
    assert.equal(req('/api/auth/login/x'), 'verify');
    assert.equal(req('/api/auth/login/'), 'verify');
    assert.equal(req('/api/auth/loginx'), 'verify');
    assert.equal(req('/API/AUTH/LOGIN'), 'verify');
    assert.equal(req('/api/me'), 'verify');
    assert.equal(req(undefined), 'verify', 'a request the framework routes nowhere is never minted');
    for (const method of ['GET', 'HEAD', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) assert.equal(req('/api/auth/login', method), 'verify', method);
    const both = createGuard({ secret: STRONG_SECRET, authPath: '/login', authMethods: ['post', 'PUT'] });
    assert.equal(both.action({ method: 'PUT', path: '/login', url: '/', headers: {} }), 'mint');
    assert.equal(both.action({ method: 'GET', path: '/login', url: '/', headers: {} }), 'verify');
  });

  test('action: the decision is on the routed path alone, never on the request target', () => {
    // The framework routed `GET http://x?/api/auth/login` to `/`: the target must not matter.
    const absolute = { method: 'POST', path: '/', url: 'http://x?/api/auth/login', headers: {} };
    assert.equal(guard.action(absolute), 'verify');
    const publicGuard = createGuard({ secret: STRONG_SECRET, publicPaths: ['/health'] });
    assert.equal(publicGuard.action({ method: 'GET', path: '/', url: 'http://x?/health', headers: {} }), 'verify');
    assert.equal(publicGuard.action({ method: 'GET', path: '/health', url: 'http://x/health', headers: {} }), 'pass');
  });

  test('authMethods: unusable values fail at construction', () => {
    for (const authMethods of [[], ['PO ST'], 'POST', [1], ['OPTIONS']]) {
      assert.throws(() => createGuard({ secret: STRONG_SECRET, authPath: '/login', authMethods: authMethods as string[] }), (e: unknown) => e instanceof JwtGuardError && e.code === 'invalid_options');
    }
  });

  test('action: a CORS preflight (Origin + Access-Control-Request-Method) passes, also on the auth path; without Origin it verifies; guardPreflight verifies it', () => {
    const preflight = { method: 'OPTIONS', path: '/api/me', url: '/api/me', headers: { origin: 'https://app.test', 'access-control-request-method': 'GET' } };
    assert.equal(guard.action(preflight), 'pass');
    assert.equal(guard.action({ ...preflight, path: '/api/auth/login' }), 'pass', 'a preflight to the auth path is never minted');
    assert.equal(guard.action({ ...preflight, headers: new Headers({ Origin: 'https://app.test', 'Access-Control-Request-Method': 'GET' }) }), 'pass');
    assert.equal(guard.action({ ...preflight, headers: { 'access-control-request-method': 'GET' } }), 'verify', 'no Origin: not a preflight');
    assert.equal(guard.action({ ...preflight, headers: new Headers({ 'Access-Control-Request-Method': 'GET' }) }), 'verify');
    assert.equal(guard.action({ ...preflight, headers: { origin: 'https://app.test' } }), 'verify');
    assert.equal(guard.action({ ...preflight, method: 'GET' }), 'verify');
    assert.equal(createGuard({ secret: STRONG_SECRET, guardPreflight: true }).action(preflight), 'verify');
  });

  test('authenticate: success carries payload and token; failure carries a ready 401 response', async () => {
    const token = await hmacToken({ sub: 'u' });
    const ok = await guard.authenticate({ headers: { authorization: `Bearer ${token}` }, url: '/' });
    assert.equal(ok.ok, true);
    assert.equal(ok.ok && ok.payload?.sub, 'u');
    const bad = await guard.authenticate({ headers: {}, url: '/' });
    assert.equal(bad.ok, false);
    if (!bad.ok) {
      assert.equal(bad.error.code, 'token_missing');
      assert.equal(bad.response.status, 401);
      assert.equal(bad.response.headers['www-authenticate'], 'Bearer');
    }
  });

  test('errorResponse: RFC 6750 challenge, JSON body, exact length, no quotes breaking the header', () => {
    const response = errorResponse(new JwtGuardError('claim_invalid', 'The "aud" claim is invalid.', { claim: 'aud' }));
    assert.equal(response.status, 401);
    assert.equal(response.headers['www-authenticate'], `Bearer error="invalid_token", error_description="The 'aud' claim is invalid."`);
    assert.deepEqual(JSON.parse(response.body), { error: 'claim_invalid', message: 'The "aud" claim is invalid.' });
    assert.equal(response.headers['content-length'], String(Buffer.byteLength(response.body)));
    const serverError = errorResponse(new JwtGuardError('mint_body_invalid', 'x'));
    assert.equal(serverError.status, 500);
    assert.equal(serverError.headers['www-authenticate'], undefined);
  });

  test('errorResponse: one frozen response per code and message, never another code\'s', () => {
    const forged = errorResponse(new JwtGuardError('signature_invalid', 'The token signature is invalid.'));
    assert.equal(errorResponse(new JwtGuardError('signature_invalid', 'The token signature is invalid.')), forged, 'reused');
    assert.ok(Object.isFrozen(forged) && Object.isFrozen(forged.headers));
    const sameMessage = errorResponse(new JwtGuardError('token_missing', 'The token signature is invalid.'));
    assert.equal(JSON.parse(sameMessage.body).error, 'token_missing', 'a message shared by two codes yields each code\'s own response');
    assert.equal(sameMessage.headers['www-authenticate'], 'Bearer');
    const other = errorResponse(new JwtGuardError('signature_invalid', 'Another message.'));
    assert.equal(JSON.parse(other.body).message, 'Another message.');
    for (let i = 0; i < 200; i++) errorResponse(new JwtGuardError('token_malformed', `message ${i}`));
    assert.equal(JSON.parse(errorResponse(new JwtGuardError('token_malformed', 'message 7')).body).message, 'message 7', 'still right after the memo was cleared');
  });
});
