// The revocation mirror on a real Redis, with every supported client:
// - two instances in two processes share one Redis: a logout, a subject revocation or a detected
//   reuse on one is refused by the other's mirror; the delay is measured (issue 10's target: p99
//   under 100 ms) and only a generous bound is asserted;
// - redis-server killed (SIGKILL) and restarted: no crash, no unhandled rejection, the mirror
//   answers from its last state, then 'unavailable' after maxStalenessMs, then recovers;
// - one instance cut off (TCP proxy) while another process revokes: the revocations apply as
//   soon as it is back.
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RevocationMirror, type MirrorVerdict } from '../../src/core/sessions/revocation-mirror.js';
import type { StoreEvent, TokenStore } from '../../src/index.js';
import { redisStore } from '../../src/redis.js';
import { CLIENT_KINDS, type ClientKind, type TestClient } from './support/clients.js';
import type { Claims, InstanceReply, InstanceRequest } from './support/mirror-instance.js';
import { CuttableProxy, needsOwnServer, testRedis } from './support/redis-server.js';

// Tripwire: any unhandled rejection anywhere in this process fails the file.
const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(reason));
const noUnhandled = (): void => assert.deepEqual(unhandled, [], 'unhandled rejections');

const redis = await testRedis();
const ownSkip = needsOwnServer(redis);
const STALENESS = 300;
const REVOCATIONS = 200;
/** Generous: the target is 100 ms at p99; this only catches a revocation that never arrives. */
const PROPAGATION_BOUND_MS = 2000;

type Request = InstanceRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/** An application instance in a child process (test/redis/support/mirror-instance.ts). */
class Instance {
  readonly #child: ChildProcess;
  readonly #handlers = new Map<number, (reply: InstanceReply) => void>();
  /** Rejects every request still waiting when the instance exits (a crash must fail the test, not hang it). */
  readonly #pending = new Set<(error: Error) => void>();
  #next = 1;
  readonly ready: Promise<void>;
  readonly exited: Promise<number | null>;

  constructor(kind: ClientKind, url: string, prefix: string) {
    const script = fileURLToPath(new URL('./support/mirror-instance.ts', import.meta.url));
    this.#child = fork(script, [kind.name, url, prefix, String(STALENESS)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.exited = new Promise((resolve) =>
      this.#child.once('exit', (code) => {
        for (const reject of this.#pending) reject(new Error(`the instance exited (${code})`));
        resolve(code);
      }),
    );
    this.ready = new Promise((resolve, reject) => {
      // A client that cannot connect retries forever: give up, so that the test fails instead of hanging.
      const timer = setTimeout(() => {
        reject(new Error('the instance was not ready within 20 s'));
        this.#child.kill('SIGKILL');
      }, 20_000);
      this.#handlers.set(0, () => {
        clearTimeout(timer);
        resolve();
      });
      void this.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`instance exited with ${code} before it was ready`));
      });
    });
    this.#child.on('message', (reply: InstanceReply) => this.#handlers.get(reply.id)?.(reply));
  }

  get alive(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** One request, its first reply; `onReply` sees every reply (a watch sends two). */
  send(request: Request, onReply?: (reply: InstanceReply) => void): Promise<InstanceReply> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      if (!this.alive) return reject(new Error('the instance has exited'));
      let first = true;
      this.#pending.add(reject);
      this.#handlers.set(id, (reply) => {
        this.#pending.delete(reject);
        if (typeof reply.error === 'string') reject(new Error(`instance: ${reply.error}`));
        else if (first) resolve(reply);
        first = false;
        onReply?.(reply);
      });
      this.#child.send({ ...request, id });
    });
  }

  /**
   * Starts watching `claims` until the instance's verdict is `until` (or `ms` ran out: `timeout`
   * in the reply). `watching` is the verdict when it started; `done` has the time it changed.
   */
  async watch(claims: Claims, until: MirrorVerdict, ms: number): Promise<{ watching: unknown; done: Promise<InstanceReply> }> {
    let settle!: (reply: InstanceReply) => void;
    const done = new Promise<InstanceReply>((resolve) => (settle = resolve));
    const watching = await this.send({ cmd: 'watch', claims, until, ms }, (reply) => {
      if (reply.phase === 'done') settle(reply);
    });
    return { watching: watching.verdict, done };
  }

  async close(): Promise<void> {
    if (!this.alive) return;
    await this.send({ cmd: 'close' }).catch(() => {});
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}

