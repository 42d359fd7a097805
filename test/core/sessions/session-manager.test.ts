// The session engine against memoryStore(), with an injected clock: logins, rotation, the grace
// for concurrent refreshes, reuse detection, idle and absolute expiry, reload, logout and
// revocation, bad request bodies, store failures, and the encrypted grace answer.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { JwtGuardError, memoryStore, normalizeOptions, verifyToken, type JwtGuardOptions, type RotateInput, type TokenStore } from '../../../src/index.js';
import { openAnswer, sealAnswer } from '../../../src/core/sessions/internal/grace-answer.js';
import { createSessionManager, type SessionManager, type SessionSettings, type TokenPair } from '../../../src/core/sessions/session-manager.js';
import { rejectsWith } from '../../support/assertions.js';
import { decodePayload, STRONG_SECRET } from '../../support/tokens.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
const ACCESS_SECONDS = 15 * 60;
const OPTIONS: JwtGuardOptions = { secret: STRONG_SECRET, authPath: '/api/auth/login', expiresIn: '15m' };
const REFRESH_TOKEN = /^[A-Za-z0-9_-]{43}$/;

const hashOf = (token: string): string => createHash('sha256').update(token).digest('base64url');

/** A clock the test moves; starts at the real time so that signed tokens also verify for real. */
class Clock {
  t = Date.now();
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

interface Setup {
  readonly sessions: SessionManager;
  readonly store: TokenStore;
  readonly clock: Clock;
}

async function setup(settings: Partial<SessionSettings> = {}, options: JwtGuardOptions = OPTIONS): Promise<Setup> {
  const clock = new Clock();
  const store = settings.store ?? memoryStore();
  const sessions = createSessionManager(
    { store, sessionLifetimeMs: 30 * DAY, idleTimeoutMs: undefined, reuseIntervalMs: 10_000, reload: undefined, maxStalenessMs: 30_000, now: clock.now, ...settings },
    normalizeOptions({ ...options }),
  );
  await sessions.open();
  return { sessions, store, clock };
}

/** The verdict of check() for a token, awaited: undefined (passes) or the error code. */
async function verdict(sessions: SessionManager, token: string): Promise<string | undefined> {
  const error = await sessions.check(decodePayload(token));
  return error?.code;
}

/** Asserts a rejection with `code` whose message shows none of `secrets`. */
async function refused(promise: Promise<unknown>, code: Parameters<typeof rejectsWith>[1], secrets: readonly string[] = []): Promise<JwtGuardError> {
  const error = await rejectsWith(promise, code);
  for (const secret of secrets) assert.ok(!error.message.includes(secret), `the message shows a token: ${error.message}`);
  return error;
}

/**
 * memoryStore wrapped to record every argument the engine hands it, and to let a test break or
 * alter calls.
 */
function recordingStore(inner: TokenStore = memoryStore()) {
  const calls: Array<{ method: string; args: unknown[] }> = [];
  const faults: Partial<Record<keyof TokenStore, () => unknown>> = {};
  const alter: { rotate?: (input: RotateInput) => RotateInput } = {};
  const store: TokenStore = {
    createSession: (...args) => call('createSession', args, () => inner.createSession(...args)),
    findRefresh: (...args) => call('findRefresh', args, () => inner.findRefresh(...args)),
    rotate: (input) => call('rotate', [input], () => inner.rotate(alter.rotate?.(input) ?? input)),
    endSession: (...args) => call('endSession', args, () => inner.endSession(...args)),
    revokeSubject: (...args) => call('revokeSubject', args, () => inner.revokeSubject(...args)),
    revocations: (...args) => call('revocations', args, () => inner.revocations(...args)),
    subscribe: (listener) => inner.subscribe(listener),
  };
  function call<T>(method: keyof TokenStore, args: unknown[], run: () => Promise<T>): Promise<T> {
    calls.push({ method, args });
    const fault = faults[method];
    if (fault !== undefined) return Promise.reject(fault());
    return run();
  }
  return { store, calls, faults, alter };
}

describe('sessions: login (start)', () => {
  test('answers { token, refreshToken, expiresIn }: a 43-character refresh token, an access token with sid and jti that verifies', async () => {
    const { sessions } = await setup();
    const pair = await sessions.start({ sub: 'user-1', role: 'admin' });
    assert.deepEqual(Object.keys(pair).sort(), ['expiresIn', 'refreshToken', 'token']);
    assert.match(pair.refreshToken, REFRESH_TOKEN);
    assert.equal(pair.expiresIn, ACCESS_SECONDS);
    const claims = decodePayload(pair.token);
    assert.match(claims.sid as string, /^[A-Za-z0-9_-]{22}$/, '16 random bytes');
    assert.match(claims.jti as string, /^[0-9a-f-]{36}$/);
    assert.equal(claims.sub, 'user-1');
    assert.equal(claims.role, 'admin');
    assert.equal((claims.exp as number) - (claims.iat as number), ACCESS_SECONDS);
    const verified = await verifyToken(pair.token, OPTIONS);
    assert.equal(verified.sid, claims.sid);
    assert.equal(await verdict(sessions, pair.token), undefined);
    // Two logins: two sessions, two refresh tokens.
    const other = await sessions.start({ sub: 'user-1' });
    assert.notEqual(decodePayload(other.token).sid, claims.sid);
    assert.notEqual(other.refreshToken, pair.refreshToken);
  });

  test('exp: never past iat + expiresIn (even when the payload asks for more), the payload\'s own exp when sooner, never past the session', async () => {
    const { sessions, clock } = await setup({ sessionLifetimeMs: 10 * MINUTE });
    const iat = Math.floor(clock.t / 1000);
    const late = decodePayload((await sessions.start({ sub: 'a', exp: iat + 3600 })).token);
    assert.ok((late.exp as number) <= (late.iat as number) + ACCESS_SECONDS);
    const soon = await sessions.start({ sub: 'a', exp: iat + 60 });
    assert.equal(decodePayload(soon.token).exp, iat + 60);
    assert.equal(soon.expiresIn, 60);
    // A 10-minute session: its first access token ends with it, not 15 minutes later.
    const short = await sessions.start({ sub: 'a' });
    assert.equal(decodePayload(short.token).exp, Math.floor((clock.t + 10 * MINUTE) / 1000));
    assert.equal(short.expiresIn, 600);
  });

  test('the login payload\'s iat, nbf, jti and sid are replaced; other claims kept, a number sub included', async () => {
    const { sessions, clock } = await setup();
    const pair = await sessions.start({ sub: 42, iat: 1, nbf: 2, jti: 'mine', sid: 'forged', nested: { a: [1, 'ü'] } });
    const claims = decodePayload(pair.token);
    assert.equal(claims.sub, 42);
    assert.deepEqual(claims.nested, { a: [1, 'ü'] });
    assert.equal(claims.iat, Math.floor(clock.t / 1000));
    assert.equal(claims.nbf, undefined);
    assert.notEqual(claims.jti, 'mine');
    assert.notEqual(claims.sid, 'forged');
  });

  test('the store is handed hashes only: no refresh token or access token in anything it receives', async () => {
    const { store, calls } = recordingStore();
    const { sessions } = await setup({ store });
    const first = await sessions.start({ sub: 'user-1' });
    const second = await sessions.refresh({ refreshToken: first.refreshToken });
    const third = await sessions.refresh({ refreshToken: second.refreshToken });
    await sessions.refresh({ refreshToken: second.refreshToken }); // grace
    const secrets = [first, second, third].flatMap((pair) => [pair.refreshToken, pair.token, pair.token.split('.')[2] as string]);
    const seen = JSON.stringify(calls);
    for (const secret of secrets) assert.ok(!seen.includes(secret), 'a token reached the store');
    // Only the hash finds a session; the token itself is no key.
    assert.ok(await store.findRefresh(hashOf(third.refreshToken), Date.now()));
    assert.equal(await store.findRefresh(third.refreshToken, Date.now()), undefined);
    const created = calls.find((c) => c.method === 'createSession')?.args;
    assert.equal(created?.[1], hashOf(first.refreshToken));
    assert.deepEqual(JSON.parse((created?.[0] as { claims: string }).claims), { sub: 'user-1' });
  });

  test('a store that rejects: the error propagates as session_store_unavailable, and nothing is left behind', async () => {
    const { store, faults, calls } = recordingStore();
    const { sessions } = await setup({ store });
    faults.createSession = () => new Error('ECONNREFUSED');
    const error = await refused(sessions.start({ sub: 'user-1' }), 'session_store_unavailable');
    assert.equal(error.status, 503);
    assert.equal((error.cause as Error).message, 'ECONNREFUSED');
    faults.createSession = () => new JwtGuardError('session_store_unavailable', 'Redis is down.');
    assert.equal((await refused(sessions.start({ sub: 'user-1' }), 'session_store_unavailable')).message, 'Redis is down.');
    const hash = calls.at(-1)?.args[1] as string;
    assert.equal(await store.findRefresh(hash, Date.now()), undefined);
  });

  test('a payload that cannot be signed, or a token over maxTokenLength, writes no session', async () => {
    const { store, calls } = recordingStore();
    const { sessions } = await setup({ store });
    await refused(sessions.start({ sub: 'a', exp: 'tomorrow' }), 'sign_failed');
    await refused(sessions.start({ sub: 'a', big: 1n } as Record<string, unknown>), 'sign_failed');
    await refused(sessions.start({ sub: 'a', filler: 'x'.repeat(9000) }), 'mint_body_invalid');
    assert.equal(calls.filter((c) => c.method === 'createSession').length, 0);
  });
});

describe('sessions: refresh', () => {
  test('a new pair for the same session; the presented token is used up and its successor works', async () => {
    const { sessions, store, clock } = await setup();
    const login = await sessions.start({ sub: 'user-1', role: 'admin' });
    clock.advance(5 * MINUTE);
    const next = await sessions.refresh({ refreshToken: login.refreshToken });
    assert.match(next.refreshToken, REFRESH_TOKEN);
    assert.notEqual(next.refreshToken, login.refreshToken);
    assert.equal(next.expiresIn, ACCESS_SECONDS);
    const before = decodePayload(login.token);
    const after = decodePayload(next.token);
    assert.equal(after.sid, before.sid);
    assert.notEqual(after.jti, before.jti);
    assert.equal(after.role, 'admin');
    assert.equal(after.iat, Math.floor(clock.t / 1000));
    const used = await store.findRefresh(hashOf(login.refreshToken), clock.t);
    assert.equal(used?.token.usedAt, clock.t);
    assert.equal(used?.token.child, hashOf(next.refreshToken));
    await verifyToken(next.token, OPTIONS);
    const third = await sessions.refresh({ refreshToken: next.refreshToken });
    assert.equal(decodePayload(third.token).sid, before.sid);
  });

  test('unknown refresh token → 401 refresh_token_invalid, message without the token', async () => {
    const { sessions } = await setup();
    const unknown = 'A'.repeat(43);
    const error = await refused(sessions.refresh({ refreshToken: unknown }), 'refresh_token_invalid', [unknown]);
    assert.equal(error.status, 401);
  });

  test('grace: the same token again within reuseInterval gets the very same pair (byte-equal), without signing again', async () => {
    let reloads = 0;
    const { sessions, clock, store } = await setup({ reload: (claims) => (reloads++, claims) });
    const login = await sessions.start({ sub: 'user-1' });
    const first = await sessions.refresh({ refreshToken: login.refreshToken });
    clock.advance(9_000);
    const again = await sessions.refresh({ refreshToken: login.refreshToken });
    assert.equal(JSON.stringify(again), JSON.stringify(first));
    assert.equal(reloads, 1, 'the retry reused the kept answer');
    // The session still has one live refresh token: the one both answers carry.
    assert.equal((await store.findRefresh(hashOf(first.refreshToken), clock.t))?.token.usedAt, undefined);
    const next = await sessions.refresh({ refreshToken: first.refreshToken });
    assert.equal(decodePayload(next.token).sid, decodePayload(login.token).sid);
  });

  test('after the grace window, the used token is reuse: the session ends and all its access tokens are refused', async () => {
    const { sessions, clock } = await setup();
    const login = await sessions.start({ sub: 'user-1' });
    const first = await sessions.refresh({ refreshToken: login.refreshToken });
    clock.advance(10_001);
    const error = await refused(sessions.refresh({ refreshToken: login.refreshToken }), 'refresh_token_reused', [login.refreshToken]);
    assert.equal(error.status, 401);
    await refused(sessions.refresh({ refreshToken: first.refreshToken }), 'refresh_token_invalid');
    assert.equal(await verdict(sessions, login.token), 'token_revoked');
    assert.equal(await verdict(sessions, first.token), 'token_revoked');
  });

  test('grace off (reuseInterval 0): the same token twice is reuse at once', async () => {
    const { sessions } = await setup({ reuseIntervalMs: 0 });
    const login = await sessions.start({ sub: 'user-1' });
    const first = await sessions.refresh({ refreshToken: login.refreshToken });
    await refused(sessions.refresh({ refreshToken: login.refreshToken }), 'refresh_token_reused');
    await refused(sessions.refresh({ refreshToken: first.refreshToken }), 'refresh_token_invalid');
    assert.equal(await verdict(sessions, first.token), 'token_revoked');
  });

  test('a grandparent, even within the grace window → reused: the current token dies and the session\'s access tokens are refused; other sessions live on', async () => {
    const { sessions } = await setup();
    const login = await sessions.start({ sub: 'user-1' });
    const bystander = await sessions.start({ sub: 'user-1' });
    const second = await sessions.refresh({ refreshToken: login.refreshToken });
    const third = await sessions.refresh({ refreshToken: second.refreshToken });
    await refused(sessions.refresh({ refreshToken: login.refreshToken }), 'refresh_token_reused');
    await refused(sessions.refresh({ refreshToken: third.refreshToken }), 'refresh_token_invalid');
    for (const pair of [login, second, third]) assert.equal(await verdict(sessions, pair.token), 'token_revoked');
    assert.equal(await verdict(sessions, bystander.token), undefined);
    await sessions.refresh({ refreshToken: bystander.refreshToken });
  });

  test('reuse detected: this process refuses the session at once, even when the store\'s event never arrives', async () => {
    // A store whose subscription delivers nothing after the first resync (a Redis subscriber that lags).
    const inner = memoryStore();
    const silent: TokenStore = { ...bind(inner), subscribe: (listener) => inner.subscribe((event) => event.type === 'resync' && listener(event)) };
    const { sessions, clock } = await setup({ store: silent, reuseIntervalMs: 0 });
    const login = await sessions.start({ sub: 'user-1' });
    await sessions.refresh({ refreshToken: login.refreshToken });
    await refused(sessions.refresh({ refreshToken: login.refreshToken }), 'refresh_token_reused');
    assert.equal(await verdict(sessions, login.token), 'token_revoked');
    const other = await sessions.start({ sub: 'user-2' });
    await sessions.logout(decodePayload(other.token));
    assert.equal(await verdict(sessions, other.token), 'token_revoked');
    const third = await sessions.start({ sub: 'user-3' });
    // A second later: the subject rule (applied here at once) catches it. Within the same second
    // the store's per-session revocations do, which this store never delivers.
    clock.advance(1000);
    await sessions.revokeSubject('user-3');
    assert.equal(await verdict(sessions, third.token), 'token_revoked');
  });

  test('idle timeout: a token unused longer than idleTimeout is invalid, and so is its session from then on', async () => {
    const { sessions, clock } = await setup({ idleTimeoutMs: 7 * DAY });
    const login = await sessions.start({ sub: 'user-1' });
    clock.advance(7 * DAY); // exactly the limit: still fine
    const kept = await sessions.refresh({ refreshToken: login.refreshToken });
    clock.advance(7 * DAY + 1);
    await refused(sessions.refresh({ refreshToken: kept.refreshToken }), 'refresh_token_invalid');
    clock.advance(-2); // back within the limit: the session is gone all the same
    await refused(sessions.refresh({ refreshToken: kept.refreshToken }), 'refresh_token_invalid');
  });

  test('absolute expiry: rotation never extends a session; near its end, access tokens end with it', async () => {
    const { sessions, clock } = await setup({ sessionLifetimeMs: 60 * MINUTE });
    const start = clock.t;
    let pair = await sessions.start({ sub: 'user-1' });
    for (let i = 0; i < 5; i++) {
      clock.advance(10 * MINUTE);
      pair = await sessions.refresh({ refreshToken: pair.refreshToken });
    }
    clock.advance(5 * MINUTE); // 55 minutes in: 5 minutes of session left
    pair = await sessions.refresh({ refreshToken: pair.refreshToken });
    const end = Math.floor((start + 60 * MINUTE) / 1000);
    assert.equal(decodePayload(pair.token).exp, end);
    assert.equal(pair.expiresIn, end - Math.floor(clock.t / 1000));
    assert.ok(pair.expiresIn <= 300);
    clock.advance(5 * MINUTE);
    await refused(sessions.refresh({ refreshToken: pair.refreshToken }), 'refresh_token_invalid');
  });

  test('times handed to the store are whole milliseconds, even from a fractional clock', async () => {
    const { store, calls } = recordingStore();
    const clock = new Clock();
    clock.t += 0.75;
    const sessions = createSessionManager(
      { store, sessionLifetimeMs: DAY, idleTimeoutMs: DAY, reuseIntervalMs: 10_000, reload: undefined, maxStalenessMs: 30_000, now: clock.now },
      normalizeOptions({ ...OPTIONS, clockTolerance: '1.5s' }),
    );
    const login = await sessions.start({ sub: 'user-1' });
    await sessions.refresh({ refreshToken: login.refreshToken });
    await sessions.logout(decodePayload(login.token));
    await sessions.revokeSubject('user-1');
    const times = JSON.stringify(calls, (key, value: unknown) => (typeof value === 'number' && !Number.isSafeInteger(value) ? `NOT AN INTEGER ${key}` : value));
    assert.ok(!times.includes('NOT AN INTEGER'), times);
    const rotate = calls.find((c) => c.method === 'rotate')?.args[0] as RotateInput;
    assert.equal(rotate.revokedUntil, rotate.now + ACCESS_SECONDS * 1000 + 1500, 'revocations last one access token plus the clock tolerance');
  });
});

describe('sessions: concurrent refreshes', () => {
  test('20 parallel refreshes with one token: all get the same pair (grace), one live refresh token remains', async () => {
    const { sessions, store } = await setup();
    const login = await sessions.start({ sub: 'user-1' });
    const pairs = await Promise.all(Array.from({ length: 20 }, () => sessions.refresh({ refreshToken: login.refreshToken })));
    const distinct = new Set(pairs.map((pair) => JSON.stringify(pair)));
    assert.equal(distinct.size, 1);
    const [pair] = pairs as [TokenPair];
    const live = await store.findRefresh(hashOf(pair.refreshToken), Date.now());
    assert.equal(live?.token.usedAt, undefined, 'the answered refresh token is the current one');
    assert.equal((await store.findRefresh(hashOf(login.refreshToken), Date.now()))?.token.child, hashOf(pair.refreshToken));
    await sessions.refresh({ refreshToken: pair.refreshToken });
  });

  test('grace off: 20 parallel refreshes → exactly one success, the next one detects reuse, and the session ends', async () => {
    const { sessions } = await setup({ reuseIntervalMs: 0 });
    const login = await sessions.start({ sub: 'user-1' });
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => sessions.refresh({ refreshToken: login.refreshToken })));
    const won = results.filter((r) => r.status === 'fulfilled');
    assert.equal(won.length, 1);
    // The first loser ends the session; those after it find no session any more.
    const codes = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as JwtGuardError).code] : []));
    assert.ok(codes.includes('refresh_token_reused'), codes.join());
    assert.ok(codes.every((code) => code === 'refresh_token_reused' || code === 'refresh_token_invalid'), codes.join());
    const [winner] = won as [PromiseFulfilledResult<TokenPair>];
    await refused(sessions.refresh({ refreshToken: winner.value.refreshToken }), 'refresh_token_invalid');
  });
});

