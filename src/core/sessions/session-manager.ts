import { JwtGuardError } from '../errors/jwt-guard-error.js';
import { invalidBody } from '../mint/mint-body.js';
import type { NormalizedOptions } from '../options/normalize-options.js';
import type { JwtGuardPayload } from '../options/types.js';
import { signWith } from '../sign/sign-token.js';
import { openAnswer, sealAnswer } from './internal/grace-answer.js';
import { refreshTokenFrom } from './internal/refresh-request.js';
import { hashRefreshToken, newRefreshToken, newSessionId } from './internal/refresh-token.js';
import { isPlainObject, parseStoredClaims, sessionClaims, subjectOf } from './internal/session-claims.js';
import { RevocationMirror } from './revocation-mirror.js';
import type { RefreshRecord, RotateResult, SessionRecord, StoreEvent, TokenStore } from './types.js';

/**
 * What the session engine needs, all times in whole milliseconds: the guard builds it from the
 * `refresh`, `store` and `maxStaleness` options.
 *
 * @example
 * ```ts
 * const settings: SessionSettings = {
 *   store: memoryStore(),
 *   sessionLifetimeMs: 30 * 24 * 3600_000,   // refresh.expiresIn
 *   idleTimeoutMs: 7 * 24 * 3600_000,        // refresh.idleTimeout
 *   reuseIntervalMs: 10_000,                 // refresh.reuseInterval
 *   reload: undefined,
 *   maxStalenessMs: 30_000,
 * }
 * ```
 */
export interface SessionSettings {
  /** Where sessions, refresh-token hashes and revocations live. */
  readonly store: TokenStore;
  /** `refresh.expiresIn`: the absolute life of a session, from login; rotation never extends it. */
  readonly sessionLifetimeMs: number;
  /** `refresh.idleTimeout`: a refresh token unused this long is dead, with its session; `undefined` for no limit. */
  readonly idleTimeoutMs: number | undefined;
  /** `refresh.reuseInterval`: the grace for concurrent refreshes; 0 turns it off. */
  readonly reuseIntervalMs: number;
  /**
   * `refresh.reload`: re-reads the claims at each refresh. It receives the login claims (as stored
   * at login, without `iat`, `exp`, `nbf`, `jti`, `sid`) and returns the claims to sign, or
   * `undefined` (or `null`) to end the session.
   */
  readonly reload: ((claims: JwtGuardPayload) => JwtGuardPayload | undefined | null | Promise<JwtGuardPayload | undefined | null>) | undefined;
  /** How long verification trusts the last known revocations while the store is unreachable. */
  readonly maxStalenessMs: number;
  /** The clock, in ms since the epoch (default `Date.now`); tests move time with it. */
  readonly now?: (() => number) | undefined;
}

/**
 * The answer of a login or a refresh: a new access token, a new refresh token, and the access
 * token's lifetime in seconds (`exp - iat`).
 *
 * @example
 * ```ts
 * const pair: TokenPair = await sessions.refresh({ refreshToken })
 * setTimeout(renew, (pair.expiresIn - 30) * 1000)
 * ```
 */
export interface TokenPair {
  readonly token: string;
  readonly refreshToken: string;
  readonly expiresIn: number;
}

/**
 * The session engine: logins become sessions with rotating refresh tokens, logout and revocation
 * take effect on every access token of a session, and every verified access token is checked
 * against a local mirror of the revocations. Every method that fails rejects with a
 * {@link JwtGuardError}; messages never contain a token.
 *
 * @example
 * ```ts
 * const sessions = createSessionManager(settings, normalizeOptions({ secret, authPath: '/login', expiresIn: '15m' }))
 * await sessions.open()
 * const pair = await sessions.start({ sub: 'user-1', role: 'admin' })
 * const next = await sessions.refresh({ refreshToken: pair.refreshToken })
 * await sessions.revokeSubject('user-1')   // log out everywhere
 * ```
 */
