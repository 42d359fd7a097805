/**
 * The storage contract of sessions: what a session and a refresh-token record are, what a store
 * must do with them, and the revocation events it publishes. The guard's refresh and logout
 * endpoints are written against {@link TokenStore} only, so any backend that keeps this contract
 * works: {@link memoryStore} (one process, the default) and `redisStore` from `jwtguard/redis`
 * (many processes) are the two shipped.
 *
 * All times are milliseconds since the epoch, always passed in by the caller (`now`), never read
 * from a clock inside the store: every instance judges expiry by the same numbers, and tests can
 * move time freely.
 *
 * @module
 */

/**
 * A login session: one per successful login, ended by logout, by reuse detection, by
 * `revokeSubject`, or by reaching `expiresAt`.
 *
 * @example
 * ```ts
 * const session: SessionRecord = {
 *   sid: 'kq3X0c8cJ1o0RCXl2Tj2bA',            // random, at least 128 bits, base64url
 *   sub: 'user-1',
 *   claims: JSON.stringify({ sub: 'user-1', role: 'admin' }),
 *   createdAt: Date.now(),
 *   expiresAt: Date.now() + 30 * 24 * 3600_000,
 * }
 * ```
 */
export interface SessionRecord {
  /** Session id: random (at least 128 bits), base64url. Access tokens of the session carry it as `sid`. */
  readonly sid: string;
  /** The subject (`sub` claim) of the login payload, or `undefined` when it has none; indexes `revokeSubject`. */
  readonly sub: string | undefined;
  /** The login payload as a JSON string. Opaque to the store: it keeps and returns it unchanged. */
  readonly claims: string;
  /** When the session was created. */
  readonly createdAt: number;
  /**
   * Absolute end of the session. Rotation never moves it; a store may forget the session and all
   * its token records from this time on (their TTL).
   */
  readonly expiresAt: number;
}

/**
 * One refresh token as the store knows it: by its hash only. The token itself (32 random bytes,
 * base64url) goes to the client and never to the store, so a leaked store yields no usable token.
 *
 * @example
 * ```ts
 * const found = await store.findRefresh(hash, Date.now())
 * if (found?.token.usedAt !== undefined) console.log('already used, replaced by', found.token.child)
 * ```
 */
export interface RefreshRecord {
  /** base64url(SHA-256(token)): 43 characters. */
  readonly hash: string;
  /** The session the token belongs to. */
  readonly sid: string;
  /** When the token was issued (login or the rotation that created it); the idle timeout counts from here. */
  readonly issuedAt: number;
  /** When the token was exchanged, or `undefined` while it is the session's current token. */
  readonly usedAt: number | undefined;
  /** The hash of the token that replaced it, once used. */
  readonly child: string | undefined;
}

/**
 * What {@link TokenStore.findRefresh} returns: a token and its (live) session.
 *
 * @example
 * ```ts
 * const found: RefreshLookup | undefined = await store.findRefresh(hash, Date.now())
 * const claims = found && JSON.parse(found.session.claims)
 * ```
 */
export interface RefreshLookup {
  readonly session: SessionRecord;
  readonly token: RefreshRecord;
}

/**
 * The input of one rotation ({@link TokenStore.rotate}).
 *
 * @example
 * ```ts
 * const input: RotateInput = {
 *   hash, newHash, now: Date.now(),
 *   idleTimeoutMs: 7 * 24 * 3600_000,
 *   reuseIntervalMs: 10_000,
 *   answer: encryptedResponse,               // kept for reuseIntervalMs, returned to a grace retry
 *   revokedUntil: Date.now() + 15 * 60_000,  // when the session's last access token expires
 * }
 * ```
 */
export interface RotateInput {
  /** Hash of the presented refresh token. */
  readonly hash: string;
  /** Hash of the token that replaces it (fresh, random, created by the caller). */
  readonly newHash: string;
  /** The current time. */
  readonly now: number;
  /** A current token older than this (`now - issuedAt > idleTimeoutMs`) is dead, and so is its session. Omit for no idle limit. */
  readonly idleTimeoutMs?: number | undefined;
  /**
   * The grace for concurrent refreshes: the immediate parent of the current token, presented at
   * most this long after its use, gets `answer` back instead of ending the session. 0 turns it off.
   */
  readonly reuseIntervalMs: number;
  /**
   * Opaque to the store (the caller puts the encrypted response here): kept for
   * `reuseIntervalMs` only, tied to `hash`, and returned by a `grace` result.
   */
  readonly answer: string;
  /**
   * When the rotation ends the session (reuse detected, idle timeout), the session revocation is
   * kept until this time: when the last access token that can carry this `sid` has expired.
   */
  readonly revokedUntil: number;
}