describe('sessions: reload', () => {
  test('reload gets the login claims (without per-token claims) and its answer is signed', async () => {
    const seen: unknown[] = [];
    const { sessions } = await setup({
      reload: async (claims) => {
        seen.push({ ...claims });
        return { ...claims, role: 'viewer', iat: 1, exp: 2, sid: 'x', jti: 'y' };
      },
    });
    const login = await sessions.start({ sub: 'user-1', role: 'admin', exp: Math.floor(Date.now() / 1000) + 600 });
    const next = await sessions.refresh({ refreshToken: login.refreshToken });
    assert.deepEqual(seen, [{ sub: 'user-1', role: 'admin' }]);
    const claims = decodePayload(next.token);
    assert.equal(claims.role, 'viewer');
    assert.equal(claims.sid, decodePayload(login.token).sid);
    assert.equal((claims.exp as number) - (claims.iat as number), ACCESS_SECONDS);
    assert.notEqual(claims.jti, 'y');
  });

  test('reload answering undefined or null ends the session: 401 refresh_token_invalid, its access tokens refused', async () => {
    for (const gone of [undefined, null]) {
      const { sessions } = await setup({ reload: () => gone as undefined });
      const login = await sessions.start({ sub: 'user-1' });
      await refused(sessions.refresh({ refreshToken: login.refreshToken }), 'refresh_token_invalid');
      assert.equal(await verdict(sessions, login.token), 'token_revoked');
      await refused(sessions.refresh({ refreshToken: login.refreshToken }), 'refresh_token_invalid');
    }
  });

  test('reload throwing, rejecting, answering a non-object or another sub → 503 reload_failed; the refresh token stays valid', async () => {
    const failures: Array<[string, (claims: Record<string, unknown>) => unknown]> = [
      ['throws', () => {
        throw new Error('db down');
      }],
      ['rejects', () => Promise.reject(new Error('db down'))],
      ['answers a string', () => 'admin'],
      ['answers an array', () => [1]],
      ['changes sub', (claims) => ({ ...claims, sub: 'someone-else' })],
      ['drops sub', () => ({ role: 'admin' })],
    ];
    for (const [name, failing] of failures) {
      let broken = true;
      const { sessions } = await setup({ reload: (claims) => (broken ? failing(claims) : claims) as Record<string, unknown> });
      const login = await sessions.start({ sub: 'user-1' });
      const error = await refused(sessions.refresh({ refreshToken: login.refreshToken }), 'reload_failed');
      assert.equal(error.status, 503, name);
      if (name === 'throws') assert.equal((error.cause as Error).message, 'db down');
      broken = false;
      const next = await sessions.refresh({ refreshToken: login.refreshToken });
      assert.equal(decodePayload(next.token).sid, decodePayload(login.token).sid, name);
    }
  });

  test('a reused or idle token never reaches reload', async () => {
    let reloads = 0;
    const { sessions, clock } = await setup({ reuseIntervalMs: 0, idleTimeoutMs: DAY, reload: (claims) => (reloads++, claims) });
    const login = await sessions.start({ sub: 'user-1' });
    await sessions.refresh({ refreshToken: login.refreshToken });
    await refused(sessions.refresh({ refreshToken: login.refreshToken }), 'refresh_token_reused');
    const idle = await sessions.start({ sub: 'user-2' });
    clock.advance(DAY + 1);
    await refused(sessions.refresh({ refreshToken: idle.refreshToken }), 'refresh_token_invalid');
    assert.equal(reloads, 1);
  });
});

