// The local revocation mirror against the real memoryStore, through a wrapper that can do what a
// remote store does to its subscribers: lose events while cut off, report offline and resync,
// fail or hold a reload. Time is the mirror's injected clock, so expiry and staleness are exact.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { JwtGuardError, memoryStore, type Revocations, type StoreEvent, type TokenStore } from '../../../src/index.js';
import { RevocationMirror, type MirrorVerdict } from '../../../src/core/sessions/revocation-mirror.js';
import { rejectsWith } from '../../support/assertions.js';
import { MINUTE, newSid, startSession } from './store-suite.js';

/** Mid-second, so that "the same second" and "the second before" differ from the ms values. */
const T0 = 1_700_000_000_500;
const T0_SECONDS = Math.floor(T0 / 1000);

/** A clock the tests move by hand; the mirror and the store calls both read it. */
class Clock {
  ms = T0;
  readonly now = (): number => this.ms;
}

/**
 * memoryStore, as a remote store looks to a subscriber: `cut()` loses events and reports
 * `offline`, `reconnect()` reports `resync`; `revocations()` can fail or be held. Every answer
 * still comes from the real store underneath.
 */
class RemoteLike implements TokenStore {
  readonly inner = memoryStore();
  readonly #listeners = new Set<(event: StoreEvent) => void>();
  #cut = false;
  /** revocations() rejects (with session_store_unavailable) while this is above 0, counting down; Infinity: always. */
  failRevocations = 0;
  /** subscribe() rejects this many more times. */
  failSubscribe = 0;
  /** When set, revocations() takes its snapshot at once but answers only when the gate opens. */
  gate: Promise<void> | undefined;
  revocationCalls = 0;
  unsubscribed = 0;
  /** Deliver `resync` before subscribe() resolves (as redisStore does), or never. */
  resyncMode: 'inner' | 'before-resolve' | 'never' = 'inner';

  createSession: TokenStore['createSession'] = (session, hash) => this.inner.createSession(session, hash);
  findRefresh: TokenStore['findRefresh'] = (hash, now) => this.inner.findRefresh(hash, now);
  rotate: TokenStore['rotate'] = (input) => this.inner.rotate(input);
  endSession: TokenStore['endSession'] = (sid, now, until) => this.inner.endSession(sid, now, until);
  revokeSubject: TokenStore['revokeSubject'] = (sub, now, until) => this.inner.revokeSubject(sub, now, until);

  async revocations(now: number): Promise<Revocations> {
    this.revocationCalls++;
    if (this.failRevocations > 0) {
      this.failRevocations--;
      throw new JwtGuardError('session_store_unavailable', 'The session store is unavailable.');
    }
    const snapshot = await this.inner.revocations(now);
    if (this.gate !== undefined) await this.gate;
    return snapshot;
  }