/**
 * The outcome of {@link TokenStore.rotate}.
 *
 * - `rotated`: `hash` was the current token; `newHash` is current now. Mint a new pair.
 * - `grace`: `hash` was rotated moments ago (a second tab, a retried request): answer with the
 *   kept `answer`. Nothing changed.
 * - `reused`: `hash` was used before and is not eligible for the grace: the session has been
 *   ended and its revocation published. Answer `refresh_token_reused`.
 * - `invalid`: unknown token, ended or expired session, idle timeout. Answer `refresh_token_invalid`.
 *
 * @example
 * ```ts
 * const result = await store.rotate(input)
 * switch (result.kind) {
 *   case 'rotated': return mintPair(JSON.parse(result.session.claims))
 *   case 'grace': return decrypt(result.answer)
 *   case 'reused': throw new JwtGuardError('refresh_token_reused', 'Refresh token reused.')
 *   case 'invalid': throw new JwtGuardError('refresh_token_invalid', 'Refresh token invalid.')
 * }
 * ```
 */
export type RotateResult =
  | { readonly kind: 'rotated'; readonly session: SessionRecord }
  | { readonly kind: 'grace'; readonly answer: string }
  | { readonly kind: 'reused'; readonly sid: string; readonly sub: string | undefined }
  | { readonly kind: 'invalid' };

/**
 * Every revocation still in force at a given time: what a process loads into its local mirror on
 * start and after every reconnection.
 *
 * @example
 * ```ts
 * const { sessions, subjects } = await store.revocations(Date.now())
 * const revokedSids = new Map(sessions.map((r) => [r.sid, r.until]))
 * ```
 */
export interface Revocations {
  /** Ended sessions: every access token with this `sid` is refused until `until`. */
  readonly sessions: ReadonlyArray<{ readonly sid: string; readonly until: number }>;
  /** Revoked subjects: every access token of `sub` issued before `before` is refused until `until`. */
  readonly subjects: ReadonlyArray<{ readonly sub: string; readonly before: number; readonly until: number }>;
}

/**
 * What a store delivers to {@link TokenStore.subscribe} listeners.
 *
 * - `session` / `subject`: a revocation was recorded (by any process sharing the store); the same
 *   entries {@link Revocations} lists.
 * - `resync`: the subscription is live: sent once when it starts and again after every
 *   reconnection. Events published while it was not live are lost, so on `resync` the listener
 *   reloads the whole state with {@link TokenStore.revocations}.
 * - `offline`: the subscription lost its connection; events may be missed until the next `resync`.
 *   (A store that cannot lose events, such as the memory store, never sends it.)
 *
 * @example
 * ```ts
 * const unsubscribe = await store.subscribe((event) => {
 *   if (event.type === 'resync') void reload()
 *   else if (event.type === 'session') mirror.sessions.set(event.sid, event.until)
 * })
 * ```
 */
export type StoreEvent =
  | { readonly type: 'session'; readonly sid: string; readonly until: number }
  | { readonly type: 'subject'; readonly sub: string; readonly before: number; readonly until: number }
  | { readonly type: 'resync' }
  | { readonly type: 'offline' };