describe('sessions: bad refresh requests → 400 invalid_request', () => {
  const valid = 'A'.repeat(43);
  const cases: Array<[string, unknown]> = [
    ['no body', undefined],
    ['null', null],
    ['a string', `{"refreshToken":"${valid}"}`],
    ['a number', 42],
    ['an array', [valid]],
    ['a Map', new Map([['refreshToken', valid]])],
    ['an empty object', {}],
    ['an object with a prototype of its own', Object.create({ refreshToken: valid }) as unknown],
    ['a number token', { refreshToken: 42 }],
    ['a null token', { refreshToken: null }],
    ['an object token', { refreshToken: { token: valid } }],
    ['42 characters', { refreshToken: valid.slice(1) }],
    ['44 characters', { refreshToken: `${valid}A` }],
    ['standard base64', { refreshToken: `${valid.slice(2)}+/` }],
    ['padding', { refreshToken: `${valid.slice(1)}=` }],
    ['a space', { refreshToken: `${valid.slice(1)} ` }],
    ['non-ASCII', { refreshToken: `${valid.slice(1)}é` }],
    ['a huge string', { refreshToken: 'A'.repeat(1_000_000) }],
  ];
  for (const [name, body] of cases) {
    test(name, async () => {
      const { sessions } = await setup();
      const error = await refused(sessions.refresh(body), 'invalid_request');
      assert.equal(error.status, 400);
      assert.ok(!error.message.includes('AAAAAAAAAA'), 'the message never quotes the token');
      assert.ok(error.message.length < 200);
    });
  }

  test('messages say what is wrong', async () => {
    const { sessions } = await setup();
    const cases: Array<[unknown, RegExp]> = [
      [[], /body is an array/],
      ['text', /body is a string/],
      [{}, /no "refreshToken"/],
      [{ refreshToken: 7 }, /"refreshToken" is a number/],
      [{ refreshToken: valid.slice(1) }, /42 characters long, not 43/],
      [{ refreshToken: `${valid.slice(1)}.` }, /outside base64url/],
    ];
    for (const [body, message] of cases) assert.match((await refused(sessions.refresh(body), 'invalid_request')).message, message);
  });

  test('a polluted Object.prototype supplies no refresh token', async () => {
    const { sessions } = await setup();
    const { refreshToken } = await sessions.start({ sub: 'user-1' });
    const proto = Object.prototype as Record<string, unknown>;
    proto.refreshToken = refreshToken;
    try {
      assert.match((await refused(sessions.refresh({}), 'invalid_request', [refreshToken])).message, /no "refreshToken"/);
    } finally {
      delete proto.refreshToken;
    }
  });

  test('a real token sent wrongly is not echoed', async () => {
    const { sessions } = await setup();
    const { refreshToken } = await sessions.start({ sub: 'user-1' });
    await refused(sessions.refresh({ refreshToken: `${refreshToken}=` }), 'invalid_request', [refreshToken]);
    await refused(sessions.refresh({ token: refreshToken }), 'invalid_request', [refreshToken]);
  });

  test('a body with extra fields and a null prototype is fine', async () => {
    const { sessions } = await setup();
    const { refreshToken } = await sessions.start({ sub: 'user-1' });
    const body = Object.assign(Object.create(null) as object, { refreshToken, client: 'web' });
    assert.match((await sessions.refresh(body)).refreshToken, REFRESH_TOKEN);
  });
});

