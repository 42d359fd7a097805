import type { RefreshLookup, Revocations, RotateInput, RotateResult, SessionRecord, StoreEvent, TokenStore } from '../types.js';
import { checkRotate, checkSession } from './checks.js';
import { deliver } from './deliver.js';

/**
 * Token records kept per session. Every rotation adds one (the used token stays known, so that
 * presenting it again is detected as reuse); past this many the oldest are forgotten and then
 * count as unknown (`invalid`: still refused, only without ending the session). 1000 rotations
 * is a refresh every 15 minutes for ten days.
 */
const MAX_HISTORY = 1000;

/** Revocation maps are swept whole when they reach this size, then when they double. */
const MIN_SWEEP = 64;

const INVALID: RotateResult = Object.freeze({ kind: 'invalid' });
const RESYNC: StoreEvent = Object.freeze({ type: 'resync' });

interface Session {
  readonly record: SessionRecord;
  current: string;
  previous: string | undefined;
  /** Every token hash of the session still remembered, oldest first (for cleanup and MAX_HISTORY). */
  readonly hashes: string[];
}

interface Token {
  readonly sid: string;
  readonly issuedAt: number;
  usedAt: number | undefined;
  child: string | undefined;
}

/**
 * @internal The memory store. Every method does all its work synchronously before its promise
 * settles, so each is atomic in one process without locks. Expiry is lazy, judged by the `now`
 * arguments: an expired entry is removed when touched, and sessions (kept in creation order, which
 * with one lifetime is also expiry order) are swept from the oldest at each creation, so no timer
 * runs and memory stays within `maxSessions` sessions with their records.
 */
export class MemoryTokenStore implements TokenStore {
  readonly #maxSessions: number;
  readonly #sessions = new Map<string, Session>();
  readonly #tokens = new Map<string, Token>();
  /** Kept rotation answers by the hash they answer for; at most one per session (its `previous`). */
  readonly #answers = new Map<string, { readonly answer: string; readonly until: number }>();
  readonly #bySubject = new Map<string, Set<string>>();
  readonly #revokedSessions = new Map<string, number>();
  readonly #revokedSubjects = new Map<string, { readonly before: number; readonly until: number }>();
  #sweepAt = MIN_SWEEP;
  readonly #listeners = new Set<(event: StoreEvent) => void>();

  constructor(maxSessions: number) {
    this.#maxSessions = maxSessions;
  }

