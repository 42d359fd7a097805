// The TokenStore contract as one suite, run unchanged against every store: memoryStore, and
// redisStore with each supported client (test/redis/redis-store.test.ts). A store that passes it
// keeps the contract documented on TokenStore.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { RotateInput, RotateResult, SessionRecord, StoreEvent, TokenStore } from '../../../src/index.js';

/** One store under test, as the suite needs it. */
export interface StoreUnderTest {
  /** The store. */
  readonly store: TokenStore;
  /** The same backend through another connection (another client), or the same store where there is only one. */
  readonly other: TokenStore;
  /** Every key the store holds with its PTTL in ms (-1: none); only where keys can be listed (Redis). */
  readonly keys?: () => Promise<Array<{ key: string; pttl: number }>>;
  close(): Promise<void>;
}

export const MINUTE = 60_000;
export const DAY = 24 * 60 * MINUTE;
const REUSE = 10_000;

/** A refresh token as the core will make it: 32 random bytes, base64url; and its hash. */
export function newToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: createHash('sha256').update(token).digest('base64url') };
}

export const newHash = (): string => newToken().hash;
export const newSid = (): string => randomBytes(16).toString('base64url');

export interface Started {
  readonly session: SessionRecord;
  readonly hash: string;
}

/** Creates a session starting at `now` (default: the real clock) with a first refresh token. */
export async function startSession(store: TokenStore, options: { sub?: string | undefined; now?: number; lifetime?: number } = {}): Promise<Started> {
  const now = options.now ?? Date.now();
  const sub = 'sub' in options ? options.sub : `user-${newSid()}`;
  const session: SessionRecord = { sid: newSid(), sub, claims: JSON.stringify({ sub, role: 'admin', n: 1 }), createdAt: now, expiresAt: now + (options.lifetime ?? 30 * DAY) };
  const hash = newHash();
  await store.createSession(session, hash);
  return { session, hash };
}

export function rotation(hash: string, now: number, extra: Partial<RotateInput> = {}): RotateInput {
  return { hash, newHash: newHash(), now, reuseIntervalMs: REUSE, answer: `answer-${newSid()}`, revokedUntil: now + 15 * MINUTE, ...extra };
}

/** Collects a subscriber's events and waits for the ones a test expects. */
export class EventLog {
  readonly events: StoreEvent[] = [];
  #waiters: Array<() => void> = [];