describe('sessions: logout and revocation', () => {
  test('logout ends the session of the token: its access tokens are refused, its refresh token is invalid; idempotent', async () => {
    const { sessions } = await setup();
    const login = await sessions.start({ sub: 'user-1' });
    const next = await sessions.refresh({ refreshToken: login.refreshToken });
    const other = await sessions.start({ sub: 'user-1' });
    await sessions.logout(decodePayload(next.token));
    assert.equal(await verdict(sessions, login.token), 'token_revoked');
    assert.equal(await verdict(sessions, next.token), 'token_revoked');
    await refused(sessions.refresh({ refreshToken: next.refreshToken }), 'refresh_token_invalid');
    await sessions.logout(decodePayload(next.token));
    await sessions.logout(decodePayload(login.token));
    assert.equal(await verdict(sessions, other.token), undefined, 'another session of the same user lives on');
  });

  test('logout with a token that has no session (no sid) → 400 invalid_request', async () => {
    const { sessions } = await setup();
    for (const payload of [{ sub: 'user-1' }, { sub: 'user-1', sid: 42 }, { sub: 'user-1', sid: '' }]) {
      const error = await refused(sessions.logout(payload as never), 'invalid_request');
      assert.match(error.message, /no session/);
    }
  });

  test('revokeSession(sid): the same as a logout, from outside a request', async () => {
    const { sessions } = await setup();
    const login = await sessions.start({ sub: 'user-1' });
    await sessions.revokeSession(decodePayload(login.token).sid as string);
    assert.equal(await verdict(sessions, login.token), 'token_revoked');
    await refused(sessions.refresh({ refreshToken: login.refreshToken }), 'refresh_token_invalid');
    await sessions.revokeSession('never-existed');
    await refused(sessions.revokeSession('' as string), 'invalid_request');
  });

  test('revokeSubject: every session and access token of the subject is refused; others live on; tokens minted after the call work', async () => {
    const { sessions, clock } = await setup();
    const a = await sessions.start({ sub: 'user-1' });
    const b = await sessions.start({ sub: 'user-1' });
    const bystander = await sessions.start({ sub: 'user-2' });
    clock.advance(1000);
    await sessions.revokeSubject('user-1');
    for (const pair of [a, b]) {
      assert.equal(await verdict(sessions, pair.token), 'token_revoked');
      await refused(sessions.refresh({ refreshToken: pair.refreshToken }), 'refresh_token_invalid');
    }
    assert.equal(await verdict(sessions, bystander.token), undefined);
    // A login right after (a password change, then the new login), in the same second.
    clock.advance(1);
    const fresh = await sessions.start({ sub: 'user-1' });
    assert.equal(await verdict(sessions, fresh.token), undefined);
    const refreshed = await sessions.refresh({ refreshToken: fresh.refreshToken });
    assert.equal(await verdict(sessions, refreshed.token), undefined);
  });

  test('revokeSubject reaches a number sub by its string form', async () => {
    const { sessions, clock } = await setup();
    const login = await sessions.start({ sub: 42 });
    clock.advance(1000);
    await sessions.revokeSubject('42');
    assert.equal(await verdict(sessions, login.token), 'token_revoked');
    await refused(sessions.refresh({ refreshToken: login.refreshToken }), 'refresh_token_invalid');
  });

  test('revokeSubject: a token minted in the same second just before the call is refused (by its session\'s revocation)', async () => {
    const { sessions, clock } = await setup();
    clock.t = Math.floor(clock.t / 1000) * 1000 + 100;
    const login = await sessions.start({ sub: 'user-1' });
    clock.advance(500);
    await sessions.revokeSubject('user-1');
    assert.equal(await verdict(sessions, login.token), 'token_revoked');
  });

  test('revocations and logout answer 503 when the store fails, and apply nothing locally', async () => {
    const { store, faults } = recordingStore();
    const { sessions } = await setup({ store });
    const login = await sessions.start({ sub: 'user-1' });
    faults.endSession = () => new Error('down');
    faults.revokeSubject = () => new Error('down');
    await refused(sessions.logout(decodePayload(login.token)), 'session_store_unavailable');
    await refused(sessions.revokeSession(decodePayload(login.token).sid as string), 'session_store_unavailable');
    await refused(sessions.revokeSubject('user-1'), 'session_store_unavailable');
    assert.equal(await verdict(sessions, login.token), undefined);
  });
});

