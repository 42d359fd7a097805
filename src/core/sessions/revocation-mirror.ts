import { JwtGuardError } from '../errors/jwt-guard-error.js';
import { retryDelay, unrefTimer } from './internal/retry.js';
import type { Revocations, StoreEvent, TokenStore } from './types.js';

/**
 * Options of {@link RevocationMirror}.
 *
 * @example
 * ```ts
 * const options: MirrorOptions = { maxStalenessMs: 30_000 }
 * const mirror = new RevocationMirror(store, options)
 * ```
 */
export interface MirrorOptions {
  /**
   * How long the mirror keeps answering from its last known state once it may be missing
   * revocations (the store's subscription went `offline`, or a reload failed), in milliseconds.
   * Past it, {@link RevocationMirror.check} answers `'unavailable'` for every token until a reload
   * succeeds. `0` never answers from a stale mirror; `Infinity` always does.
   */
  maxStalenessMs: number;
  /** The clock, in ms since the epoch (default `Date.now`); tests move time with it. */
  now?: () => number;
}

/**
 * What {@link RevocationMirror.check} says about a verified access token.
 *
 * - `'ok'`: nothing in force revokes it.
 * - `'revoked'`: its session has ended, or its subject was revoked after it was issued (401 `token_revoked`).
 * - `'unavailable'`: the mirror cannot tell: not loaded, too stale, or closed (503
 *   `session_store_unavailable`: fail closed).
 *
 * @example
 * ```ts
 * const verdict: MirrorVerdict = await mirror.check(payload)
 * if (verdict !== 'ok') throw new JwtGuardError(verdict === 'revoked' ? 'token_revoked' : 'session_store_unavailable', 'Refused.')
 * ```
 */
export type MirrorVerdict = 'ok' | 'revoked' | 'unavailable';

/** An ended session, as the mirror holds it. `seq`: when it was last written (see #reloadOnce). */
interface SessionEntry {
  until: number;
  seq: number;
}

/** A revoked subject: `before` (ms) and the same in whole seconds, precomputed for the `iat` comparison. */
interface SubjectEntry {
  before: number;
  beforeSeconds: number;
  until: number;
  seq: number;
}

/** The mirror is swept whole when it holds this many entries, then each time it has doubled. */
const MIN_SWEEP = 64;

const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/**
 * A `sid` or `sub` claim as the key the store knows it by. Subjects are compared as strings
 * (a store keeps `sub` as a string), so a numeric `sub: 42` is found under `'42'`; values that
 * have no string form worth comparing (objects, null) find nothing.
 */
function keyOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return undefined;
}

/**
 * Every process's local copy of what is revoked (ended sessions, subjects revoked before a time),
 * so that checking an access token never makes a network call. It subscribes to the
 * {@link TokenStore}'s events and loads the whole state with `store.revocations(now)` on start and
 * after every reconnection (`resync`), replacing what it held: the store is the truth, and a
 * revocation issued while this process was cut off takes effect as soon as it is back.
 *
 * - **Cheap**: once loaded, {@link check} is synchronous: two `Map` lookups; a token that no entry
 *   refuses reads no clock and allocates nothing.
 * - **Bounded**: an entry leaves when its `until` has passed (the last access token it concerns
 *   has expired), found lazily by `check` and swept whole each time the mirror doubles in size.
 * - **Fail closed**: when the subscription drops or a reload fails, the mirror answers from its
 *   last known state for at most `maxStalenessMs`, then `'unavailable'` for every token until a
 *   reload succeeds; reloads are retried with backoff (100 ms doubling to 5 s) until then.
 * - **Never throws** from `check` or from store events, and leaves no unhandled rejection.
 *
 * Subject rule: a token of a revoked `sub` is refused when it was issued before the revocation
 * (`before`, ms). Tokens carry `iat` in whole seconds, so a token **with** a `sid` is refused when
 * `iat < floor(before / 1000)`: one minted in the same second just before the call is caught by
 * its session's revocation instead (revoking a subject ends every session of it), and one minted
 * right after the call works. A token **without** a `sid` has no session to catch it, so it is
 * refused when `iat * 1000 < before`: one minted within the same second after the call is refused
 * too. A token of a revoked subject whose `iat` is missing or not a number is refused either way
 * (fail closed).
 *
 * Not exported from the package: the session manager owns one mirror per guard, applies the
 * revocations it makes, and turns `'revoked'` / `'unavailable'` into 401 `token_revoked` / 503
 * `session_store_unavailable`.
 *
 * @example
 * ```ts
 * import { memoryStore } from '../../index.js'
 * import { RevocationMirror } from './revocation-mirror.js'
 *
 * const store = memoryStore()
 * const mirror = new RevocationMirror(store, { maxStalenessMs: 30_000 })
 * await mirror.start()
 *
 * await store.endSession(sid, Date.now(), Date.now() + 15 * 60_000)
 * mirror.apply({ type: 'session', sid, until: Date.now() + 15 * 60_000 }) // at once, before the echo
 * mirror.check({ sid, sub: 'user-1', iat: 1_700_000_000 })                // 'revoked'
 * await mirror.close()
 * ```
 */
