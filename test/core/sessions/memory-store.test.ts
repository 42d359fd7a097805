import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { memoryStore, type StoreEvent } from '../../../src/index.js';
import { rejectsWith } from '../../support/assertions.js';
import { MINUTE, newHash, newSid, rotation, startSession, storeSuite } from './store-suite.js';

storeSuite('memoryStore', async () => {
  const store = memoryStore();
  return { store, other: store, close: async () => {} };
});

describe('memoryStore', () => {
  test('maxSessions: a new login evicts the oldest session, never itself', async () => {
    const store = memoryStore({ maxSessions: 3 });
    const now = Date.now();
    const sessions = [];
    for (let i = 0; i < 5; i++) sessions.push(await startSession(store, { now: now + i }));
    const alive = await Promise.all(sessions.map(async ({ hash }) => (await store.findRefresh(hash, now + 10)) !== undefined));
    assert.deepEqual(alive, [false, false, true, true, true]);
  });

  test('expired sessions are swept at the next login: a store full of expired sessions takes new ones without evicting live ones', async () => {
    const store = memoryStore({ maxSessions: 2 });
    const now = Date.now();
    await startSession(store, { now, lifetime: 1000 });
    const live = await startSession(store, { now, lifetime: MINUTE });
    const later = await startSession(store, { now: now + 1000 });
    assert.ok(await store.findRefresh(live.hash, now + 1000), 'the live session stayed; the expired one made room');
    assert.ok(await store.findRefresh(later.hash, now + 1000));
  });

  test('a long chain of rotations keeps the store bounded: the oldest used tokens are forgotten (→ invalid, not reused)', async () => {
    const store = memoryStore();
    const now = Date.now();
    const { hash } = await startSession(store, { now });
    const hashes = [hash];
    for (let i = 1; i <= 1100; i++) {
      const input = rotation(hashes[hashes.length - 1] as string, now + i, { reuseIntervalMs: 0 });
      assert.equal((await store.rotate(input)).kind, 'rotated');
      hashes.push(input.newHash);
    }
    assert.equal(await store.findRefresh(hashes[0] as string, now + 2000), undefined, 'forgotten');
    assert.deepEqual(await store.rotate(rotation(hashes[0] as string, now + 2000)), { kind: 'invalid' });
    assert.equal((await store.rotate(rotation(hashes[hashes.length - 5] as string, now + 2000))).kind, 'reused', 'a recent used token is still detected');
  });

  test('events are delivered synchronously, before the operation resolves; two subscriptions of one function are two', async () => {
    const store = memoryStore();
    const events: StoreEvent[] = [];
    const listener = (event: StoreEvent) => events.push(event);
    const first = await store.subscribe(listener);
    await store.subscribe(listener);
    assert.deepEqual(events, [{ type: 'resync' }, { type: 'resync' }]);
    const sid = newSid();
    const ending = store.endSession(sid, Date.now(), Date.now() + MINUTE);
    assert.equal(events.length, 4, 'delivered before the promise settles');
    await ending;
    await first();
    await store.endSession(sid, Date.now(), Date.now() + MINUTE);
    assert.equal(events.length, 5);
  });

  test('returned records are frozen copies', async () => {
    const store = memoryStore();
    const now = Date.now();
    const { session, hash } = await startSession(store, { now });
    const found = await store.findRefresh(hash, now);
    assert.ok(found && Object.isFrozen(found.session) && Object.isFrozen(found.token));
    assert.notEqual(found.session, session);
    await store.createSession({ ...session, sid: newSid() }, newHash());
  });

  test('maxSessions must be a positive integer', async () => {
    for (const maxSessions of [0, -1, 1.5, Number.NaN]) {
      await rejectsWith(Promise.resolve().then(() => memoryStore({ maxSessions })), 'invalid_options');
    }
  });
});