describe('sessions: store faults during refresh', () => {
  test('findRefresh or rotate failing → 503, and the refresh token still works afterwards', async () => {
    const { store, faults } = recordingStore();
    const { sessions } = await setup({ store });
    const login = await sessions.start({ sub: 'user-1' });
    for (const method of ['findRefresh', 'rotate'] as const) {
      faults[method] = () => new Error('timeout');
      const error = await refused(sessions.refresh({ refreshToken: login.refreshToken }), 'session_store_unavailable', [login.refreshToken]);
      assert.equal(error.status, 503);
      delete faults[method];
    }
    await sessions.refresh({ refreshToken: login.refreshToken });
  });

  test('a kept answer altered in the store cannot be opened: the retry gets refresh_token_invalid, never someone else\'s pair', async () => {
    const { store, alter } = recordingStore();
    const { sessions } = await setup({ store });
    const login = await sessions.start({ sub: 'user-1' });
    alter.rotate = (input) => ({ ...input, answer: input.answer.slice(0, -2) + (input.answer.endsWith('AA') ? 'BB' : 'AA') });
    await sessions.refresh({ refreshToken: login.refreshToken });
    await refused(sessions.refresh({ refreshToken: login.refreshToken }), 'refresh_token_invalid');
  });
});

describe('sessions: check, open and close', () => {
  test('check before open waits for the first load; after close everything is refused with 503', async () => {
    const clock = new Clock();
    const sessions = createSessionManager(
      { store: memoryStore(), sessionLifetimeMs: DAY, idleTimeoutMs: undefined, reuseIntervalMs: 10_000, reload: undefined, maxStalenessMs: 30_000, now: clock.now },
      normalizeOptions({ ...OPTIONS }),
    );
    const login = await sessions.start({ sub: 'user-1' });
    const early = sessions.check(decodePayload(login.token));
    assert.ok(early instanceof Promise);
    assert.equal(await early, undefined);
    assert.equal(sessions.check(decodePayload(login.token)), undefined, 'synchronous once loaded');
    await sessions.close();
    const closed = await sessions.check(decodePayload(login.token));
    assert.equal(closed?.code, 'session_store_unavailable');
    assert.equal(closed?.status, 503);
  });

  test('a token without sid or sub passes unless the mirror knows better', async () => {
    const { sessions } = await setup();
    assert.equal(sessions.check({ iat: 1 }), undefined);
  });
});