/** The store, with `onEvent` told of every event right after the mirror got it (synchronously, same turn). */
function tapped(store: TokenStore, onEvent: (event: StoreEvent) => void): TokenStore {
  return new Proxy(store, {
    get(target, key, receiver) {
      if (key === 'subscribe') {
        return (listener: (event: StoreEvent) => void) =>
          target.subscribe((event) => {
            listener(event);
            onEvent(event);
          });
      }
      const value: unknown = Reflect.get(target, key, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Polls a loaded mirror (every 5 ms) until `verdict`; resolves to the ms it took. */
async function untilVerdict(mirror: RevocationMirror, claims: Claims, verdict: MirrorVerdict, ms = 5000): Promise<number> {
  const started = performance.now();
  for (;;) {
    const answer = await mirror.check(claims);
    if (answer === verdict) return performance.now() - started;
    if (performance.now() - started > ms) assert.fail(`still ${answer} after ${ms} ms, waiting for ${verdict}: ${JSON.stringify(claims)}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
const nowSeconds = (): number => Math.floor(Date.now() / 1000);
const newSub = (): string => `user-${randomBytes(6).toString('hex')}`;

for (const kind of CLIENT_KINDS) {
  describe(`revocation mirror: redisStore + ${kind.name}`, { skip: redis.skip }, () => {
    const prefix = `mirror:${randomBytes(4).toString('hex')}:`;
    let a: Instance;
    let b: Instance;
    const clients: TestClient[] = [];
    const mirrors: RevocationMirror[] = [];
    // Bounds, so that a broken instance fails the test instead of hanging the file.
    const bounded = { timeout: 60_000 };
    before(async () => {
      assert.ok(redis.url);
      a = new Instance(kind, redis.url, prefix);
      b = new Instance(kind, redis.url, prefix);
      await Promise.all([a.ready, b.ready]);
    }, bounded);
    after(async () => {
      await Promise.all(mirrors.map((m) => m.close()));
      await Promise.all(clients.map((c) => c.close()));
      await Promise.all([a?.close(), b?.close()]);
      noUnhandled();
    }, bounded);

    /** A mirror in this process, on a client of its own (through `url`), maxStalenessMs 300, tapped. */
    async function localMirror(url: string, onEvent: (event: StoreEvent) => void = () => {}): Promise<RevocationMirror> {
      const client = await kind.connect(url);
      clients.push(client);
      const mirror = new RevocationMirror(tapped(redisStore({ client: client.client, prefix, timeout: 300 }), onEvent), { maxStalenessMs: STALENESS });
      mirrors.push(mirror);
      await mirror.start();
      return mirror;
    }

    test(`two processes: ${REVOCATIONS} logouts, subject revocations and detected reuses on one are refused by the other's mirror (delay measured; each within ${PROPAGATION_BOUND_MS} ms)`, bounded, async (t) => {
      const delays: number[] = [];
      const afterReply: number[] = [];
      const byKind: Record<string, number[]> = { endSession: [], revokeSubject: [], reuse: [] };
      for (let i = 0; i < REVOCATIONS; i++) {
        const how = (['endSession', 'revokeSubject', 'reuse'] as const)[i % 3] as 'endSession' | 'revokeSubject' | 'reuse';
        const sub = newSub();
        const { sid, hash } = (await a.send({ cmd: 'session', sub })) as unknown as { sid: string; hash: string };
        // A subject revocation is watched on a token without sid issued a second before it (the
        // subject rule, not its session's revocation, must refuse it).
        const claims: Claims = how === 'revokeSubject' ? { sub, iat: nowSeconds() - 1 } : { sid, sub, iat: nowSeconds() };
        const { watching, done } = await b.watch(claims, 'revoked', PROPAGATION_BOUND_MS);
        assert.equal(watching, 'ok', `#${i}: the token passes before the revocation`);
        const revoked =
          how === 'endSession' ? await a.send({ cmd: 'endSession', sid })
          : how === 'revokeSubject' ? await a.send({ cmd: 'revokeSubject', sub })
          : await a.send({ cmd: 'reuse', hash });
        if (how === 'reuse') assert.deepEqual([revoked.first, revoked.second], ['rotated', 'reused']);
        assert.equal(revoked.local, 'revoked', 'the revoking instance refuses it at once (apply)');
        const seen = await done;
        assert.ok(seen.timeout !== true, `${how} #${i}: the other instance still answered ${String(seen.verdict)} after ${PROPAGATION_BOUND_MS} ms`);
        const delay = (seen.at as number) - (revoked.at as number);
        delays.push(delay);
        afterReply.push((seen.at as number) - (revoked.done as number));
        byKind[how]?.push(delay);
      }
      const sorted = [...delays].sort((x, y) => x - y);
      const line = (values: number[]): string => {
        const s = [...values].sort((x, y) => x - y);
        return `p50 ${percentile(s, 50).toFixed(2)} ms, p99 ${percentile(s, 99).toFixed(2)} ms, max ${(s[s.length - 1] as number).toFixed(2)} ms`;
      };
      t.diagnostic(`${kind.name}: revocation on A → refused on B, from the start of A's store call: ${line(delays)}; over 100 ms: ${delays.filter((d) => d > 100).length}/${delays.length}`);
      for (const [how, values] of Object.entries(byKind)) t.diagnostic(`  ${how}: ${line(values)}`);
      t.diagnostic(`  refused on B before A's call had resolved: ${afterReply.filter((d) => d < 0).length}/${afterReply.length}`);
      assert.ok((sorted[sorted.length - 1] as number) < PROPAGATION_BOUND_MS);
      noUnhandled();
    });

    test('redis-server killed (SIGKILL) and restarted on the same port: the mirror answers from its last state, then unavailable after maxStalenessMs, then recovers; no crash, no unhandled rejection in any process', { ...bounded, skip: ownSkip }, async (t) => {
      const own = redis.own;
      assert.ok(own && redis.url);
      let atOffline: { at: number; revoked: MirrorVerdict | Promise<MirrorVerdict>; other: MirrorVerdict | Promise<MirrorVerdict> } | undefined;
      const sub = newSub();
      const known = (await a.send({ cmd: 'session', sub })) as unknown as { sid: string };
      const live = (await a.send({ cmd: 'session', sub })) as unknown as { sid: string };
      const mirror = await localMirror(redis.url, (event) => {
        if (event.type === 'offline' && atOffline === undefined) {
          // The same turn in which the mirror learnt it: what it answers from its last state.
          atOffline = { at: performance.now(), revoked: mirror.check({ sid: known.sid }), other: mirror.check({ sid: live.sid }) };
        }
      });
      await a.send({ cmd: 'endSession', sid: known.sid });
      await untilVerdict(mirror, { sid: known.sid }, 'revoked');

      const killedAt = performance.now();
      await own.kill();
      let unavailableAt: number;
      try {
        await untilVerdict(mirror, {}, 'unavailable', 10_000);
        unavailableAt = performance.now();
        // The other process's mirror fails closed too.
        assert.equal((await (await b.watch({}, 'unavailable', 10_000)).done).verdict, 'unavailable');
      } finally {
        await own.restart();
      }
      assert.ok(atOffline, 'the mirror was told offline');
      assert.equal(atOffline.revoked, 'revoked', 'last known state: the ended session is refused');
      assert.equal(atOffline.other, 'ok', 'last known state: a live session passes');
      const sinceOffline = unavailableAt - atOffline.at;
      assert.ok(sinceOffline >= STALENESS - 50, `unavailable ${sinceOffline.toFixed(0)} ms after offline, before maxStalenessMs (${STALENESS})`);

      const recovery = await untilVerdict(mirror, {}, 'ok', 10_000);
      // Events flow again: a logout made now on A reaches this mirror and B's.
      const later = (await a.send({ cmd: 'session', sub })) as unknown as { sid: string };
      await a.send({ cmd: 'endSession', sid: later.sid });
      await untilVerdict(mirror, { sid: later.sid }, 'revoked');
      const bSees = await (await b.watch({ sid: later.sid }, 'revoked', 10_000)).done;
      assert.equal(bSees.verdict, 'revoked', 'the other process recovered too and refuses it');

      t.diagnostic(
        `${kind.name}: offline seen ${(atOffline.at - killedAt).toFixed(0)} ms after the kill; unavailable ${sinceOffline.toFixed(0)} ms after offline (maxStalenessMs ${STALENESS}); ` +
          `answering again ${recovery.toFixed(0)} ms after redis-server was back`,
      );
      for (const instance of [a, b]) {
        assert.ok(instance.alive, 'no instance crashed');
        assert.deepEqual((await instance.send({ cmd: 'status' })).unhandled, [], 'no unhandled rejection in the instance');
      }
      noUnhandled();
    });

    test('one instance cut off (TCP proxy) while another process revokes: last state, then unavailable, then both revocations apply as soon as it is back', { ...bounded, skip: ownSkip }, async (t) => {
      const own = redis.own;
      assert.ok(own);
      const proxy = new CuttableProxy(own.port);
      await proxy.start();
      try {
        let atOffline: { at: number; verdicts: Array<MirrorVerdict | Promise<MirrorVerdict>> } | undefined;
        const sub = newSub();
        const victim = newSub();
        const ended = (await a.send({ cmd: 'session', sub })) as unknown as { sid: string };
        const target = (await a.send({ cmd: 'session', sub })) as unknown as { sid: string };
        const oldToken: Claims = { sub: victim, iat: nowSeconds() - 1 };
        const mirror = await localMirror(proxy.url, (event) => {
          if (event.type === 'offline' && atOffline === undefined) {
            atOffline = { at: performance.now(), verdicts: [mirror.check({ sid: ended.sid }), mirror.check({ sid: target.sid }), mirror.check(oldToken)] };
          }
        });
        await a.send({ cmd: 'endSession', sid: ended.sid });
        await untilVerdict(mirror, { sid: ended.sid }, 'revoked');

        await proxy.cut();
        // Meanwhile, on another instance: a logout and a "log out everywhere", which B sees.
        const { watching, done } = await b.watch({ sid: target.sid }, 'revoked', 5000);
        assert.equal(watching, 'ok');
        await a.send({ cmd: 'endSession', sid: target.sid });
        await a.send({ cmd: 'revokeSubject', sub: victim });
        assert.equal((await done).verdict, 'revoked', 'B, not cut off, refuses it');

        await untilVerdict(mirror, {}, 'unavailable', 10_000);
        const unavailableAt = performance.now();
        assert.ok(atOffline, 'the mirror was told offline');
        assert.deepEqual(atOffline.verdicts, ['revoked', 'ok', 'ok'], 'last known state at the cut');

        await proxy.restore();
        const restoredAt = performance.now();
        // The first answer that is not 'unavailable' comes from the reloaded snapshot: it must
        // hold both revocations made while this instance was cut off.
        let answer: MirrorVerdict;
        for (;;) {
          answer = await mirror.check({ sid: target.sid });
          if (answer !== 'unavailable') break;
          assert.ok(performance.now() - restoredAt < 10_000, 'recovered within 10 s');
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        const recovery = performance.now() - restoredAt;
        assert.equal(answer, 'revoked', 'the logout made while cut off applies');
        assert.equal(mirror.check(oldToken), 'revoked', 'the subject revocation made while cut off applies');
        assert.equal(mirror.check({ sid: ended.sid }), 'revoked');
        assert.equal(mirror.check({ sid: 'never-revoked', sub, iat: nowSeconds() }), 'ok');
        t.diagnostic(`${kind.name}: cut → unavailable after ${(unavailableAt - atOffline.at).toFixed(0)} ms (maxStalenessMs ${STALENESS}); reconnected and reloaded ${recovery.toFixed(0)} ms after the proxy was back`);
        noUnhandled();
      } finally {
        await proxy.cut();
      }
    });
  });
}