export interface SessionManager {
  /**
   * Login: starts a session for the login payload (a plain JSON object) and returns its first
   * pair. The session keeps the payload without `iat`, `exp`, `nbf`, `jti`, `sid`; the access
   * token gets `sid` and a random `jti`, and its `exp` is the earliest of `iat + expiresIn`, the
   * payload's own `exp`, and the session's end.
   */
  start(payload: Record<string, unknown>): Promise<TokenPair>;
  /**
   * Exchanges a refresh token for a new pair. `body` is the parsed request body, whatever it is:
   * anything but `{ refreshToken: <43 base64url characters> }` is a 400 `invalid_request`.
   */
  refresh(body: unknown): Promise<TokenPair>;
  /**
   * @internal {@link SessionManager.refresh}, with when the session ends (ms since the epoch): the
   * guard sets the refresh cookie's `Max-Age` from it.
   */
  refreshSession(body: unknown): Promise<{ readonly pair: TokenPair; readonly sessionEndsAt: number }>;
  /** Ends the session of a verified access token (its `sid`); idempotent. A token without `sid` is a 400 `invalid_request`. */
  logout(payload: JwtGuardPayload): Promise<void>;
  /** Ends a session by id: its refresh token stops working and its access tokens are refused. */
  revokeSession(sid: string): Promise<void>;
  /** Ends every session of `sub` and refuses its access tokens issued until now; tokens minted afterwards work. */
  revokeSubject(sub: string): Promise<void>;
  /**
   * Whether a verified access token may pass: `undefined` if so, else the error to answer
   * (`token_revoked`, or `session_store_unavailable` when revocations are unknown). Synchronous
   * once the revocations are loaded; never throws, never rejects.
   */
  check(payload: JwtGuardPayload): JwtGuardError | undefined | Promise<JwtGuardError | undefined>;
  /** Subscribes to the store's revocations and loads them; rejects when the first load fails (retried in the background). */
  open(): Promise<void>;
  /** Ends the subscription; `check` refuses everything from then on. */
  close(): Promise<void>;
}

/** A store's rejection as the one error class: a custom store may throw anything. */
function storeFailure(error: unknown): JwtGuardError {
  if (error instanceof JwtGuardError) return error;
  return new JwtGuardError('session_store_unavailable', 'The session store failed.', { cause: error });
}

function reloadFailure(problem: string, cause?: unknown): JwtGuardError {
  return new JwtGuardError('reload_failed', `refresh.reload ${problem}; no tokens were issued and the refresh token is still valid.`, cause === undefined ? undefined : { cause });
}

const invalidToken = (): JwtGuardError => new JwtGuardError('refresh_token_invalid', 'The refresh token is invalid, expired, or its session has ended: log in again.');
const reusedToken = (): JwtGuardError => new JwtGuardError('refresh_token_reused', 'The refresh token was already used: the session has been ended, log in again.');

function requireMillis(value: unknown, name: string, allowZero: boolean): void {
  if (!Number.isSafeInteger(value) || (value as number) < (allowZero ? 0 : 1)) {
    throw new JwtGuardError('invalid_options', `jwtguard: sessions need \`${name}\` as a whole number of milliseconds${allowZero ? '' : ' above 0'}; got ${String(value)}.`);
  }
}