export class RevocationMirror {
  readonly #store: TokenStore;
  readonly #maxStalenessMs: number;
  /** The injected clock; `undefined` for `Date.now`, called directly (see #time). */
  readonly #clock: (() => number) | undefined;

  #sessions = new Map<string, SessionEntry>();
  #subjects = new Map<string, SubjectEntry>();
  /** Counts writes into the maps, so that a reload can tell which entries came in while it ran. */
  #seq = 0;
  #sweepAt = MIN_SWEEP;

  /** Since when the mirror may be missing revocations; `undefined` while it is known to be current. */
  #staleSince: number | undefined;
  /** The subscription is live (between a `resync` and the next `offline`). */
  #online = false;
  #loaded = false;
  #closed = false;

  #started = false;
  #unsubscribe: (() => Promise<void>) | undefined;
  #subscribing: Promise<void> | undefined;
  /** A `resync` arrived from the current subscription (some stores send it before `subscribe` resolves). */
  #sawResync = false;
  /** A reload is wanted (a `resync`, a failed reload); `#reloading` while the reload loop runs. */
  #reloadWanted = false;
  #reloading = false;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** The waiting retry is a reload (which a `resync` may bring forward), not a new subscription. */
  #retryIsReload = false;
  #failures = 0;
  #lastError: unknown;

  /** Settles with the first load attempt: true once loaded, false when it failed or the mirror closed first. */
  readonly #firstAttempt: Promise<boolean>;
  #settleFirstAttempt!: (loaded: boolean) => void;
  #firstAttemptSettled = false;