  async createSession(session: SessionRecord, refreshHash: string): Promise<void> {
    checkSession(session, refreshHash);
    if (this.#sessions.has(session.sid) || this.#tokens.has(refreshHash)) {
      throw new Error('jwtguard: createSession needs a new sid and a new refresh token hash.');
    }
    this.#sweepSessions(session.createdAt);
    // Full: the oldest session goes (its user logs in again), never the new login.
    for (const sid of this.#sessions.keys()) {
      if (this.#sessions.size < this.#maxSessions) break;
      this.#drop(sid);
    }
    const record: SessionRecord = Object.freeze({ sid: session.sid, sub: session.sub, claims: session.claims, createdAt: session.createdAt, expiresAt: session.expiresAt });
    this.#sessions.set(record.sid, { record, current: refreshHash, previous: undefined, hashes: [refreshHash] });
    this.#tokens.set(refreshHash, { sid: record.sid, issuedAt: record.createdAt, usedAt: undefined, child: undefined });
    if (record.sub !== undefined) {
      const sids = this.#bySubject.get(record.sub);
      if (sids === undefined) this.#bySubject.set(record.sub, new Set([record.sid]));
      else sids.add(record.sid);
    }
  }

  async findRefresh(hash: string, now: number): Promise<RefreshLookup | undefined> {
    const token = this.#tokens.get(hash);
    const session = token && this.#live(token.sid, now);
    if (token === undefined || session === undefined) return undefined;
    const { sid, issuedAt, usedAt, child } = token;
    return Object.freeze({ session: session.record, token: Object.freeze({ hash, sid, issuedAt, usedAt, child }) });
  }

  async rotate(input: RotateInput): Promise<RotateResult> {
    checkRotate(input);
    const { hash, newHash, now, idleTimeoutMs, reuseIntervalMs, answer, revokedUntil } = input;
    const token = this.#tokens.get(hash);
    const session = token && this.#live(token.sid, now);
    if (token === undefined || session === undefined) return INVALID;
    const { sid, sub } = session.record;
    if (token.usedAt === undefined) {
      if (session.current !== hash) return INVALID; // cannot happen: only the current token is unused
      if (idleTimeoutMs !== undefined && now - token.issuedAt > idleTimeoutMs) {
        this.#end(sid, now, revokedUntil);
        return INVALID;
      }
      token.usedAt = now;
      token.child = newHash;
      this.#tokens.set(newHash, { sid, issuedAt: now, usedAt: undefined, child: undefined });
      // The grandparent can no longer get the grace: its answer goes.
      if (session.previous !== undefined) this.#answers.delete(session.previous);
      session.previous = hash;
      session.current = newHash;
      session.hashes.push(newHash);
      if (session.hashes.length > MAX_HISTORY) this.#tokens.delete(session.hashes.shift() as string);
      this.#sweepAnswers(now);
      if (reuseIntervalMs > 0) this.#answers.set(hash, { answer, until: now + reuseIntervalMs });
      return Object.freeze({ kind: 'rotated', session: session.record });
    }
    // The same rotation again (a resent command): it already happened, nothing to change.
    if (token.child === newHash && session.current === newHash) return Object.freeze({ kind: 'rotated', session: session.record });
    if (token.child === session.current && now - token.usedAt <= reuseIntervalMs) {
      const kept = this.#answers.get(hash);
      if (kept !== undefined && kept.until >= now) return Object.freeze({ kind: 'grace', answer: kept.answer });
    }
    this.#end(sid, now, revokedUntil);
    return Object.freeze({ kind: 'reused', sid, sub });
  }

  async endSession(sid: string, now: number, revokedUntil: number): Promise<boolean> {
    return this.#end(sid, now, revokedUntil);
  }

  async revokeSubject(sub: string, now: number, revokedUntil: number): Promise<readonly string[]> {
    const ended: string[] = [];
    // Each session ends as at logout, its own revocation included: an access token minted in the
    // very second of the call (iat has 1 s resolution) is still refused, by its sid.
    for (const sid of [...(this.#bySubject.get(sub) ?? [])]) if (this.#end(sid, now, revokedUntil)) ended.push(sid);
    this.#bySubject.delete(sub);
    if (revokedUntil > now) {
      const old = this.#revokedSubjects.get(sub);
      const entry = Object.freeze({ before: Math.max(now, old?.before ?? now), until: Math.max(revokedUntil, old?.until ?? revokedUntil) });
      this.#revokedSubjects.set(sub, entry);
      this.#maybeSweepRevocations(now);
      this.#emit({ type: 'subject', sub, before: entry.before, until: entry.until });
    }
    return Object.freeze(ended);
  }

  async revocations(now: number): Promise<Revocations> {
    this.#sweepRevocations(now);
    return Object.freeze({
      sessions: Object.freeze(Array.from(this.#revokedSessions, ([sid, until]) => Object.freeze({ sid, until }))),
      subjects: Object.freeze(Array.from(this.#revokedSubjects, ([sub, { before, until }]) => Object.freeze({ sub, before, until }))),
    });
  }

  async subscribe(listener: (event: StoreEvent) => void): Promise<() => Promise<void>> {
    // A wrapper per call: the same function subscribed twice is two subscriptions.
    const entry = (event: StoreEvent): void => listener(event);
    this.#listeners.add(entry);
    // One process cannot miss an event, so `resync` comes once, when the subscription starts.
    queueMicrotask(() => {
      if (this.#listeners.has(entry)) deliver(entry, RESYNC);
    });
    return async () => {
      this.#listeners.delete(entry);
    };
  }

  /** The session if it exists and has not reached `expiresAt`; an expired one is removed. */
  #live(sid: string, now: number): Session | undefined {
    const session = this.#sessions.get(sid);
    if (session !== undefined && session.record.expiresAt <= now) {
      this.#drop(sid);
      return undefined;
    }
    return session;
  }

  /** Ends a session: removes it with its tokens, records the revocation and publishes it. */
  #end(sid: string, now: number, revokedUntil: number): boolean {
    const live = this.#live(sid, now) !== undefined;
    this.#drop(sid);
    if (revokedUntil > now) {
      const until = Math.max(revokedUntil, this.#revokedSessions.get(sid) ?? revokedUntil);
      this.#revokedSessions.set(sid, until);
      this.#maybeSweepRevocations(now);
      this.#emit({ type: 'session', sid, until });
    }
    return live;
  }

  /** Forgets a session and everything that belongs to it (no revocation: see #end). */
  #drop(sid: string): void {
    const session = this.#sessions.get(sid);
    if (session === undefined) return;
    this.#sessions.delete(sid);
    for (const hash of session.hashes) this.#tokens.delete(hash);
    if (session.previous !== undefined) this.#answers.delete(session.previous);
    const { sub } = session.record;
    const sids = sub === undefined ? undefined : this.#bySubject.get(sub);
    if (sids !== undefined) {
      sids.delete(sid);
      if (sids.size === 0) this.#bySubject.delete(sub as string);
    }
  }

  /** Removes expired sessions from the oldest on, stopping at the first live one. */
  #sweepSessions(now: number): void {
    for (const [sid, session] of this.#sessions) {
      if (session.record.expiresAt > now) break;
      this.#drop(sid);
    }
  }

  #sweepAnswers(now: number): void {
    for (const [hash, kept] of this.#answers) {
      if (kept.until >= now) break;
      this.#answers.delete(hash);
    }
  }

  /** Amortised O(1): a whole sweep each time the revocation maps have doubled since the last. */
  #maybeSweepRevocations(now: number): void {
    if (this.#revokedSessions.size + this.#revokedSubjects.size >= this.#sweepAt) this.#sweepRevocations(now);
  }

  #sweepRevocations(now: number): void {
    for (const [sid, until] of this.#revokedSessions) if (until <= now) this.#revokedSessions.delete(sid);
    for (const [sub, { until }] of this.#revokedSubjects) if (until <= now) this.#revokedSubjects.delete(sub);
    this.#sweepAt = Math.max(MIN_SWEEP, 2 * (this.#revokedSessions.size + this.#revokedSubjects.size));
  }

  #emit(event: StoreEvent): void {
    const frozen = Object.freeze(event);
    for (const listener of this.#listeners) deliver(listener, frozen);
  }
}