  async subscribe(listener: (event: StoreEvent) => void): Promise<() => Promise<void>> {
    if (this.failSubscribe > 0) {
      this.failSubscribe--;
      throw new JwtGuardError('session_store_unavailable', 'The session store is unavailable.');
    }
    this.#listeners.add(listener);
    const unsubscribe = await this.inner.subscribe((event) => {
      if (event.type === 'resync' && this.resyncMode !== 'inner') return;
      if (!this.#cut && this.#listeners.has(listener)) listener(event);
    });
    if (this.resyncMode === 'before-resolve') listener({ type: 'resync' });
    return async () => {
      this.unsubscribed++;
      this.#listeners.delete(listener);
      await unsubscribe();
    };
  }

  get listeners(): number {
    return this.#listeners.size;
  }

  cut(): void {
    this.#cut = true;
    for (const listener of this.#listeners) listener({ type: 'offline' });
  }

  reconnect(): void {
    this.#cut = false;
    for (const listener of this.#listeners) listener({ type: 'resync' });
  }
}

function deferred(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** Polls `condition` every 5 ms for up to `ms` (real time: backoff timers run on it). */
async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`not within ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Lets pending promise callbacks (store answers, reload steps) run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** The verdict of a loaded mirror, which must be synchronous. */
function verdict(mirror: RevocationMirror, claims: Parameters<RevocationMirror['check']>[0]): MirrorVerdict {
  const answer = mirror.check(claims);
  assert.equal(typeof answer, 'string', 'a loaded mirror answers synchronously');
  return answer as MirrorVerdict;
}

async function started(options: { maxStalenessMs?: number; store?: RemoteLike } = {}): Promise<{ store: RemoteLike; mirror: RevocationMirror; clock: Clock }> {
  const clock = new Clock();
  const store = options.store ?? new RemoteLike();
  const mirror = new RevocationMirror(store, { maxStalenessMs: options.maxStalenessMs ?? 30_000, now: clock.now });
  await mirror.start();
  return { store, mirror, clock };
}

describe('RevocationMirror', () => {
  test('a session ended in the store is refused by its sid; other sessions, other subjects and tokens without sid and sub pass', async () => {
    const { store, mirror, clock } = await started();
    const a = await startSession(store, { now: clock.ms, sub: 'alice' });
    const b = await startSession(store, { now: clock.ms, sub: 'alice' });
    const token = { sid: a.session.sid, sub: 'alice', iat: T0_SECONDS };
    assert.equal(verdict(mirror, token), 'ok');
    assert.equal(await store.endSession(a.session.sid, clock.ms, clock.ms + 15 * MINUTE), true);
    // The memory store delivers its event before endSession resolves: refused at once.
    assert.equal(verdict(mirror, token), 'revoked');
    assert.equal(verdict(mirror, { sid: b.session.sid, sub: 'alice', iat: T0_SECONDS }), 'ok');
    assert.equal(verdict(mirror, { sub: 'bob', iat: T0_SECONDS }), 'ok');
    assert.equal(verdict(mirror, {}), 'ok');
    assert.equal(verdict(mirror, { sid: a.session.sid }), 'revoked', 'by sid alone, whatever the other claims');
    await mirror.close();
  });

  test('subject: a token with a sid is refused when iat < floor(before / 1000), one without a sid when iat * 1000 < before; a missing iat is refused', async () => {
    const { store, mirror } = await started();
    // before = T0, mid-second: T0_SECONDS * 1000 < T0.
    await store.revokeSubject('alice', T0, T0 + 15 * MINUTE);
    const sid = newSid(); // a session that was not ended (created after the call)
    // With a sid: the second before is refused; the same second passes (its session's own
    // revocation catches a token minted just before the call; one minted just after works).
    assert.equal(verdict(mirror, { sid, sub: 'alice', iat: T0_SECONDS - 1 }), 'revoked');
    assert.equal(verdict(mirror, { sid, sub: 'alice', iat: T0_SECONDS }), 'ok');
    assert.equal(verdict(mirror, { sid, sub: 'alice', iat: T0_SECONDS + 1 }), 'ok');
    // Without a sid: iat * 1000 < before, so the same second is refused too (fail closed).
    assert.equal(verdict(mirror, { sub: 'alice', iat: T0_SECONDS - 1 }), 'revoked');
    assert.equal(verdict(mirror, { sub: 'alice', iat: T0_SECONDS }), 'revoked');
    assert.equal(verdict(mirror, { sub: 'alice', iat: T0_SECONDS + 1 }), 'ok');
    // No usable iat: refused either way.
    for (const iat of [undefined, '1700000000', Number.NaN, null]) {
      assert.equal(verdict(mirror, { sub: 'alice', iat }), 'revoked', `iat ${String(iat)} without sid`);
      assert.equal(verdict(mirror, { sid, sub: 'alice', iat }), 'revoked', `iat ${String(iat)} with sid`);
    }
    // Other subjects are untouched.
    assert.equal(verdict(mirror, { sub: 'bob', iat: T0_SECONDS - 1 }), 'ok');
    await mirror.close();
  });

  test('subject: a revocation on a whole second lets a sid-less token of that very second pass (iat * 1000 == before)', async () => {
    const { store, mirror } = await started();
    const before = T0_SECONDS * 1000;
    await store.revokeSubject('carol', before, before + MINUTE);
    assert.equal(verdict(mirror, { sub: 'carol', iat: T0_SECONDS }), 'ok');
    assert.equal(verdict(mirror, { sub: 'carol', iat: T0_SECONDS - 1 }), 'revoked');
    await mirror.close();
  });

  test('sub and sid are compared as strings: a numeric sub: 42 is found under "42"; objects find nothing', async () => {
    const { store, mirror } = await started();
    await store.revokeSubject('42', T0, T0 + MINUTE);
    await store.endSession('7', T0, T0 + MINUTE);
    assert.equal(verdict(mirror, { sub: 42, iat: T0_SECONDS - 1 }), 'revoked');
    assert.equal(verdict(mirror, { sid: 7 }), 'revoked');
    assert.equal(verdict(mirror, { sub: { toString: () => '42' }, iat: T0_SECONDS - 1 }), 'ok');
    await mirror.close();
  });

  test('several revocations of one subject keep the latest before and the latest until, in whatever order they arrive', async () => {
    const { mirror, clock } = await started();
    mirror.apply({ type: 'subject', sub: 'dave', before: T0 + 10_000, until: T0 + 100_000 });
    mirror.apply({ type: 'subject', sub: 'dave', before: T0 + 5_000, until: T0 + 200_000 });
    assert.equal(mirror.size, 1);
    const iat = T0_SECONDS + 8; // issued between the two befores: the later one (T0 + 10 s) covers it
    assert.equal(verdict(mirror, { sub: 'dave', iat }), 'revoked');
    clock.ms = T0 + 150_000; // past the first until, before the second
    assert.equal(verdict(mirror, { sub: 'dave', iat }), 'revoked');
    clock.ms = T0 + 200_000;
    assert.equal(verdict(mirror, { sub: 'dave', iat }), 'ok');
    await mirror.close();
  });

  test('entries expire at their until and leave the mirror when touched', async () => {
    const { store, mirror, clock } = await started();
    await store.endSession('s1', T0, T0 + 1000);
    await store.revokeSubject('erin', T0, T0 + 2000);
    assert.equal(mirror.size, 2);
    clock.ms = T0 + 999;
    assert.equal(verdict(mirror, { sid: 's1' }), 'revoked');
    clock.ms = T0 + 1000;
    assert.equal(verdict(mirror, { sid: 's1' }), 'ok');
    assert.equal(verdict(mirror, { sub: 'erin', iat: T0_SECONDS - 1 }), 'revoked');
    assert.equal(mirror.size, 1, 'the expired session entry is gone');
    clock.ms = T0 + 2000;
    assert.equal(verdict(mirror, { sub: 'erin', iat: T0_SECONDS - 1 }), 'ok');
    assert.equal(mirror.size, 0);
    // An event that is already over is not even taken in.
    mirror.apply({ type: 'session', sid: 'old', until: clock.ms });
    assert.equal(mirror.size, 0);
    await mirror.close();
  });

  test('bounded: 20,000 revocations that expire untouched do not stay; the mirror holds about twice its live entries', async () => {
    const { mirror, clock } = await started();
    let most = 0;
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 1000; i++) {
        mirror.apply({ type: i % 2 === 0 ? 'session' : 'subject', sid: `r${round}-${i}`, sub: `r${round}-${i}`, before: clock.ms, until: clock.ms + 1000 } as StoreEvent);
        most = Math.max(most, mirror.size);
      }
      clock.ms += 1000; // every entry of this round has expired
    }
    assert.ok(most <= 4 * 1000, `the mirror grew to ${most} entries with at most 1000 live`);
    assert.ok(mirror.size <= 2 * 1000 + 64, `${mirror.size} entries left`);
    await mirror.close();
  });

  test('a resync replaces the mirror with the store\'s snapshot: a revocation missed while cut off takes effect; what the store does not hold goes', async () => {
    const { store, mirror, clock } = await started();
    const a = await startSession(store, { now: clock.ms });
    mirror.apply({ type: 'session', sid: 'not-in-the-store', until: T0 + MINUTE });
    assert.equal(verdict(mirror, { sid: 'not-in-the-store' }), 'revoked');
    store.cut();
    await store.endSession(a.session.sid, clock.ms, clock.ms + MINUTE);
    await store.revokeSubject('frank', clock.ms, clock.ms + MINUTE);
    assert.equal(verdict(mirror, { sid: a.session.sid }), 'ok', 'the event was lost');
    store.reconnect();
    await until(() => verdict(mirror, { sid: a.session.sid }) === 'revoked', 'the missed logout applies after the reload');
    assert.equal(verdict(mirror, { sub: 'frank', iat: T0_SECONDS - 1 }), 'revoked');
    assert.equal(verdict(mirror, { sid: 'not-in-the-store' }), 'ok', 'replaced, not merged');
    await mirror.close();
  });

  test('events during a reload are not lost: they apply at once, and again on top of the snapshot that did not have them', async () => {
    const { store, mirror, clock } = await started();
    const hold = deferred();
    store.gate = hold.promise;
    const calls = store.revocationCalls;
    store.reconnect(); // a reload starts; its snapshot is taken now, then held
    await until(() => store.revocationCalls === calls + 1, 'the reload started');
    await store.endSession('during', clock.ms, clock.ms + MINUTE); // published during the reload
    mirror.apply({ type: 'subject', sub: 'gina', before: clock.ms, until: clock.ms + MINUTE }); // applied during the reload
    assert.equal(verdict(mirror, { sid: 'during' }), 'revoked', 'at once, before the reload ends');
    store.gate = undefined;
    hold.open();
    clock.ms += 31_000; // past maxStalenessMs: 'unavailable' until the reload is in, then fresh
    await until(() => mirror.check({}) === 'ok', 'reload done');
    assert.equal(store.revocationCalls, calls + 1);
    assert.equal(verdict(mirror, { sid: 'during' }), 'revoked', 'still refused after the snapshot replaced the mirror');
    assert.equal(verdict(mirror, { sub: 'gina', iat: T0_SECONDS - 1 }), 'revoked');
    await mirror.close();
  });

  test('a resync during a reload reloads again (the first snapshot may predate what was lost); the mirror stays stale until then', async () => {
    const { store, mirror, clock } = await started({ maxStalenessMs: 1000 });
    const hold = deferred();
    store.gate = hold.promise;
    store.cut();
    store.reconnect(); // reload 1 starts, snapshot taken, held
    await until(() => store.revocationCalls === 2, 'reload 1 started');
    store.cut();
    await store.endSession('lost', clock.ms, clock.ms + MINUTE); // lost: neither in snapshot 1 nor delivered
    store.reconnect(); // wants reload 2
    store.gate = undefined;
    hold.open();
    await until(() => store.revocationCalls === 3, 'reload 2 ran');
    await until(() => verdict(mirror, { sid: 'lost' }) === 'revoked', 'reload 2 brought the lost revocation');
    clock.ms += 5000; // long past maxStalenessMs: fresh again, so still answering
    assert.equal(verdict(mirror, {}), 'ok');
    await mirror.close();
  });

  test('check before the first load returns a promise that resolves with the verdict once loaded', async () => {
    const clock = new Clock();
    const store = new RemoteLike();
    await store.endSession('early', T0, T0 + MINUTE);
    const hold = deferred();
    store.gate = hold.promise;
    const mirror = new RevocationMirror(store, { maxStalenessMs: 30_000, now: clock.now });
    const loading = mirror.start();
    const revoked = mirror.check({ sid: 'early' });
    const ok = mirror.check({ sid: 'other' });
    assert.ok(revoked instanceof Promise && ok instanceof Promise, 'a promise while loading');
    store.gate = undefined;
    hold.open();
    assert.equal(await revoked, 'revoked');
    assert.equal(await ok, 'ok');
    await loading;
    assert.equal(verdict(mirror, { sid: 'early' }), 'revoked');
    await mirror.close();
  });

  test('check before start() starts the mirror itself', async () => {
    const store = new RemoteLike();
    await store.endSession('early', T0, T0 + MINUTE);
    const mirror = new RevocationMirror(store, { maxStalenessMs: 30_000, now: new Clock().now });
    assert.equal(await mirror.check({ sid: 'early' }), 'revoked');
    await mirror.close();
  });

  test('the first load fails: start() rejects with session_store_unavailable, waiting checks resolve unavailable, later ones answer it at once, and a background retry loads it', async (t) => {
    const clock = new Clock();
    const store = new RemoteLike();
    await store.endSession('early', T0, T0 + MINUTE);
    store.failRevocations = 2;
    const mirror = new RevocationMirror(store, { maxStalenessMs: 30_000, now: clock.now });
    const waiting = mirror.check({ sid: 'early' });
    await rejectsWith(mirror.start(), 'session_store_unavailable');
    assert.equal(await waiting, 'unavailable');
    assert.equal(mirror.check({ sid: 'other' }), 'unavailable', 'not loaded: unavailable at once, not a wait for the retry');
    const started = performance.now();
    await until(() => mirror.check({}) === 'ok', 'loaded by a retry');
    assert.equal(store.revocationCalls, 3);
    assert.equal(verdict(mirror, { sid: 'early' }), 'revoked');
    await rejectsWith(mirror.start(), 'session_store_unavailable'); // start() tells the first attempt's outcome
    t.diagnostic(`loaded ${(performance.now() - started).toFixed(0)} ms after the first failure (2 failures; backoff 50-100 ms, then 100-200 ms)`);
    await mirror.close();
  });

  test('subscribe() fails at start: start() rejects, the mirror subscribes again in the background and loads', async () => {
    const store = new RemoteLike();
    store.failSubscribe = 1;
    await store.endSession('early', T0, T0 + MINUTE);
    const mirror = new RevocationMirror(store, { maxStalenessMs: 30_000, now: new Clock().now });
    await rejectsWith(mirror.start(), 'session_store_unavailable');
    await until(() => mirror.check({}) === 'ok', 'subscribed and loaded by a retry');
    assert.equal(store.listeners, 1);
    assert.equal(verdict(mirror, { sid: 'early' }), 'revoked');
    await store.endSession('later', T0, T0 + MINUTE);
    assert.equal(verdict(mirror, { sid: 'later' }), 'revoked', 'events flow through the new subscription');
    await mirror.close();
  });

  test('a store that sends resync before subscribe() resolves (like redisStore) is loaded once; one that never sends it is loaded all the same', async () => {
    for (const resyncMode of ['before-resolve', 'never'] as const) {
      const store = new RemoteLike();
      store.resyncMode = resyncMode;
      await store.endSession('early', T0, T0 + MINUTE);
      const { mirror } = await started({ store });
      assert.equal(verdict(mirror, { sid: 'early' }), 'revoked', resyncMode);
      await settle();
      assert.equal(store.revocationCalls, 1, `${resyncMode}: one load`);
      await mirror.close();
    }
  });

  test('apply() takes effect at once, without waiting for the store\'s echo', async () => {
    const { store, mirror, clock } = await started();
    store.cut(); // no echo will come
    mirror.apply({ type: 'session', sid: 'mine', until: clock.ms + MINUTE });
    mirror.apply({ type: 'subject', sub: 'hank', before: clock.ms, until: clock.ms + MINUTE });
    assert.equal(verdict(mirror, { sid: 'mine' }), 'revoked');
    assert.equal(verdict(mirror, { sub: 'hank', iat: T0_SECONDS - 1 }), 'revoked');
    // apply() takes revocations only: it does not move the subscription's state.
    mirror.apply({ type: 'resync' });
    await settle();
    assert.equal(store.revocationCalls, 1);
    await mirror.close();
  });

  test('staleness: after offline the mirror answers from its last state for maxStalenessMs, then unavailable for every token; a resync reload makes it fresh', async () => {
    const { store, mirror, clock } = await started({ maxStalenessMs: 300 });
    await store.endSession('known', clock.ms, clock.ms + MINUTE);
    store.cut();
    clock.ms += 299;
    assert.equal(verdict(mirror, { sid: 'known' }), 'revoked');
    assert.equal(verdict(mirror, { sid: 'other' }), 'ok');
    clock.ms += 1;
    for (const claims of [{ sid: 'known' }, { sid: 'other' }, { sub: 'x', iat: 1 }, {}]) {
      assert.equal(verdict(mirror, claims), 'unavailable', JSON.stringify(claims));
    }
    store.reconnect();
    await until(() => verdict(mirror, {}) === 'ok', 'fresh after the reload');
    clock.ms += 10 * MINUTE;
    assert.equal(verdict(mirror, {}), 'ok', 'fresh: no staleness clock runs');
    await mirror.close();
  });

  test('staleness: a reload that fails after a resync keeps the mirror stale from the offline, retries with backoff and recovers', async () => {
    const { store, mirror, clock } = await started({ maxStalenessMs: 1000 });
    store.cut();
    const offlineAt = clock.ms;
    clock.ms += 500;
    store.failRevocations = 3;
    store.reconnect();
    await until(() => store.revocationCalls >= 2, 'the first reload ran');
    assert.equal(verdict(mirror, {}), 'ok', 'still within maxStalenessMs of the offline');
    clock.ms = offlineAt + 1000;
    assert.equal(verdict(mirror, {}), 'unavailable', 'counted from the offline, not from the resync');
    await until(() => mirror.check({}) === 'ok', 'a retry succeeded');
    assert.equal(store.revocationCalls, 5);
    await mirror.close();
  });

  test('staleness: a resync without offline whose reload fails is stale from the resync; maxStalenessMs 0 answers unavailable at once', async () => {
    const { store, mirror, clock } = await started({ maxStalenessMs: 200 });
    store.failRevocations = Infinity;
    store.reconnect();
    const resyncAt = clock.ms;
    await until(() => store.revocationCalls >= 2, 'the reload failed');
    clock.ms = resyncAt + 199;
    assert.equal(verdict(mirror, {}), 'ok');
    clock.ms = resyncAt + 200;
    assert.equal(verdict(mirror, {}), 'unavailable');
    await mirror.close();

    const zero = await started({ maxStalenessMs: 0 });
    assert.equal(verdict(zero.mirror, {}), 'ok');
    zero.store.cut();
    assert.equal(verdict(zero.mirror, {}), 'unavailable');
    await zero.mirror.close();
  });

  test('close(): unsubscribes, stops the retries, settles waiting checks with unavailable, and answers unavailable from then on', async () => {
    const store = new RemoteLike();
    store.failRevocations = Infinity;
    const mirror = new RevocationMirror(store, { maxStalenessMs: 30_000, now: new Clock().now });
    await rejectsWith(mirror.start(), 'session_store_unavailable');
    await until(() => store.revocationCalls >= 2, 'retrying');
    await mirror.close();
    assert.equal(store.unsubscribed, 1);
    assert.equal(store.listeners, 0);
    const calls = store.revocationCalls;
    // Retries come every 50-200 ms at this point: 500 ms would see two or more if they went on.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(store.revocationCalls, calls, 'no retry after close()');
    assert.equal(mirror.check({}), 'unavailable');
    await rejectsWith(mirror.start(), 'session_store_unavailable');
    await mirror.close(); // idempotent

    // A loaded mirror: closed while a check waits on nothing, and events after it are ignored.
    const loaded = await started();
    await loaded.mirror.close();
    assert.equal(loaded.store.unsubscribed, 1);
    loaded.mirror.apply({ type: 'session', sid: 'x', until: T0 + MINUTE });
    assert.equal(loaded.mirror.size, 0);
    assert.equal(loaded.mirror.check({}), 'unavailable');

    // Closed while the first load is held: the waiting check resolves unavailable.
    const held = new RemoteLike();
    const hold = deferred();
    held.gate = hold.promise;
    const mirror2 = new RevocationMirror(held, { maxStalenessMs: 30_000, now: new Clock().now });
    const waiting = mirror2.check({});
    await until(() => held.revocationCalls === 1, 'loading');
    await mirror2.close();
    assert.equal(await waiting, 'unavailable');
    hold.open();
    await settle();
    assert.equal(mirror2.check({}), 'unavailable', 'the late snapshot does not reopen it');
  });

  test('retries never keep the process alive, and close() leaves nothing running: a process with a mirror on a dead store exits by itself', (t) => {
    const mirrorUrl = new URL('../../../src/core/sessions/revocation-mirror.ts', import.meta.url).href;
    for (const close of [false, true]) {
      const script = `
        const { RevocationMirror } = await import(${JSON.stringify(mirrorUrl)});
        const dead = { async subscribe(listener) { queueMicrotask(() => listener({ type: 'resync' })); return async () => {}; }, async revocations() { throw new Error('down'); } };
        const mirror = new RevocationMirror(dead, { maxStalenessMs: 1000 });
        await mirror.start().catch(() => {});
        await new Promise((resolve) => setTimeout(resolve, 300)); // a few retries
        ${close ? 'await mirror.close();' : ''}
        console.log('done');
      `;
      const started = performance.now();
      const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', script], {
        cwd: fileURLToPath(new URL('../../..', import.meta.url)),
        encoding: 'utf8',
        timeout: 20_000,
      });
      assert.equal(child.error, undefined, `close: ${close}: the process did not exit (${String(child.error)})`);
      assert.equal(child.status, 0, child.stderr);
      assert.equal(child.stdout.trim(), 'done');
      t.diagnostic(`close: ${close}: the process exited ${(performance.now() - started).toFixed(0)} ms after spawn`);
    }
  });

  test('never throws: hostile claims, malformed events and snapshots from a custom store, invalid options', async () => {
    const { mirror } = await started();
    const hostile = Object.defineProperty({}, 'sid', { get: () => { throw new Error('boom') } });
    assert.equal(verdict(mirror, hostile), 'unavailable', 'fails closed');
    assert.equal(verdict(mirror, null as never), 'ok');
    for (const event of [null, 'x', { type: 'session', sid: 1, until: T0 + MINUTE }, { type: 'session', sid: 'a', until: 'later' }, { type: 'subject', sub: 'a', until: T0 + MINUTE }, { type: 'other' }]) {
      mirror.apply(event as never);
    }
    assert.equal(mirror.size, 0);
    await mirror.close();

    // A custom store with a broken snapshot: the mirror does not load from it, and says so.
    const store = new RemoteLike();
    store.revocations = async () => ({ sessions: null, subjects: [] }) as never;
    const broken = new RevocationMirror(store, { maxStalenessMs: 1000, now: new Clock().now });
    await rejectsWith(broken.start(), 'session_store_unavailable');
    assert.equal(broken.check({}), 'unavailable');
    await broken.close();

    for (const options of [{ maxStalenessMs: -1 }, { maxStalenessMs: Number.NaN }, { maxStalenessMs: '30s' }, { maxStalenessMs: 1, now: 5 }, undefined]) {
      assert.throws(() => new RevocationMirror(new RemoteLike(), options as never), (error: unknown) => error instanceof JwtGuardError && error.code === 'invalid_options');
    }
    assert.throws(() => new RevocationMirror({} as never, { maxStalenessMs: 1 }), (error: unknown) => error instanceof JwtGuardError && error.code === 'invalid_options');
  });

  test('hot path: check on a loaded, fresh mirror with 10,000 revocations (measured, not asserted)', async (t) => {
    // The real clock (no injected one): Date.now() as the guard uses it.
    const mirror = new RevocationMirror(new RemoteLike(), { maxStalenessMs: 30_000 });
    await mirror.start();
    const now = Date.now();
    const nowSeconds = Math.floor(now / 1000);
    for (let i = 0; i < 5000; i++) {
      mirror.apply({ type: 'session', sid: `s${i}`, until: now + MINUTE });
      mirror.apply({ type: 'subject', sub: `u${i}`, before: now, until: now + MINUTE });
    }
    const cases = [
      { name: 'no entry', claims: { sid: 'kq3X0c8cJ1o0RCXl2Tj2bA', sub: 'user-1', iat: nowSeconds }, expected: 'ok' },
      { name: 'subject revoked, token issued after', claims: { sid: 'kq3X0c8cJ1o0RCXl2Tj2bA', sub: 'u10', iat: nowSeconds + 1 }, expected: 'ok' },
      { name: 'session revoked', claims: { sid: 's10', sub: 'user-1', iat: nowSeconds }, expected: 'revoked' },
      { name: 'subject revoked, token issued before', claims: { sub: 'u10', iat: nowSeconds - 1 }, expected: 'revoked' },
    ] as const;
    const n = 2_000_000;
    let collections = 0;
    const observer = new PerformanceObserver((list) => (collections += list.getEntries().length));
    for (const { name, claims, expected } of cases) {
      let wrong = 0;
      for (let i = 0; i < 200_000; i++) if (mirror.check(claims) !== expected) wrong++; // warm-up
      await settle();
      collections = 0;
      observer.observe({ entryTypes: ['gc'] });
      const start = process.hrtime.bigint();
      for (let i = 0; i < n; i++) if (mirror.check(claims) !== expected) wrong++;
      const ns = Number(process.hrtime.bigint() - start) / n;
      await new Promise((resolve) => setTimeout(resolve, 20)); // GC entries arrive asynchronously
      observer.disconnect();
      assert.equal(wrong, 0, name);
      t.diagnostic(`check, ${name}: ${ns.toFixed(1)} ns/op, ${collections} garbage collections in ${n / 1e6}M calls`);
    }
    await mirror.close();
  });
});