/**
 * Builds the session engine the guard uses when `refresh` is configured. The guard calls it once
 * (from `createGuard`) and exposes the result as `sessions`.
 *
 * Decisions worth knowing:
 * - Access tokens of a session never outlive `expiresIn` nor their session, so a revocation is
 *   kept only as long as one access token can live (`expiresIn` plus `clockTolerance`).
 * - At a refresh the whole new answer is encrypted (AES-256-GCM, key derived with HKDF-SHA-256
 *   from the presented refresh token) and kept by the store for `reuseIntervalMs`, so a concurrent
 *   retry of the same token gets the very same pair while the store holds nothing usable.
 * - `reload` throwing, rejecting or returning something other than an object, `undefined` or
 *   `null` (or changing `sub`) answers 503 `reload_failed` and leaves the refresh token
 *   unused, so the client can retry; `undefined` or `null` ends the session (401
 *   `refresh_token_invalid`).
 *
 * @throws {JwtGuardError} `invalid_options` when the settings are unusable (no signing key, times
 * that are not whole milliseconds).
 *
 * @example
 * ```ts
 * import { createSessionManager, memoryStore, normalizeOptions } from 'jwtguard'
 *
 * const config = normalizeOptions({ secret, authPath: '/api/auth/login', expiresIn: '15m' })
 * const sessions = createSessionManager(
 *   { store: memoryStore(), sessionLifetimeMs: 30 * 86_400_000, idleTimeoutMs: undefined, reuseIntervalMs: 10_000, reload: undefined, maxStalenessMs: 30_000 },
 *   config,
 * )
 * await sessions.open()
 * const { token, refreshToken, expiresIn } = await sessions.start({ sub: 'user-1' })
 * ```
 */