describe('sessions: the kept answer', () => {
  const token = 'q'.repeat(43);
  const text = JSON.stringify({ token: 'a.b.c', refreshToken: 'r'.repeat(43), expiresIn: 900 });

  test('node:crypto and Web Crypto seal the same format: each opens the other\'s', async () => {
    assert.equal(await openAnswer(token, await sealAnswer(token, text, 'web'), 'node'), text);
    assert.equal(await openAnswer(token, await sealAnswer(token, text, 'node'), 'web'), text);
    assert.equal(await openAnswer(token, await sealAnswer(token, text, 'web'), 'web'), text);
  });

  test('another token, a cut or altered value cannot be opened; the plaintext never shows', async () => {
    for (const engine of ['node', 'web'] as const) {
      const sealed = await sealAnswer(token, text, engine);
      assert.match(sealed, /^[A-Za-z0-9_-]+$/);
      assert.ok(!sealed.includes('rrrr') && !Buffer.from(sealed, 'base64url').toString('latin1').includes('rrrr'));
      assert.notEqual(await sealAnswer(token, text, engine), sealed, 'a fresh IV each time');
      assert.equal(await openAnswer('p'.repeat(43), sealed, engine), undefined);
      assert.equal(await openAnswer(token, sealed.slice(0, 20), engine), undefined);
      assert.equal(await openAnswer(token, `${sealed.slice(0, 30)}${sealed[30] === 'A' ? 'B' : 'A'}${sealed.slice(31)}`, engine), undefined);
      assert.equal(await openAnswer(token, 'not base64url!', engine), undefined);
      assert.equal(await openAnswer(token, '', engine), undefined);
    }
  });
});

/** The store's methods bound to it, to build a variant with some replaced. */
function bind(store: TokenStore): TokenStore {
  return {
    createSession: store.createSession.bind(store),
    findRefresh: store.findRefresh.bind(store),
    rotate: store.rotate.bind(store),
    endSession: store.endSession.bind(store),
    revokeSubject: store.revokeSubject.bind(store),
    revocations: store.revocations.bind(store),
    subscribe: store.subscribe.bind(store),
  };
}

