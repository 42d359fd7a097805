// redisStore against a real Redis, with every supported client: the shared TokenStore suite plus
// what is Redis-specific (key layout, TTLs, script caching, foreign messages, options).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { redisStore } from '../../src/redis.js';
import type { TokenStore } from '../../src/index.js';
import { rejectsWith } from '../support/assertions.js';
import { EventLog, MINUTE, newSid, rotation, startSession, storeSuite } from '../core/sessions/store-suite.js';
import { CLIENT_KINDS, type TestClient } from './support/clients.js';
import { testRedis } from './support/redis-server.js';

const redis = await testRedis();
const newPrefix = (): string => `test:${randomBytes(6).toString('hex')}:`;

for (const kind of CLIENT_KINDS) {
  if (redis.skip !== undefined) {
    test(`redisStore + ${kind.name}`, { skip: redis.skip }, () => {});
    continue;
  }
  const { url } = redis;

  storeSuite(
    `redisStore + ${kind.name}`,
    async () => {
      // Two clients (two connections), like two instances of an application.
      const [a, b] = await Promise.all([kind.connect(url), kind.connect(url)]);
      const prefix = newPrefix();
      return {
        store: redisStore({ client: a.client, prefix }),
        other: redisStore({ client: b.client, prefix }),
        keys: async () => {
          const keys = (await a.command('KEYS', `${prefix}*`)) as string[];
          return Promise.all(keys.map(async (key) => ({ key, pttl: Number(await a.command('PTTL', key)) })));
        },
        close: async () => {
          await Promise.all([a.close(), b.close()]);
        },
      };
    },
    { listsKeys: true },
  );

  describe(`redisStore + ${kind.name}: Redis specifics`, () => {
    let client: TestClient;
    before(async () => {
      client = await kind.connect(url);
    });
    after(() => client.close());

    test('keys live under the prefix and hold hashes, never a refresh token; claims and answers are kept byte for byte', async () => {
      const prefix = newPrefix();
      const store = redisStore({ client: client.client, prefix });
      const now = Date.now();
      const claims = JSON.stringify({ sub: 'ü-ser ✓', emoji: '🔑', quote: '"\\' });
      const sid = newSid();
      const hash = 'h'.repeat(43);
      await store.createSession({ sid, sub: 'ü-ser ✓', claims, createdAt: now, expiresAt: now + MINUTE }, hash);
      const input = rotation(hash, now + 1, { answer: 'ciphertext ✓ 🔑 \u0000 end' });
      const rotated = await store.rotate(input);
      assert.equal(rotated.kind === 'rotated' && rotated.session.claims, claims);
      assert.deepEqual(await store.rotate(rotation(hash, now + 2)), { kind: 'grace', answer: input.answer });
      const keys = ((await client.command('KEYS', `${prefix}*`)) as string[]).sort();
      assert.deepEqual(keys, [`${prefix}a:${hash}`, `${prefix}s:${sid}`, `${prefix}t:${hash}`, `${prefix}t:${input.newHash}`, `${prefix}u:ü-ser ✓`].sort());
      // Another prefix sees nothing of it.
      assert.equal(await redisStore({ client: client.client, prefix: newPrefix() }).findRefresh(hash, now), undefined);
    });

    test('scripts are sent as EVALSHA and reloaded by EVAL after SCRIPT FLUSH', async () => {
      const store = redisStore({ client: client.client, prefix: newPrefix() });
      const { hash } = await startSession(store);
      await client.command('SCRIPT', 'FLUSH');
      assert.ok(await store.findRefresh(hash, Date.now()));
      assert.ok(await store.findRefresh(hash, Date.now()));
    });

    test('a foreign message on the events channel reaches no listener', async () => {
      const prefix = newPrefix();
      const store = redisStore({ client: client.client, prefix });
      const log = new EventLog();
      const unsubscribe = await store.subscribe(log.listener);
      for (const message of ['not json', '{"type":"session"}', '{"type":"session","sid":1,"until":2}', 'null', '[]']) {
        await client.command('PUBLISH', `${prefix}events`, message);
      }
      await client.command('PUBLISH', `${prefix}events`, '{"type":"session","sid":"x","until":5}');
      await log.next((e) => e.type === 'session');
      assert.deepEqual(log.events, [{ type: 'resync' }, { type: 'session', sid: 'x', until: 5 }]);
      await unsubscribe();
    });

    test('options: a client of neither library, a bad timeout or prefix → invalid_options', async () => {
      const bad: unknown[] = [{}, null, { status: 'ready', call() {}, duplicate() {}, isCluster: true }, { isReady: true }];
      for (const value of bad) {
        await rejectsWith(Promise.resolve().then(() => redisStore({ client: value as never })), 'invalid_options');
      }
      await rejectsWith(Promise.resolve().then(() => redisStore({ client: client.client, timeout: 0 })), 'invalid_options');
      await rejectsWith(Promise.resolve().then(() => redisStore({ client: client.client, prefix: 1 as never })), 'invalid_options');
    });

    test('a script error (a key of the wrong type under the prefix) → session_store_unavailable, not a crash', async () => {
      const prefix = newPrefix();
      const store: TokenStore = redisStore({ client: client.client, prefix });
      await client.command('SET', `${prefix}rs`, 'not a sorted set', 'PX', '60000');
      await rejectsWith(store.endSession(newSid(), Date.now(), Date.now() + MINUTE), 'session_store_unavailable');
    });
  });
}
