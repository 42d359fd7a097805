// One application instance in a process of its own, for the revocation-mirror tests: its own
// Redis client (of the kind named in argv), its own redisStore and RevocationMirror, driven by
// the test over IPC. Forked with `--import tsx`:
//   fork(file, [kindName, url, prefix, maxStalenessMs], { execArgv: ['--import', 'tsx'] })
// Every reply carries the id of its request. Times are wall-clock ms with sub-ms resolution
// (performance.timeOrigin + performance.now()), comparable between processes on one machine.
import { createHash, randomBytes } from 'node:crypto';
import { RevocationMirror, type MirrorVerdict } from '../../../src/core/sessions/revocation-mirror.js';
import { JwtGuardError, type StoreEvent } from '../../../src/index.js';
import { redisStore } from '../../../src/redis.js';
import { CLIENT_KINDS } from './clients.js';

/** What the test sends. */
export type InstanceRequest = { readonly id: number } & (
  | { readonly cmd: 'session'; readonly sub: string }
  | { readonly cmd: 'endSession'; readonly sid: string }
  | { readonly cmd: 'revokeSubject'; readonly sub: string }
  | { readonly cmd: 'reuse'; readonly hash: string }
  | { readonly cmd: 'check'; readonly claims: Claims }
  | { readonly cmd: 'watch'; readonly claims: Claims; readonly until: MirrorVerdict; readonly ms: number }
  | { readonly cmd: 'status' }
  | { readonly cmd: 'close' }
);

export interface Claims {
  readonly sid?: string;
  readonly sub?: string;
  readonly iat?: number;
}

/** What the instance answers (several times for `watch`: `watching`, then `done`). */
export type InstanceReply = { readonly id: number } & Record<string, unknown>;

const MINUTE = 60_000;
const wall = (): number => performance.timeOrigin + performance.now();
const newHash = (): string => createHash('sha256').update(randomBytes(32)).digest('base64url');

// Tripwire: the test asks for these at the end (`status`); none may have happened.
const unhandled: string[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(String(reason)));

const [kindName, url, prefix, staleness] = process.argv.slice(2) as [string, string, string, string];
const kind = CLIENT_KINDS.find((k) => k.name === kindName);
if (kind === undefined) throw new Error(`unknown client kind ${kindName}`);
const client = await kind.connect(url);
const store = redisStore({ client: client.client, prefix, timeout: 300 });
const mirror = new RevocationMirror(store, { maxStalenessMs: Number(staleness) });
await mirror.start();

const reply = (message: InstanceReply): void => void process.send?.(message);

/**
 * Runs a store write, retrying while the store is unavailable (Redis restarting, this client
 * reconnecting) for up to 5 s; `at` is when the attempt that succeeded started.
 */
async function write<T>(call: () => Promise<T>): Promise<{ value: T; at: number }> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const at = wall();
    try {
      return { value: await call(), at };
    } catch (error) {
      if (!(error instanceof JwtGuardError) || error.code !== 'session_store_unavailable' || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
}

/** Applies a revocation this instance made to its own mirror, as the session manager does, and checks it at once. */
function applyLocally(event: StoreEvent, claims: Claims): MirrorVerdict | 'pending' {
  mirror.apply(event);
  const verdict = mirror.check(claims);
  return typeof verdict === 'string' ? verdict : 'pending';
}

async function handle(request: InstanceRequest): Promise<void> {
  const { id } = request;
  switch (request.cmd) {
    case 'session': {
      const now = Date.now();
      const sid = randomBytes(16).toString('base64url');
      const hash = newHash();
      await write(() => store.createSession({ sid, sub: request.sub, claims: JSON.stringify({ sub: request.sub }), createdAt: now, expiresAt: now + 24 * 60 * MINUTE }, hash));
      return reply({ id, sid, hash });
    }
    case 'endSession': {
      const until = Date.now() + 15 * MINUTE;
      const { value, at } = await write(() => store.endSession(request.sid, Date.now(), until));
      const done = wall();
      return reply({ id, ended: value, at, done, local: applyLocally({ type: 'session', sid: request.sid, until }, { sid: request.sid }) });
    }
    case 'revokeSubject': {
      const until = Date.now() + 15 * MINUTE;
      let before = 0;
      const { value, at } = await write(() => store.revokeSubject(request.sub, (before = Date.now()), until));
      const done = wall();
      return reply({ id, ended: value, at, done, local: applyLocally({ type: 'subject', sub: request.sub, before, until }, { sub: request.sub, iat: Math.floor(before / 1000) - 1 }) });
    }
    case 'reuse': {
      // Rotate once, then present the used token again with the grace off: reuse, the session ends.
      const until = Date.now() + 15 * MINUTE;
      const rotation = (now: number) => ({ hash: request.hash, newHash: newHash(), now, reuseIntervalMs: 0, answer: 'a', revokedUntil: until });
      const first = await write(() => store.rotate(rotation(Date.now())));
      const { value, at } = await write(() => store.rotate(rotation(Date.now())));
      const done = wall();
      const local = value.kind === 'reused' ? applyLocally({ type: 'session', sid: value.sid, until }, { sid: value.sid }) : 'not reused';
      return reply({ id, first: first.value.kind, second: value.kind, at, done, local });
    }
    case 'check':
      return reply({ id, verdict: await mirror.check(request.claims) });
    case 'watch': {
      // Polls the mirror on every turn of the event loop (I/O runs in between), so the moment
      // the verdict changes is seen within a turn.
      const first = await mirror.check(request.claims);
      reply({ id, phase: 'watching', verdict: first });
      const deadline = performance.now() + request.ms;
      const poll = (): void => {
        const verdict = mirror.check(request.claims);
        if (verdict === request.until) return reply({ id, phase: 'done', verdict, at: wall() });
        if (performance.now() > deadline) return reply({ id, phase: 'done', verdict: typeof verdict === 'string' ? verdict : 'pending', timeout: true });
        setImmediate(poll);
      };
      setImmediate(poll);
      return;
    }
    case 'status':
      return reply({ id, unhandled });
    case 'close':
      await mirror.close();
      await client.close();
      reply({ id });
      process.disconnect();
      return;
  }
}

process.on('message', (request: InstanceRequest) => {
  handle(request).catch((error: unknown) => reply({ id: request.id, error: String(error) }));
});
reply({ id: 0, ready: true });