/**
 * Where sessions, refresh-token hashes and revocations live. Implement it to use another
 * backend; the shipped ones are {@link memoryStore} and `redisStore` (`jwtguard/redis`).
 *
 * Rules for an implementation:
 * - **Atomic**: `rotate`, `endSession`, `revokeSubject` and `createSession` each take effect whole
 *   or not at all, and never interleave with one another on the same session (a Lua script or
 *   `MULTI` on Redis, a transaction in SQL, synchronous code in one process). `rotate` above all:
 *   two concurrent rotations of one token, from two processes, must never both get `rotated`.
 *   `findRefresh` and `revocations` are plain reads.
 * - **Bounded**: every entry has a lifetime: a session and its token records until `expiresAt`,
 *   a kept answer for `reuseIntervalMs`, a revocation until its `until`.
 * - **Nothing usable**: keep hashes, never refresh tokens; `answer` and `claims` are stored as given.
 * - **Failures**: when the backend is unreachable or too slow, reject with a `JwtGuardError` of
 *   code `session_store_unavailable` (within a bounded time: never hang), leaving no half-written state.
 * - **Time**: judge expiry only by the `now` arguments.
 *
 * @example
 * ```ts
 * import { memoryStore, type TokenStore } from 'jwtguard'
 *
 * const store: TokenStore = memoryStore()
 * await store.createSession({ sid, sub: 'user-1', claims: '{"sub":"user-1"}', createdAt: now, expiresAt: now + 86_400_000 }, hash)
 * const result = await store.rotate({ hash, newHash, now, reuseIntervalMs: 10_000, answer, revokedUntil: now + 900_000 })
 * ```
 */
export interface TokenStore {
  /**
   * Stores a new session with its first refresh token (`refreshHash`, issued at
   * `session.createdAt`), and indexes it under `session.sub`. The `sid` and the hash must be new.
   */
  createSession(session: SessionRecord, refreshHash: string): Promise<void>;

  /**
   * The token record of `hash` and its session, or `undefined` when the hash is unknown or the
   * session has ended or expired at `now`. A plain read (for the claims, before `rotate`); it
   * judges neither use nor idleness: `rotate` does.
   */
  findRefresh(hash: string, now: number): Promise<RefreshLookup | undefined>;

  /**
   * Exchanges `hash` for `newHash` in one atomic step; see {@link RotateResult} for the four
   * outcomes. Rules, in order:
   * 1. unknown `hash`, session ended or `expiresAt <= now` → `invalid`;
   * 2. `hash` is the current token: idle (`now - issuedAt > idleTimeoutMs`) → the session ends,
   *    `invalid`; otherwise it is marked used (`usedAt = now`, `child = newHash`), `newHash`
   *    becomes current (`issuedAt = now`), `answer` is kept for `reuseIntervalMs` → `rotated`;
   * 3. `hash` is used and its `child` is the current token, `now - usedAt <= reuseIntervalMs` and
   *    its answer is still kept → `grace` with that answer, nothing changes;
   * 4. any other used `hash` → the session ends (revoked until `revokedUntil`, published) → `reused`.
   *
   * Repeating the very same call (same `hash` and `newHash`, e.g. a command resent after a lost
   * connection) while `newHash` is still current returns `rotated` again and changes nothing.
   */
  rotate(input: RotateInput): Promise<RotateResult>;

  /**
   * Ends a session (logout): its refresh tokens stop working, and a session revocation is recorded
   * until `revokedUntil` (when the last access token carrying `sid` expires) and published.
   * Idempotent: ending an ended or unknown session records and publishes the revocation again.
   * Resolves to whether a live session was ended.
   */
  endSession(sid: string, now: number, revokedUntil: number): Promise<boolean>;

  /**
   * Ends every session of `sub` exactly as {@link TokenStore.endSession} does (each with its own
   * session revocation, published: `iat` has a 1-second resolution, so a token minted in the second
   * of the call is refused by its `sid`), and records "`sub` revoked before `now`" until
   * `revokedUntil` (access tokens of `sub` issued before `now` are refused), then publishes it. Repeated calls
   * keep the latest `before` and the latest `until`. Resolves to the ids of the live sessions it
   * ended, so the caller can apply their revocations locally at once, before the published echo.
   */
  revokeSubject(sub: string, now: number, revokedUntil: number): Promise<readonly string[]>;

  /** Every revocation with `until > now`. */
  revocations(now: number): Promise<Revocations>;

  /**
   * Delivers {@link StoreEvent}s to `listener` (revocations from every process sharing the store,
   * and `resync` when the subscription is live, first thing and after each reconnection).
   * Resolves once subscribed, to a function that ends the subscription. A listener must not
   * throw; what it throws is ignored.
   */
  subscribe(listener: (event: StoreEvent) => void): Promise<() => Promise<void>>;
}
