// Redis going away under a running store: the redis-server killed with SIGKILL and restarted on
// the same port, and one instance cut off from Redis while another keeps writing. No call may
// hang, crash the process or leave an unhandled rejection; revocations missed while cut off must
// be found after reconnecting.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import type { StoreEvent, TokenStore } from '../../src/index.js';
import { redisStore } from '../../src/redis.js';
import { rejectsWith } from '../support/assertions.js';
import { EventLog, MINUTE, newHash, newSid, rotation, startSession } from '../core/sessions/store-suite.js';
import { CLIENT_KINDS, type TestClient } from './support/clients.js';
import { CuttableProxy, needsOwnServer, testRedis } from './support/redis-server.js';

// Tripwire: any unhandled rejection anywhere in this process fails the file.
const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));
const noUnhandled = (): void => assert.deepEqual(unhandled, [], 'unhandled rejections');

const TIMEOUT = 300;
const redis = await testRedis();
const skip = needsOwnServer(redis);

/** Retries `call` until it resolves (the client reconnects by itself), for at most `ms`. */
async function eventually<T>(call: () => Promise<T>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** Asserts the call rejects with session_store_unavailable, in less than the timeout plus a margin. */
async function unavailableInTime(call: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await rejectsWith(call(), 'session_store_unavailable');
  const elapsed = performance.now() - started;
  assert.ok(elapsed < TIMEOUT + 150, `took ${elapsed.toFixed(0)} ms`);
  return elapsed;
}

const isType = (type: StoreEvent['type']) => (event: StoreEvent) => event.type === type;

for (const kind of CLIENT_KINDS) {
  describe(`faults: redisStore + ${kind.name}`, { skip }, () => {
    const clients: TestClient[] = [];
    const connect = async (url: string): Promise<TestClient> => {
      const client = await kind.connect(url);
      clients.push(client);
      return client;
    };
    after(async () => {
      await Promise.all(clients.map((c) => c.close()));
      noUnhandled();
    });

    test('redis-server killed (SIGKILL): every call rejects with session_store_unavailable within the timeout; after a restart on the same port calls work again and the subscriber gets offline, then resync', async (t) => {
      const own = redis.own;
      assert.ok(own && redis.url);
      const prefix = `fault:${randomBytes(4).toString('hex')}:`;
      const store: TokenStore = redisStore({ client: (await connect(redis.url)).client, prefix, timeout: TIMEOUT });
      const watcher: TokenStore = redisStore({ client: (await connect(redis.url)).client, prefix, timeout: TIMEOUT });
      const log = new EventLog();
      const unsubscribe = await watcher.subscribe(log.listener);
      await log.next(isType('resync'));
      const { hash } = await startSession(store);

      await own.kill();
      // Right after the kill and during the reconnection attempts that follow, for a second:
      // every operation fails in time (none waits in a client's offline queue).
      const deadline = Date.now() + 1000;
      const elapsed: number[] = [];
      while (Date.now() < deadline) {
        const now = Date.now();
        elapsed.push(
          await unavailableInTime(() => store.rotate(rotation(hash, now))),
          await unavailableInTime(() => store.findRefresh(hash, now)),
          await unavailableInTime(() => store.createSession({ sid: newSid(), sub: 'u', claims: '{}', createdAt: now, expiresAt: now + MINUTE }, newHash())),
          await unavailableInTime(() => store.endSession(newSid(), now, now + MINUTE)),
          await unavailableInTime(() => store.revokeSubject('u', now, now + MINUTE)),
          await unavailableInTime(() => store.revocations(now)),
        );
      }
      await unavailableInTime(() => store.subscribe(() => {}));
      const offline = (await log.next(isType('offline'))) && log.events.findIndex(isType('offline'));
      assert.ok(elapsed.length >= 6, `${elapsed.length} calls`);
      t.diagnostic(`${elapsed.length} calls during the outage, slowest ${Math.max(...elapsed).toFixed(0)} ms (timeout ${TIMEOUT})`);

      await own.restart();
      await eventually(() => store.revocations(Date.now()));
      await log.next(isType('resync'), { from: offline + 1, ms: 5000 });
      // The restarted server is empty (the tests run it without persistence): the old session is
      // gone; new sessions work and revocations reach the subscriber again.
      assert.deepEqual(await store.rotate(rotation(hash, Date.now())), { kind: 'invalid' });
      const now = Date.now();
      const fresh = await startSession(store, { now });
      assert.equal((await store.rotate(rotation(fresh.hash, now + 1))).kind, 'rotated');
      assert.equal(await store.endSession(fresh.session.sid, now + 2, now + MINUTE), true);
      await log.next((e) => e.type === 'session' && e.sid === fresh.session.sid);
      await unsubscribe();
      noUnhandled();
    });

    test('redis-server frozen (SIGSTOP, the connection stays open): calls reject after the timeout; a rotation that ran late is answered by the grace on retry', async (t) => {
      const own = redis.own;
      assert.ok(own && redis.url);
      const store: TokenStore = redisStore({ client: (await connect(redis.url)).client, prefix: `frozen:${randomBytes(4).toString('hex')}:`, timeout: TIMEOUT });
      const now = Date.now();
      const { hash } = await startSession(store, { now });
      own.freeze();
      const late = rotation(hash, now + 1);
      try {
        const elapsed = await unavailableInTime(() => store.rotate(late));
        assert.ok(elapsed >= TIMEOUT - 5, `rejected after ${elapsed.toFixed(0)} ms, before the timeout`);
        t.diagnostic(`rejected after ${elapsed.toFixed(0)} ms (timeout ${TIMEOUT})`);
        await unavailableInTime(() => store.revocations(now));
      } finally {
        own.thaw();
      }
      // The command had reached Redis and runs once it wakes up: the token was rotated although
      // its caller got a 503. The client's retry (a new rotation of the same token) gets the grace,
      // with the answer the lost call stored, so it is not taken for a reuse.
      const retry = await eventually(() => store.rotate(rotation(hash, now + 2)));
      assert.deepEqual(retry, { kind: 'grace', answer: late.answer });
      noUnhandled();
    });

    test('one instance cut off from Redis misses a logout made on another, then gets resync on reconnection and finds it in revocations()', async () => {
      const own = redis.own;
      assert.ok(own && redis.url);
      const proxy = new CuttableProxy(own.port);
      await proxy.start();
      try {
        const prefix = `cut:${randomBytes(4).toString('hex')}:`;
        const writer: TokenStore = redisStore({ client: (await connect(redis.url)).client, prefix, timeout: TIMEOUT });
        const mirror: TokenStore = redisStore({ client: (await connect(proxy.url)).client, prefix, timeout: TIMEOUT });
        const log = new EventLog();
        const unsubscribe = await mirror.subscribe(log.listener);
        await log.next(isType('resync'));
        const now = Date.now();
        const { session } = await startSession(writer, { now });

        await proxy.cut();
        await log.next(isType('offline'));
        const offline = log.events.findIndex(isType('offline'));
        assert.equal(await writer.endSession(session.sid, now + 1, now + MINUTE), true, 'the other instance logs out meanwhile');
        await unavailableInTime(() => mirror.revocations(now + 2));

        await proxy.restore();
        await log.next(isType('resync'), { from: offline + 1, ms: 5000 });
        assert.ok(!log.events.some((e) => e.type === 'session'), 'the event itself was missed');
        const { sessions } = await eventually(() => mirror.revocations(now + 2));
        assert.deepEqual(sessions.filter((r) => r.sid === session.sid), [{ sid: session.sid, until: now + MINUTE }]);
        // And the subscription delivers again.
        await writer.endSession('after', now + 3, now + MINUTE);
        await log.next((e) => e.type === 'session' && e.sid === 'after');
        await unsubscribe();
        noUnhandled();
      } finally {
        await proxy.cut();
      }
    });
  });
}
