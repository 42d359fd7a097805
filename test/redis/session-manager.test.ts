// The session engine on redisStore: two managers on two connections play two instances of an
// application sharing one Redis (grace answers, reuse detection, logout and revokeSubject seen
// by the other instance, concurrent refreshes on both).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { normalizeOptions, type JwtGuardError, type JwtGuardOptions, type TokenStore } from '../../src/index.js';
import { redisStore } from '../../src/redis.js';
import { createSessionManager, type SessionManager, type SessionSettings, type TokenPair } from '../../src/core/sessions/session-manager.js';
import { rejectsWith } from '../support/assertions.js';
import { decodePayload, STRONG_SECRET } from '../support/tokens.js';
import { CLIENT_KINDS, type TestClient } from './support/clients.js';
import { testRedis } from './support/redis-server.js';

const redis = await testRedis();
const OPTIONS: JwtGuardOptions = { secret: STRONG_SECRET, authPath: '/api/auth/login', expiresIn: '15m' };
const hashOf = (token: string): string => createHash('sha256').update(token).digest('base64url');

/**
 * A bound that only a lost event would break, never a slow machine: the propagation delay itself
 * (the target is 100 ms p99) is measured, not asserted, in test/redis/revocation-mirror.test.ts.
 */
const PROPAGATION_BOUND_MS = 2000;

/** Waits until `condition` holds (polling every 2 ms), failing after `ms`; resolves to the time it took. */
async function within(ms: number, condition: () => Promise<boolean>): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await condition()) return performance.now() - start;
    if (performance.now() - start > ms) assert.fail(`not within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const refusedOn = (sessions: SessionManager, token: string) => async (): Promise<boolean> => (await sessions.check(decodePayload(token)))?.code === 'token_revoked';

// Two clients cover both command paths (node-redis, ioredis); the store suite covers the v6 majors.
for (const kind of CLIENT_KINDS.slice(0, 2)) {
  if (redis.skip !== undefined) {
    test(`sessions on redisStore + ${kind.name}`, { skip: redis.skip }, () => {});
    continue;
  }
  const { url } = redis;

  describe(`sessions on redisStore + ${kind.name}: two instances`, () => {
    const clients: TestClient[] = [];
    const managers: SessionManager[] = [];

    /** Two instances on one prefix (a fresh one per test), each with its own connection. */
    async function instances(settings: Partial<SessionSettings> = {}): Promise<{ a: SessionManager; b: SessionManager; store: TokenStore }> {
      const prefix = `test:${randomBytes(6).toString('hex')}:`;
      const [first, second] = [0, 1].map((i) => {
        const client = clients[i] as TestClient;
        const store = redisStore({ client: client.client, prefix });
        const sessions = createSessionManager(
          { store, sessionLifetimeMs: 86_400_000, idleTimeoutMs: undefined, reuseIntervalMs: 10_000, reload: undefined, maxStalenessMs: 30_000, ...settings },
          normalizeOptions({ ...OPTIONS }),
        );
        managers.push(sessions);
        return { store, sessions };
      }) as [{ store: TokenStore; sessions: SessionManager }, { store: TokenStore; sessions: SessionManager }];
      await Promise.all([first.sessions.open(), second.sessions.open()]);
      return { a: first.sessions, b: second.sessions, store: first.store };
    }

    before(async () => {
      clients.push(await kind.connect(url), await kind.connect(url));
    });
    after(async () => {
      await Promise.all(managers.map((m) => m.close()));
      await Promise.all(clients.map((c) => c.close()));
    });

    test('login on one, refresh on the other, the grace retry on the first gets the same pair', async () => {
      const { a, b, store } = await instances();
      const login = await a.start({ sub: 'user-1', role: 'admin' });
      const next = await b.refresh({ refreshToken: login.refreshToken });
      assert.equal(decodePayload(next.token).sid, decodePayload(login.token).sid);
      assert.equal(decodePayload(next.token).role, 'admin');
      assert.equal(JSON.stringify(await a.refresh({ refreshToken: login.refreshToken })), JSON.stringify(next));
      assert.equal((await store.findRefresh(hashOf(next.refreshToken), Date.now()))?.token.usedAt, undefined);
    });

    test('reuse detected on one instance: the other refuses the session\'s access tokens too', async () => {
      const { a, b } = await instances({ reuseIntervalMs: 0 });
      const login = await a.start({ sub: 'user-1' });
      const next = await a.refresh({ refreshToken: login.refreshToken });
      assert.equal(await b.check(decodePayload(next.token)), undefined);
      await rejectsWith(b.refresh({ refreshToken: login.refreshToken }), 'refresh_token_reused');
      assert.equal((await b.check(decodePayload(next.token)))?.code, 'token_revoked', 'at once where it was detected');
      await within(PROPAGATION_BOUND_MS, refusedOn(a, next.token));
      await rejectsWith(a.refresh({ refreshToken: next.refreshToken }), 'refresh_token_invalid');
    });

    test('logout on one and revokeSubject on the other: each is refused by both instances; a login after the revocation works', async () => {
      const { a, b } = await instances();
      const first = await a.start({ sub: 'user-1' });
      await b.logout(decodePayload(first.token));
      await within(PROPAGATION_BOUND_MS, refusedOn(a, first.token));
      const second = await b.start({ sub: 'user-2' });
      const third = await a.start({ sub: 'user-2' });
      await a.revokeSubject('user-2');
      await within(PROPAGATION_BOUND_MS, refusedOn(b, second.token));
      await within(PROPAGATION_BOUND_MS, refusedOn(b, third.token));
      await rejectsWith(b.refresh({ refreshToken: third.refreshToken }), 'refresh_token_invalid');
      const after = await b.start({ sub: 'user-2' });
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(await a.check(decodePayload(after.token)), undefined);
      assert.equal(await b.check(decodePayload(after.token)), undefined);
    });

    test('20 concurrent refreshes of one token, 10 on each instance: one pair for all, one live refresh token', async () => {
      const { a, b, store } = await instances();
      const login = await a.start({ sub: 'user-1' });
      const pairs = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).refresh({ refreshToken: login.refreshToken })));
      assert.equal(new Set(pairs.map((p) => JSON.stringify(p))).size, 1);
      const [pair] = pairs as [TokenPair];
      assert.equal((await store.findRefresh(hashOf(pair.refreshToken), Date.now()))?.token.usedAt, undefined);
      assert.equal((await store.findRefresh(hashOf(login.refreshToken), Date.now()))?.token.child, hashOf(pair.refreshToken));
    });

    test('grace off: 20 concurrent refreshes on both instances → exactly one success, and no live session', async () => {
      const { a, b } = await instances({ reuseIntervalMs: 0 });
      const login = await a.start({ sub: 'user-1' });
      const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).refresh({ refreshToken: login.refreshToken })));
      const won = results.filter((r): r is PromiseFulfilledResult<TokenPair> => r.status === 'fulfilled');
      assert.equal(won.length, 1);
      const codes = results.flatMap((r) => (r.status === 'rejected' ? [(r.reason as JwtGuardError).code] : []));
      assert.ok(codes.includes('refresh_token_reused'), codes.join());
      assert.ok(codes.every((c) => c === 'refresh_token_reused' || c === 'refresh_token_invalid'), codes.join());
      await rejectsWith(a.refresh({ refreshToken: (won[0] as PromiseFulfilledResult<TokenPair>).value.refreshToken }), 'refresh_token_invalid');
    });
  });
}