export function createSessionManager(settings: SessionSettings, config: NormalizedOptions): SessionManager {
  const { store, sessionLifetimeMs, idleTimeoutMs, reuseIntervalMs, reload } = settings;
  if (config.algorithm === undefined) {
    throw new JwtGuardError('invalid_options', 'jwtguard: sessions mint tokens, which needs a signing key: `secret` for HS*, `privateKey` for RS/PS/ES/EdDSA.');
  }
  requireMillis(sessionLifetimeMs, 'sessionLifetimeMs', false);
  if (idleTimeoutMs !== undefined) requireMillis(idleTimeoutMs, 'idleTimeoutMs', false);
  requireMillis(reuseIntervalMs, 'reuseIntervalMs', true);
  if (reload !== undefined && typeof reload !== 'function') throw new JwtGuardError('invalid_options', 'jwtguard: `reload` must be a function.');
  const clock = settings.now ?? Date.now;
  // Whole ms: stores refuse anything else, and a fractional clock (performance.now-based) would break that.
  const now = (): number => Math.floor(clock());

  /** Longest life of one access token, in seconds: `expiresIn` (within `maxExpiresIn`), else the whole session. */
  const accessSeconds = Math.min(config.expiresInSeconds ?? Math.ceil(sessionLifetimeMs / 1000), config.maxExpiresInSeconds ?? Infinity);
  const tolerance = config.claims.jose.clockTolerance;
  const toleranceMs = typeof tolerance === 'number' ? Math.ceil(tolerance * 1000) : 0;
  /**
   * When a revocation made at `at` can be forgotten: once the last access token it concerns has
   * expired, even for a verifier allowing `clockTolerance`. Every access token issued until `at`
   * has `exp <= at + accessSeconds`.
   */
  const revokedUntil = (at: number): number => at + accessSeconds * 1000 + toleranceMs;

  const mirror = new RevocationMirror(store, { maxStalenessMs: settings.maxStalenessMs, now });

  /** Signs an access token of session `sid` at `at`, expiring by `notAfter` (s) at the latest. */
  async function signAccess(claims: Record<string, unknown>, sid: string, at: number, notAfter: number): Promise<{ token: string; expiresIn: number }> {
    const iat = Math.floor(at / 1000);
    const exp = Math.min(iat + accessSeconds, notAfter);
    const token = await signWith({ ...claims, sid, jti: crypto.randomUUID() }, config, { iat, exp });
    return { token, expiresIn: exp - iat };
  }

  function apply(event: StoreEvent): void {
    mirror.apply(event);
  }

  async function endSession(sid: string, at: number): Promise<void> {
    const until = revokedUntil(at);
    try {
      await store.endSession(sid, at, until);
    } catch (error) {
      throw storeFailure(error);
    }
    apply({ type: 'session', sid, until });
  }

  /** `reload`'s answer as claims to sign, or `undefined` when it ends the session. */
  async function reloaded(claims: JwtGuardPayload, session: SessionRecord): Promise<Record<string, unknown> | undefined> {
    if (reload === undefined) return claims;
    let result: unknown;
    try {
      result = await reload(claims);
    } catch (error) {
      throw reloadFailure('failed', error);
    }
    if (result === undefined || result === null) return undefined;
    if (!isPlainObject(result)) throw reloadFailure('returned neither an object of claims nor undefined');
    const fresh = sessionClaims(result);
    // The session is indexed under its sub for revokeSubject: tokens of another sub would escape it.
    if (subjectOf(fresh) !== session.sub) throw reloadFailure('changed or removed "sub", which a session keeps for its whole life');
    return fresh;
  }

  /** The pair a `grace` result kept for this token, decrypted; `invalid` when it cannot be read. */
  async function graceAnswer(presented: string, sealed: string): Promise<TokenPair> {
    const text = await openAnswer(presented, sealed);
    let pair: unknown;
    try {
      pair = text === undefined ? undefined : JSON.parse(text);
    } catch {
      pair = undefined;
    }
    // Only a tampered or foreign value fails here (the key is derived from this very token).
    if (!isPlainObject(pair) || typeof pair.token !== 'string' || typeof pair.refreshToken !== 'string' || typeof pair.expiresIn !== 'number') throw invalidToken();
    return Object.freeze({ token: pair.token, refreshToken: pair.refreshToken, expiresIn: pair.expiresIn });
  }

  async function rotate(hash: string, newHash: string, at: number, answer: string): Promise<RotateResult> {
    try {
      return await store.rotate({ hash, newHash, now: at, idleTimeoutMs, reuseIntervalMs, answer, revokedUntil: revokedUntil(at) });
    } catch (error) {
      throw storeFailure(error);
    }
  }

  /** Whether `token` is the current token and not idle at `at`: only then can a rotation produce a new pair. */
  function rotatable(token: RefreshRecord, at: number): boolean {
    return token.usedAt === undefined && (idleTimeoutMs === undefined || at - token.issuedAt <= idleTimeoutMs);
  }

  const manager: SessionManager = {
    async start(payload) {
      if (!isPlainObject(payload)) throw new JwtGuardError('sign_failed', 'The login payload must be a JSON object.');
      const { exp } = payload;
      if (exp !== undefined && (typeof exp !== 'number' || !Number.isFinite(exp))) {
        throw new JwtGuardError('sign_failed', 'The payload\'s "exp" must be a number of seconds since the epoch.', { claim: 'exp' });
      }
      const at = now();
      const sid = newSessionId();
      const refreshToken = newRefreshToken();
      const claims = sessionClaims(payload);
      const expiresAt = at + sessionLifetimeMs;
      let json: string;
      try {
        json = JSON.stringify(claims);
      } catch (error) {
        throw new JwtGuardError('sign_failed', 'The login payload cannot be serialised as JSON.', { cause: error });
      }
      const notAfter = Math.min(Math.floor(expiresAt / 1000), exp ?? Infinity);
      // Both before the store is written: a failure leaves no session behind.
      const [hash, access] = await Promise.all([hashRefreshToken(refreshToken), signAccess(claims, sid, at, notAfter)]);
      if (access.token.length > config.maxTokenLength) {
        throw invalidBody(
          `the signed token would be ${access.token.length} characters, over maxTokenLength (${config.maxTokenLength}), so it could never be verified: answer less from the login route, or raise maxTokenLength`,
        );
      }
      try {
        await store.createSession({ sid, sub: subjectOf(payload), claims: json, createdAt: at, expiresAt }, hash);
      } catch (error) {
        throw storeFailure(error);
      }
      return Object.freeze({ token: access.token, refreshToken, expiresIn: access.expiresIn });
    },

    refresh: (body) => manager.refreshSession(body).then((refreshed) => refreshed.pair),

    async refreshSession(body) {
      const presented = refreshTokenFrom(body);
      const at = now();
      const hash = await hashRefreshToken(presented);
      let found;
      try {
        found = await store.findRefresh(hash, at);
      } catch (error) {
        throw storeFailure(error);
      }
      if (found === undefined) throw invalidToken();
      const { session, token } = found;

      let result: RotateResult;
      let pair: TokenPair | undefined;
      if (!rotatable(token, at)) {
        // Used (grace or reuse) or idle (the store ends the session): no new pair can come of it,
        // so nothing is signed; the store still decides, atomically. The random newHash is never
        // stored: a rotation of this token cannot answer `rotated` any more.
        result = await rotate(hash, newRefreshToken(), at, '');
      } else {
        const claims = await reloaded(parseStoredClaims(session.claims), session);
        if (claims === undefined) {
          await endSession(session.sid, at);
          throw invalidToken();
        }
        const refreshToken = newRefreshToken();
        const [newHash, access] = await Promise.all([hashRefreshToken(refreshToken), signAccess(claims, session.sid, at, Math.floor(session.expiresAt / 1000))]);
        if (access.token.length > config.maxTokenLength) {
          throw new JwtGuardError('sign_failed', `The refreshed token would be ${access.token.length} characters, over maxTokenLength (${config.maxTokenLength}), so it could never be verified.`);
        }
        pair = Object.freeze({ token: access.token, refreshToken, expiresIn: access.expiresIn });
        // Sealed before the rotation, which stores it atomically with the exchange.
        result = await rotate(hash, newHash, at, await sealAnswer(presented, JSON.stringify(pair)));
      }

      switch (result.kind) {
        case 'rotated':
          if (pair !== undefined) return { pair, sessionEndsAt: session.expiresAt };
          // A store that rotated a used or idle token broke the contract: the pair it would
          // stand for was never made, so the session cannot go on.
          await endSession(session.sid, at);
          throw invalidToken();
        case 'grace':
          return { pair: await graceAnswer(presented, result.answer), sessionEndsAt: session.expiresAt };
        case 'reused':
          // The store has ended the session and published it; refuse its tokens here at once.
          apply({ type: 'session', sid: result.sid, until: revokedUntil(at) });
          throw reusedToken();
        default:
          throw invalidToken();
      }
    },

    async logout(payload) {
      const sid = isPlainObject(payload) ? payload.sid : undefined;
      if (typeof sid !== 'string' || sid === '') throw new JwtGuardError('invalid_request', 'This access token belongs to no session (it has no "sid"), so there is no session to log out of.');
      await endSession(sid, now());
    },

    async revokeSession(sid) {
      if (typeof sid !== 'string' || sid === '') throw new JwtGuardError('invalid_request', 'revokeSession needs a session id (the "sid" claim), a non-empty string.');
      await endSession(sid, now());
    },

    async revokeSubject(sub) {
      if (typeof sub !== 'string' || sub === '') throw new JwtGuardError('invalid_request', 'revokeSubject needs a subject (the "sub" claim) as a non-empty string; pass String(sub) for a number.');
      const at = now();
      const until = revokedUntil(at);
      let ended: readonly string[];
      try {
        ended = await store.revokeSubject(sub, at, until);
      } catch (error) {
        throw storeFailure(error);
      }
      // The ended sessions too, not only the subject entry: a token minted in the second of the
      // call passes the subject rule (iat has 1 s resolution) and is refused here by its sid.
      for (const sid of ended) apply({ type: 'session', sid, until });
      apply({ type: 'subject', sub, before: at, until });
    },

    check(payload) {
      const verdict = mirror.check(payload);
      return typeof verdict === 'string' ? verdictError(verdict) : verdict.then(verdictError);
    },

    open: () => mirror.start(),
    close: () => mirror.close(),
  };
  return manager;
}

function verdictError(verdict: 'ok' | 'revoked' | 'unavailable'): JwtGuardError | undefined {
  if (verdict === 'ok') return undefined;
  if (verdict === 'revoked') return new JwtGuardError('token_revoked', 'The token has been revoked: its session has ended or its subject was logged out.');
  return new JwtGuardError('session_store_unavailable', 'Revocations are unknown right now (the session store is unreachable), so the token cannot be cleared.');
}