  readonly listener = (event: StoreEvent): void => {
    this.events.push(event);
    for (const wake of this.#waiters.splice(0)) wake();
  };

  /** The first event (from `from` on) matching `match`, waiting up to `ms` for it. */
  async next(match: (event: StoreEvent) => boolean, { from = 0, ms = 3000 } = {}): Promise<StoreEvent> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.events.slice(from).find(match);
      if (found !== undefined) return found;
      const left = deadline - Date.now();
      if (left <= 0) assert.fail(`no matching event within ${ms} ms; got ${JSON.stringify(this.events)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

const kinds = (results: RotateResult[]): Record<string, number> => {
  const count: Record<string, number> = {};
  for (const r of results) count[r.kind] = (count[r.kind] ?? 0) + 1;
  return count;
};

/**
 * Registers the whole contract for one store. `listsKeys`: the store can list its keys with their
 * TTLs (`StoreUnderTest.keys`), so the "every key has a TTL" test applies.
 */
export function storeSuite(name: string, open: () => Promise<StoreUnderTest>, { listsKeys = false } = {}): void {
  describe(`TokenStore contract: ${name}`, () => {
    let under: StoreUnderTest;
    let store: TokenStore;
    before(async () => {
      under = await open();
      store = under.store;
    });
    after(() => under.close());

    test('createSession + findRefresh: the session and its first token; unknown hashes find nothing', async () => {
      const now = Date.now();
      const { session, hash } = await startSession(store, { now });
      const found = await store.findRefresh(hash, now);
      assert.deepEqual(found, { session, token: { hash, sid: session.sid, issuedAt: now, usedAt: undefined, child: undefined } });
      assert.equal(await store.findRefresh(newHash(), now), undefined);
      // Through the other connection too: one backend.
      assert.deepEqual(await under.other.findRefresh(hash, now), found);
    });

    test('a session without sub keeps sub undefined', async () => {
      const now = Date.now();
      const { session, hash } = await startSession(store, { now, sub: undefined });
      assert.equal((await store.findRefresh(hash, now))?.session.sub, undefined);
      const result = await store.rotate(rotation(hash, now + 1));
      assert.deepEqual(result, { kind: 'rotated', session });
    });

    test('createSession refuses a sid or a hash already in use, and malformed input', async () => {
      const now = Date.now();
      const { session, hash } = await startSession(store, { now });
      await assert.rejects(store.createSession({ ...session }, newHash()), /jwtguard: createSession needs a new sid/);
      await assert.rejects(store.createSession({ ...session, sid: newSid() }, hash), /jwtguard: createSession needs a new sid/);
      await assert.rejects(store.createSession({ ...session, sid: newSid(), expiresAt: now }, newHash()), TypeError);
      await assert.rejects(store.rotate({ ...rotation(hash, now), now: Number.NaN }), TypeError);
      // Nothing was written by the refusals: the session still rotates normally.
      assert.equal((await store.rotate(rotation(hash, now + 1))).kind, 'rotated');
    });

    test('rotate: the current token → rotated with the session; the new token becomes current, the old one used', async () => {
      const now = Date.now();
      const { session, hash } = await startSession(store, { now });
      const input = rotation(hash, now + 1000);
      assert.deepEqual(await store.rotate(input), { kind: 'rotated', session });
      assert.deepEqual((await store.findRefresh(hash, now + 1000))?.token, { hash, sid: session.sid, issuedAt: now, usedAt: now + 1000, child: input.newHash });
      assert.deepEqual((await store.findRefresh(input.newHash, now + 1000))?.token, { hash: input.newHash, sid: session.sid, issuedAt: now + 1000, usedAt: undefined, child: undefined });
      // A chain: the new one rotates in turn, and expiresAt never moves.
      const next = rotation(input.newHash, now + 2000);
      const third = await store.rotate(next);
      assert.equal(third.kind, 'rotated');
      assert.equal(third.kind === 'rotated' && third.session.expiresAt, session.expiresAt);
    });

    test('rotate repeated with the same hash and newHash (a resent command) → rotated again, nothing changes', async () => {
      const now = Date.now();
      const { hash } = await startSession(store, { now });
      const input = rotation(hash, now + 1, { reuseIntervalMs: 0 });
      assert.equal((await store.rotate(input)).kind, 'rotated');
      assert.equal((await store.rotate({ ...input, now: now + 5000 })).kind, 'rotated');
      assert.equal((await store.findRefresh(input.newHash, now + 5000))?.token.usedAt, undefined, 'newHash is still the current token');
      assert.equal((await store.rotate(rotation(input.newHash, now + 6000))).kind, 'rotated');
    });

    test('20 concurrent rotations of one token (two connections) → exactly one rotated, 19 grace with its answer, one live token', async () => {
      const now = Date.now();
      const { hash } = await startSession(store, { now });
      const inputs = Array.from({ length: 20 }, (_, i) => rotation(hash, now + 1, { answer: `answer-${i}` }));
      const results = await Promise.all(inputs.map((input, i) => (i % 2 === 0 ? store : under.other).rotate(input)));
      assert.deepEqual(kinds(results), { rotated: 1, grace: 19 });
      const winner = inputs[results.findIndex((r) => r.kind === 'rotated')] as RotateInput;
      for (const r of results) if (r.kind === 'grace') assert.equal(r.answer, winner.answer, 'every loser gets the winner\'s answer');
      // Exactly one live token: the winner's. The losers' new hashes were never stored.
      const found = await Promise.all(inputs.map((input) => store.findRefresh(input.newHash, now + 2)));
      assert.equal(found.filter((f) => f !== undefined && f.token.usedAt === undefined).length, 1);
      assert.equal((await store.rotate(rotation(winner.newHash, now + 3))).kind, 'rotated');
    });

    test('20 concurrent rotations with the grace off → one rotated, one reused (which ends the session), 18 invalid', async () => {
      const now = Date.now();
      const { session, hash } = await startSession(store, { now });
      const inputs = Array.from({ length: 20 }, () => rotation(hash, now + 1, { reuseIntervalMs: 0 }));
      const results = await Promise.all(inputs.map((input, i) => (i % 2 === 0 ? store : under.other).rotate(input)));
      assert.deepEqual(kinds(results), { rotated: 1, reused: 1, invalid: 18 });
      for (const r of results) if (r.kind === 'reused') assert.deepEqual(r, { kind: 'reused', sid: session.sid, sub: session.sub });
      const winner = inputs[results.findIndex((r) => r.kind === 'rotated')] as RotateInput;
      assert.deepEqual(await store.rotate(rotation(winner.newHash, now + 2)), { kind: 'invalid' }, 'no live token is left');
    });

    test('grace: the parent within reuseInterval → the kept answer, nothing changes; after it → reused, session ended', async () => {
      const now = Date.now();
      const { session, hash } = await startSession(store, { now });
      const first = rotation(hash, now + 1000);
      await store.rotate(first);
      const retry = rotation(hash, now + 1000 + REUSE, { answer: 'other' });
      assert.deepEqual(await store.rotate(retry), { kind: 'grace', answer: first.answer });
      assert.deepEqual(await under.other.rotate({ ...retry, newHash: newHash() }), { kind: 'grace', answer: first.answer });
      assert.equal(await store.findRefresh(retry.newHash, now + 1000), undefined, 'a grace stores no new token');
      assert.equal((await store.findRefresh(first.newHash, now + 1000))?.token.usedAt, undefined, 'the current token is unchanged');
      // One millisecond past the interval: reuse.
      assert.deepEqual(await store.rotate(rotation(hash, now + 1000 + REUSE + 1)), { kind: 'reused', sid: session.sid, sub: session.sub });
      assert.deepEqual(await store.rotate(rotation(first.newHash, now + 1000 + REUSE + 2)), { kind: 'invalid' });
    });

    test('grace off (reuseIntervalMs 0): presenting the used token again at once → reused', async () => {
      const now = Date.now();
      const { session, hash } = await startSession(store, { now });
      const first = rotation(hash, now + 1, { reuseIntervalMs: 0 });
      await store.rotate(first);
      assert.deepEqual(await store.rotate(rotation(hash, now + 1, { reuseIntervalMs: 0 })), { kind: 'reused', sid: session.sid, sub: session.sub });
      assert.deepEqual(await store.rotate(rotation(first.newHash, now + 2)), { kind: 'invalid' });
    });

    test('grandparent: a token two rotations back → reused even within the interval; the whole family ends', async () => {
      const now = Date.now();
      const { session, hash } = await startSession(store, { now });
      const first = rotation(hash, now + 1);
      await store.rotate(first);
      const second = rotation(first.newHash, now + 2);
      await store.rotate(second);
      assert.deepEqual(await store.rotate(rotation(hash, now + 3)), { kind: 'reused', sid: session.sid, sub: session.sub });
      assert.deepEqual(await store.rotate(rotation(second.newHash, now + 4)), { kind: 'invalid' }, 'its current token is dead');
      assert.deepEqual(await store.rotate(rotation(first.newHash, now + 4)), { kind: 'invalid' }, 'the parent no longer gets the grace');
      assert.equal(await store.findRefresh(second.newHash, now + 4), undefined);
      const revoked = (await store.revocations(now + 4)).sessions.find((r) => r.sid === session.sid);
      assert.deepEqual(revoked, { sid: session.sid, until: now + 3 + 15 * MINUTE });
    });

    test('idle timeout: a current token older than idleTimeoutMs → invalid and the session ends; younger → rotated', async () => {
      const now = Date.now();
      const idle = 7 * DAY;
      const a = await startSession(store, { now });
      assert.equal((await store.rotate(rotation(a.hash, now + idle, { idleTimeoutMs: idle }))).kind, 'rotated', 'exactly idleTimeoutMs is still fine');
      const b = await startSession(store, { now });
      assert.deepEqual(await store.rotate(rotation(b.hash, now + idle + 1, { idleTimeoutMs: idle })), { kind: 'invalid' });
      assert.deepEqual(await store.rotate(rotation(b.hash, now + 2, { idleTimeoutMs: idle })), { kind: 'invalid' }, 'the session was ended, not only refused');
      assert.ok((await store.revocations(now + idle + 2)).sessions.some((r) => r.sid === b.session.sid));
    });

    test('absolute expiry: at expiresAt the token is invalid and findRefresh finds nothing, rotated or not', async () => {
      const now = Date.now();
      const { session, hash } = await startSession(store, { now, lifetime: MINUTE });
      const first = rotation(hash, now + 1000);
      assert.equal((await store.rotate(first)).kind, 'rotated');
      assert.ok(await store.findRefresh(first.newHash, session.expiresAt - 1));
      assert.equal(await store.findRefresh(first.newHash, session.expiresAt), undefined);
      assert.deepEqual(await store.rotate(rotation(first.newHash, session.expiresAt)), { kind: 'invalid' });
    });

    test('endSession: ends the session (its token → invalid), records the revocation; idempotent', async () => {
      const now = Date.now();
      const { session, hash } = await startSession(store, { now });
      assert.equal(await store.endSession(session.sid, now + 1, now + 15 * MINUTE), true);
      assert.equal(await store.endSession(session.sid, now + 2, now + 10 * MINUTE), false, 'a second logout ends nothing');
      assert.deepEqual(await store.rotate(rotation(hash, now + 3)), { kind: 'invalid' });
      assert.equal(await store.findRefresh(hash, now + 3), undefined);
      const entries = (await store.revocations(now + 3)).sessions.filter((r) => r.sid === session.sid);
      assert.deepEqual(entries, [{ sid: session.sid, until: now + 15 * MINUTE }], 'one entry, the later until kept');
      assert.equal(await store.endSession(newSid(), now, now + MINUTE), false, 'an unknown sid: nothing to end');
    });

    test('revokeSubject: ends every session of the subject and only those; listed in revocations(); latest before and until kept', async () => {
      const now = Date.now();
      const sub = `user-${newSid()}`;
      const a = await startSession(store, { now, sub });
      const b = await startSession(under.other, { now, sub });
      const bystander = await startSession(store, { now });
      assert.deepEqual([...(await store.revokeSubject(sub, now + 10, now + 15 * MINUTE))].sort(), [a.session.sid, b.session.sid].sort());
      for (const { hash } of [a, b]) assert.deepEqual(await store.rotate(rotation(hash, now + 11)), { kind: 'invalid' });
      assert.equal((await store.rotate(rotation(bystander.hash, now + 11))).kind, 'rotated');
      assert.deepEqual((await store.revocations(now + 11)).subjects.filter((r) => r.sub === sub), [{ sub, before: now + 10, until: now + 15 * MINUTE }]);
      // A session created after the revocation is not touched by it; a second revocation ends it and moves `before`.
      const c = await startSession(store, { now: now + 20, sub });
      assert.equal((await store.rotate(rotation(c.hash, now + 21))).kind, 'rotated');
      assert.deepEqual(await store.revokeSubject(sub, now + 30, now + 5 * MINUTE), [c.session.sid]);
      assert.deepEqual((await under.other.revocations(now + 31)).subjects.filter((r) => r.sub === sub), [{ sub, before: now + 30, until: now + 15 * MINUTE }]);
      assert.deepEqual(await store.revokeSubject(`nobody-${newSid()}`, now, now + MINUTE), []);
    });

    test('revocations(now) lists only entries still in force', async () => {
      const now = Date.now();
      const sid = newSid();
      const sub = `user-${newSid()}`;
      await store.endSession(sid, now, now + 1000);
      await store.revokeSubject(sub, now, now + 2000);
      const at = async (t: number) => {
        const { sessions, subjects } = await store.revocations(t);
        return [sessions.some((r) => r.sid === sid), subjects.some((r) => r.sub === sub)];
      };
      assert.deepEqual(await at(now + 999), [true, true]);
      assert.deepEqual(await at(now + 1000), [false, true]);
      assert.deepEqual(await at(now + 2000), [false, false]);
      // A revocation that is over before it starts is not recorded.
      await store.endSession(sid + 'x', now, now);
      assert.ok(!(await store.revocations(now - 1)).sessions.some((r) => r.sid === sid + 'x'));
    });

    test('subscribe: resync first, then every revocation from any connection (logout, reuse, revokeSubject); unsubscribe stops them', async () => {
      const log = new EventLog();
      const unsubscribe = await under.other.subscribe(log.listener);
      await log.next((e) => e.type === 'resync');
      assert.equal(log.events[0]?.type, 'resync', 'resync comes first');
      const now = Date.now();
      const a = await startSession(store, { now });
      await store.endSession(a.session.sid, now + 1, now + MINUTE);
      assert.deepEqual(await log.next((e) => e.type === 'session' && e.sid === a.session.sid), { type: 'session', sid: a.session.sid, until: now + MINUTE });
      const b = await startSession(store, { now });
      const first = rotation(b.hash, now + 1, { reuseIntervalMs: 0 });
      await store.rotate(first);
      await store.rotate(rotation(b.hash, now + 2));
      assert.deepEqual(await log.next((e) => e.type === 'session' && e.sid === b.session.sid), { type: 'session', sid: b.session.sid, until: now + 2 + 15 * MINUTE });
      const sub = `user-${newSid()}`;
      await store.revokeSubject(sub, now + 3, now + MINUTE);
      assert.deepEqual(await log.next((e) => e.type === 'subject' && e.sub === sub), { type: 'subject', sub, before: now + 3, until: now + MINUTE });
      // A throwing listener breaks neither the store nor the other listeners.
      const unsubscribeThrower = await store.subscribe(() => {
        throw new Error('listener bug');
      });
      await unsubscribe();
      const count = log.events.length;
      const c = await startSession(store, { now });
      assert.equal(await store.endSession(c.session.sid, now + 4, now + MINUTE), true);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(log.events.length, count, 'no event after unsubscribe');
      await unsubscribeThrower();
    });

    if (listsKeys) {
      test('every key has a TTL after a full scenario (nothing grows forever)', async () => {
        assert.ok(under.keys);
        const now = Date.now();
        const a = await startSession(store, { now });
        const first = rotation(a.hash, now + 1);
        await store.rotate(first);
        await store.rotate(rotation(a.hash, now + 2)); // grace: keeps the answer key
        const second = rotation(first.newHash, now + 3);
        await store.rotate(second);
        const b = await startSession(store, { now });
        await store.endSession(b.session.sid, now + 4, now + MINUTE);
        const c = await startSession(store, { now, sub: 'ttl-subject' });
        await startSession(store, { now, sub: 'ttl-subject-kept' });
        await store.revokeSubject('ttl-subject', now + 5, now + MINUTE);
        await store.rotate(rotation(c.hash, now + 6));
        const keys = await under.keys();
        assert.ok(keys.length >= 8, `expected the scenario's keys, got ${keys.length}`);
        const kindsSeen = new Set(keys.map(({ key }) => /:(s|t|a|u|rs|rj|rb)(:|$)/.exec(key)?.[1]));
        for (const kind of ['s', 't', 'a', 'u', 'rs', 'rj', 'rb']) assert.ok(kindsSeen.has(kind), `no ${kind} key: ${JSON.stringify(keys)}`);
        for (const { key, pttl } of keys) assert.ok(pttl > 0, `${key} has PTTL ${pttl}`);
        // Session keys live exactly until the session's end (from the caller's clock).
        const session = keys.find(({ key }) => key.endsWith(`s:${a.session.sid}`));
        assert.ok(session && session.pttl <= 30 * DAY && session.pttl > 30 * DAY - MINUTE, JSON.stringify(session));
      });
    }
  });
}
