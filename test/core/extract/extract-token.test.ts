import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { extractToken } from '../../../src/index.js';

const secret = 's'.repeat(32);

describe('extractToken', () => {
  test('Authorization header: Bearer stripped case-insensitively; Node and Web headers alike', () => {
    const options = { secret };
    assert.equal(extractToken({ headers: { authorization: 'Bearer a.b.c' }, url: '/' }, options), 'a.b.c');
    assert.equal(extractToken({ headers: { authorization: 'bearer   a.b.c ' }, url: '/' }, options), 'a.b.c');
    assert.equal(extractToken({ headers: { authorization: 'BEARER a.b.c' }, url: '/' }, options), 'a.b.c');
    assert.equal(extractToken({ headers: new Headers({ Authorization: 'Bearer a.b.c' }), url: '/' }, options), 'a.b.c');
  });

  test('a header without a scheme is the bare token; another scheme carries none; empty is missing', () => {
    const options = { secret, header: 'X-Token' };
    assert.equal(extractToken({ headers: { 'x-token': 'a.b.c' }, url: '/' }, options), 'a.b.c');
    assert.equal(extractToken({ headers: { authorization: 'Basic abc' }, url: '/' }, { secret }), undefined);
    assert.equal(extractToken({ headers: { authorization: 'Bearer ' }, url: '/' }, { secret }), undefined);
    assert.equal(extractToken({ headers: { 'x-token': '' }, url: '/' }, options), undefined);
    assert.equal(extractToken({ headers: {}, url: '/' }, options), undefined);
  });

  test('query parameter, percent-decoded, from a path or an absolute URL', () => {
    const options = { secret, query: 'token' };
    assert.equal(extractToken({ headers: {}, url: '/api/me?x=1&token=a%2Eb.c' }, options), 'a.b.c');
    assert.equal(extractToken({ headers: {}, url: 'https://example.test/api/me?token=a.b.c#frag' }, options), 'a.b.c');
    assert.equal(extractToken({ headers: {}, url: '/api/me?token=' }, options), undefined);
    assert.equal(extractToken({ headers: {}, url: '/api/me' }, options), undefined);
  });

  test('cookie, parsed with the cookie package', () => {
    const options = { secret, cookie: 'jwt' };
    assert.equal(extractToken({ headers: { cookie: 'a=1; jwt=a.b.c; z=2' }, url: '/' }, options), 'a.b.c');
    assert.equal(extractToken({ headers: new Headers({ cookie: 'jwt=a.b.c' }), url: '/' }, options), 'a.b.c');
    assert.equal(extractToken({ headers: { cookie: 'jwt=' }, url: '/' }, options), undefined);
    assert.equal(extractToken({ headers: { cookie: 'jwtx=a.b.c' }, url: '/' }, options), undefined);
  });

  test('several sources: header, then cookie, then query; an empty one falls through', () => {
    const options = { secret, header: 'X-Token', cookie: 'jwt', query: 'token' };
    const url = '/?token=q.q.q';
    assert.equal(extractToken({ headers: { 'x-token': 'h.h.h', cookie: 'jwt=c.c.c' }, url }, options), 'h.h.h');
    assert.equal(extractToken({ headers: { 'x-token': '', cookie: 'jwt=c.c.c' }, url }, options), 'c.c.c');
    assert.equal(extractToken({ headers: { cookie: 'jwt=' }, url }, options), 'q.q.q');
  });
});