  /** The subscriber handed to the store: one function per mirror, never throwing. */
  readonly #listener = (event: StoreEvent): void => {
    try {
      this.#onEvent(event);
    } catch {
      // An event that cannot be applied (a malformed one from a custom store) is dropped; the
      // next reload brings the truth.
    }
  };

  /**
   * Creates a mirror of `store`'s revocations. Nothing happens until {@link start} (or the first
   * {@link check}).
   *
   * @example
   * ```ts
   * const mirror = new RevocationMirror(redisStore({ client }), { maxStalenessMs: 30_000 })
   * ```
   */
  constructor(store: TokenStore, options: MirrorOptions) {
    const { maxStalenessMs, now } = options ?? ({} as MirrorOptions);
    if (typeof maxStalenessMs !== 'number' || Number.isNaN(maxStalenessMs) || maxStalenessMs < 0) {
      throw new JwtGuardError('invalid_options', `jwtguard: \`maxStalenessMs\` must be a non-negative number of milliseconds; got ${String(maxStalenessMs)}.`);
    }
    if (now !== undefined && typeof now !== 'function') throw new JwtGuardError('invalid_options', 'jwtguard: `now` must be a function returning milliseconds.');
    if (typeof store !== 'object' || store === null || typeof store.subscribe !== 'function' || typeof store.revocations !== 'function') {
      throw new JwtGuardError('invalid_options', 'jwtguard: the revocation mirror needs a TokenStore.');
    }
    this.#store = store;
    this.#maxStalenessMs = maxStalenessMs;
    this.#clock = now;
    this.#firstAttempt = new Promise<boolean>((resolve) => {
      this.#settleFirstAttempt = (loaded) => {
        if (this.#firstAttemptSettled) return;
        this.#firstAttemptSettled = true;
        resolve(loaded);
      };
    });
  }

  /**
   * Subscribes to the store and loads the first snapshot. Resolves once it is in; rejects with
   * `session_store_unavailable` when the first attempt fails, and keeps retrying in the
   * background (with backoff) until it succeeds or {@link close} is called. Calling it again
   * returns the outcome of the same first attempt.
   *
   * @example
   * ```ts
   * try {
   *   await mirror.start()
   * } catch (err) {
   *   // Redis is down at boot: check() answers 'unavailable' until a retry succeeds
   * }
   * ```
   */
  start(): Promise<void> {
    this.#begin();
    return this.#firstAttempt.then((loaded) => {
      if (!loaded) throw new JwtGuardError('session_store_unavailable', 'The revocation mirror could not load the revocations from the session store.', { cause: this.#lastError });
    });
  }

  /**
   * Whether a verified access token is revoked, by its `sid`, `sub` and `iat` claims. Call it for
   * every request, verified-token cache hits included. Once the first snapshot is loaded it
   * answers synchronously (two `Map` lookups); before that it returns a promise
   * that settles with the first load (`'unavailable'` if that fails; later calls answer
   * `'unavailable'` at once until a retry succeeds). Never throws, never rejects.
   *
   * @example
   * ```ts
   * const verdict = mirror.check(payload)
   * const answer = typeof verdict === 'string' ? verdict : await verdict
   * if (answer === 'revoked') throw new JwtGuardError('token_revoked', 'The token has been revoked.')
   * if (answer === 'unavailable') throw new JwtGuardError('session_store_unavailable', 'Revocations are unknown.')
   * ```
   */
  check(claims: { readonly sid?: unknown; readonly sub?: unknown; readonly iat?: unknown }): MirrorVerdict | Promise<MirrorVerdict> {
    if (!this.#loaded || this.#closed) {
      if (this.#closed || this.#firstAttemptSettled) return 'unavailable';
      this.#begin();
      return this.#firstAttempt.then(() => this.#verdict(claims));
    }
    return this.#verdict(claims);
  }

  /**
   * Applies a revocation this process has just recorded in the store (after `endSession`,
   * `revokeSubject` or a `reused` rotation resolved), so that it takes effect here at once, before
   * the store's event comes back. Only `session` and `subject` events are taken; anything else
   * (or a malformed event) is ignored. The next reload replaces the mirror with the store's
   * state, so apply only what the store holds.
   *
   * @example
   * ```ts
   * const now = Date.now()
   * await store.revokeSubject('user-1', now, now + 15 * 60_000)
   * mirror.apply({ type: 'subject', sub: 'user-1', before: now, until: now + 15 * 60_000 })
   * ```
   */
  apply(event: StoreEvent): void {
    if (this.#closed || typeof event !== 'object' || event === null) return;
    if (event.type === 'session' || event.type === 'subject') this.#listener(event);
  }

  /**
   * Ends the subscription and every retry; the mirror forgets what it held and answers
   * `'unavailable'` from then on (pending `check` promises included). Idempotent.
   *
   * @example
   * ```ts
   * process.on('SIGTERM', async () => {
   *   await mirror.close()
   *   server.close()
   * })
   * ```
   */
  async close(): Promise<void> {
    if (this.#closed) {
      await this.#subscribing;
      return;
    }
    this.#closed = true;
    this.#loaded = false;
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#sessions = new Map();
    this.#subjects = new Map();
    this.#settleFirstAttempt(false);
    // A subscription still being made is ended by #subscribe itself once it resolves.
    await this.#subscribing;
    const unsubscribe = this.#unsubscribe;
    this.#unsubscribe = undefined;
    if (unsubscribe !== undefined) {
      try {
        await unsubscribe();
      } catch {
        // The subscription is gone either way.
      }
    }
  }

  /**
   * How many revocations the mirror holds (ended sessions plus revoked subjects), expired ones
   * not yet swept included. For metrics and tests.
   *
   * @example
   * ```ts
   * metrics.gauge('jwtguard.mirror.entries', mirror.size)
   * ```
   */
  get size(): number {
    return this.#sessions.size + this.#subjects.size;
  }

  /**
   * The answer on a loaded mirror; it runs on every request. A token that finds no entry costs two
   * `Map` lookups and allocates nothing. The clock is read only to confirm a refusal (an entry
   * past its `until` no longer refuses, and leaves): `Date.now()` returns a boxed number.
   */
  #verdict(claims: { readonly sid?: unknown; readonly sub?: unknown; readonly iat?: unknown }): MirrorVerdict {
    if (!this.#loaded || this.#closed) return 'unavailable';
    try {
      const staleSince = this.#staleSince;
      if (staleSince !== undefined && this.#time() - staleSince >= this.#maxStalenessMs) return 'unavailable';
      if (typeof claims !== 'object' || claims === null) return 'ok';
      const sid = keyOf(claims.sid);
      if (sid !== undefined) {
        const session = this.#sessions.get(sid);
        if (session !== undefined) {
          if (session.until > this.#time()) return 'revoked';
          this.#sessions.delete(sid);
        }
      }
      const sub = keyOf(claims.sub);
      if (sub !== undefined) {
        const subject = this.#subjects.get(sub);
        if (subject !== undefined) {
          const iat = claims.iat;
          // The one-second rule (see the class documentation): a session's own revocation covers
          // the second of the call for tokens with a sid. A missing iat is refused (fail closed).
          const issuedBefore = !isTime(iat) || (sid !== undefined ? iat < subject.beforeSeconds : iat * 1000 < subject.before);
          // A token issued after the revocation (the user logged in again) passes without a clock read.
          if (issuedBefore) {
            if (subject.until > this.#time()) return 'revoked';
            this.#subjects.delete(sub);
          }
        }
      }
      return 'ok';
    } catch {
      // Only a hostile claims object (a throwing getter) or clock gets here: refuse, never throw.
      return 'unavailable';
    }
  }

  /**
   * The time in ms. `Date.now()` called directly, not through a stored function: V8 then keeps
   * the result unboxed, and a check that finds an entry allocates nothing.
   */
  #time(): number {
    return this.#clock === undefined ? Date.now() : this.#clock();
  }

  #begin(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.#subscribing = this.#subscribe();
  }

  async #subscribe(): Promise<void> {
    this.#sawResync = false;
    let unsubscribe: () => Promise<void>;
    try {
      unsubscribe = await this.#store.subscribe(this.#listener);
    } catch (error) {
      if (this.#closed) return;
      this.#lastError = error;
      this.#settleFirstAttempt(false);
      this.#retry(false, () => {
        this.#subscribing = this.#subscribe();
      });
      return;
    }
    if (this.#closed) {
      try {
        await unsubscribe();
      } catch {
        // closing anyway
      }
      return;
    }
    this.#unsubscribe = unsubscribe;
    this.#failures = 0;
    // The contract sends `resync` first; a store that did not (yet) is loaded all the same.
    if (!this.#sawResync) this.#onEvent({ type: 'resync' });
  }

  #onEvent(event: StoreEvent): void {
    if (this.#closed) return;
    switch (event.type) {
      case 'session':
        if (typeof event.sid === 'string' && isTime(event.until)) this.#addSession(event.sid, event.until, ++this.#seq, this.#time());
        return;
      case 'subject':
        if (typeof event.sub === 'string' && isTime(event.before) && isTime(event.until)) this.#addSubject(event.sub, event.before, event.until, ++this.#seq, this.#time());
        return;
      case 'offline':
        this.#online = false;
        this.#staleSince ??= this.#time();
        return;
      case 'resync':
        this.#sawResync = true;
        this.#online = true;
        // Events may have been lost before it: not current until the reload is in.
        this.#staleSince ??= this.#time();
        this.#reloadWanted = true;
        // Back online: a reload waiting for its backoff goes now.
        if (this.#retryTimer !== undefined && this.#retryIsReload) {
          clearTimeout(this.#retryTimer);
          this.#retryTimer = undefined;
          this.#failures = 0;
        }
        void this.#reloadLoop();
        return;
    }
  }

  /** Reloads until no reload is wanted any more; one loop at a time, so snapshots never cross. */
  async #reloadLoop(): Promise<void> {
    if (this.#reloading || this.#closed) return;
    this.#reloading = true;
    try {
      while (this.#reloadWanted && !this.#closed) {
        this.#reloadWanted = false;
        if (!(await this.#reloadOnce())) {
          if (this.#closed) return;
          this.#reloadWanted = true;
          this.#staleSince ??= this.#time();
          this.#settleFirstAttempt(false);
          this.#retry(true, () => void this.#reloadLoop());
          return;
        }
      }
    } finally {
      this.#reloading = false;
    }
  }

  /**
   * One reload: the store's snapshot replaces the maps, except that entries written after the
   * reload started (events and `apply` calls that may postdate the snapshot) are merged back on
   * top, so nothing that arrived meanwhile is lost. Merging is safe because revocations only ever
   * grow (`until` and `before` take the maximum).
   */
  async #reloadOnce(): Promise<boolean> {
    const startSeq = this.#seq;
    let snapshot: Revocations;
    try {
      snapshot = await this.#store.revocations(this.#time());
    } catch (error) {
      this.#lastError = error;
      return false;
    }
    if (this.#closed) return true;
    const now = this.#time();
    const previousSessions = this.#sessions;
    const previousSubjects = this.#subjects;
    this.#sessions = new Map();
    this.#subjects = new Map();
    try {
      for (const { sid, until } of snapshot.sessions) if (typeof sid === 'string' && isTime(until)) this.#addSession(sid, until, 0, now);
      for (const { sub, before, until } of snapshot.subjects) if (typeof sub === 'string' && isTime(before) && isTime(until)) this.#addSubject(sub, before, until, 0, now);
    } catch (error) {
      // A malformed snapshot (from a custom store): keep what we had and try again later.
      this.#sessions = previousSessions;
      this.#subjects = previousSubjects;
      this.#lastError = error;
      return false;
    }
    for (const [sid, entry] of previousSessions) if (entry.seq > startSeq) this.#addSession(sid, entry.until, entry.seq, now);
    for (const [sub, entry] of previousSubjects) if (entry.seq > startSeq) this.#addSubject(sub, entry.before, entry.until, entry.seq, now);
    this.#sweepAt = Math.max(MIN_SWEEP, 2 * this.size);
    this.#loaded = true;
    this.#failures = 0;
    // Current only if the subscription is live and no newer resync asks for another reload.
    if (this.#online && !this.#reloadWanted) this.#staleSince = undefined;
    this.#settleFirstAttempt(true);
    return true;
  }

  #addSession(sid: string, until: number, seq: number, now: number): void {
    if (until <= now) return;
    const entry = this.#sessions.get(sid);
    if (entry === undefined) {
      this.#sessions.set(sid, { until, seq });
      this.#maybeSweep(now);
    } else {
      entry.until = Math.max(entry.until, until);
      entry.seq = Math.max(entry.seq, seq);
    }
  }

  /** Several revocations of one subject fold into one entry: the latest `before`, the latest `until`. */
  #addSubject(sub: string, before: number, until: number, seq: number, now: number): void {
    if (until <= now) return;
    const entry = this.#subjects.get(sub);
    if (entry === undefined) {
      this.#subjects.set(sub, { before, beforeSeconds: Math.floor(before / 1000), until, seq });
      this.#maybeSweep(now);
    } else {
      entry.before = Math.max(entry.before, before);
      entry.beforeSeconds = Math.floor(entry.before / 1000);
      entry.until = Math.max(entry.until, until);
      entry.seq = Math.max(entry.seq, seq);
    }
  }

  /** Amortised O(1) per insertion: the mirror holds at most about twice its live entries (and at least MIN_SWEEP). */
  #maybeSweep(now: number): void {
    if (this.size < this.#sweepAt) return;
    for (const [sid, entry] of this.#sessions) if (entry.until <= now) this.#sessions.delete(sid);
    for (const [sub, entry] of this.#subjects) if (entry.until <= now) this.#subjects.delete(sub);
    this.#sweepAt = Math.max(MIN_SWEEP, 2 * this.size);
  }

  /** Runs `again` after the next backoff delay, unless the mirror closes first. */
  #retry(reload: boolean, again: () => void): void {
    if (this.#closed || this.#retryTimer !== undefined) return;
    this.#retryIsReload = reload;
    const delay = retryDelay(this.#failures++);
    this.#retryTimer = unrefTimer(
      setTimeout(() => {
        this.#retryTimer = undefined;
        if (!this.#closed) again();
      }, delay),
    );
  }
}
