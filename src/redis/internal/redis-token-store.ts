import { JwtGuardError } from '../../core/errors/jwt-guard-error.js';
import { checkRotate, checkSession } from '../../core/sessions/internal/checks.js';
import { deliver } from '../../core/sessions/internal/deliver.js';
import type { RefreshLookup, Revocations, RotateInput, RotateResult, SessionRecord, StoreEvent, TokenStore } from '../../core/sessions/types.js';
import { unavailable, type Connection } from './connection.js';
import { parseEvent } from './events.js';
import { SCRIPTS, type Script } from './scripts.js';

const INVALID: RotateResult = Object.freeze({ kind: 'invalid' });
const RESYNC: StoreEvent = Object.freeze({ type: 'resync' });
const OFFLINE: StoreEvent = Object.freeze({ type: 'offline' });

/** A reply value as text: clients may hand back strings, numbers or (with some settings) Buffers. */
function text(value: unknown): string | undefined {
  return value === null || value === undefined ? undefined : String(value);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A reply that is not what the scripts return: the client is configured in a way the store cannot read. */
function malformed(reply: unknown): JwtGuardError {
  return unavailable(new Error(`Unexpected reply from Redis: ${JSON.stringify(reply)?.slice(0, 100)}`));
}

function list(reply: unknown): unknown[] {
  if (!Array.isArray(reply)) throw malformed(reply);
  return reply;
}

function sessionOf(sid: unknown, sub: unknown, claims: unknown, createdAt: unknown, expiresAt: unknown): SessionRecord {
  return Object.freeze({ sid: String(sid), sub: text(sub), claims: String(claims), createdAt: Number(createdAt), expiresAt: Number(expiresAt) });
}

/**
 * @internal The Redis store: each operation is one Lua script (see scripts.ts for the keys),
 * sent as EVALSHA and, the first time a server sees it (NOSCRIPT), as EVAL, which caches it.
 */
export class RedisTokenStore implements TokenStore {
  readonly #connection: Connection;
  readonly #prefix: string;

  constructor(connection: Connection, prefix: string) {
    this.#connection = connection;
    this.#prefix = prefix;
  }

  async createSession(session: SessionRecord, refreshHash: string): Promise<void> {
    checkSession(session, refreshHash);
    const { sid, sub, claims, createdAt, expiresAt } = session;
    await this.#run(SCRIPTS.create, [sid, refreshHash, claims, String(createdAt), String(expiresAt), ...(sub === undefined ? [] : [sub])]);
  }

  async findRefresh(hash: string, now: number): Promise<RefreshLookup | undefined> {
    const reply = await this.#run(SCRIPTS.find, [hash, String(now)]);
    if (reply === null || reply === undefined) return undefined;
    const [sid, issuedAt, usedAt, child, sub, claims, createdAt, expiresAt] = list(reply);
    const token = Object.freeze({ hash, sid: String(sid), issuedAt: Number(issuedAt), usedAt: usedAt == null ? undefined : Number(usedAt), child: text(child) });
    return Object.freeze({ session: sessionOf(sid, sub, claims, createdAt, expiresAt), token });
  }

  async rotate(input: RotateInput): Promise<RotateResult> {
    checkRotate(input);
    const { hash, newHash, now, idleTimeoutMs, reuseIntervalMs, answer, revokedUntil } = input;
    const reply = list(
      await this.#run(SCRIPTS.rotate, [hash, newHash, String(now), idleTimeoutMs === undefined ? '' : String(idleTimeoutMs), String(reuseIntervalMs), answer, String(revokedUntil)]),
    );
    switch (text(reply[0])) {
      case 'rotated':
        return Object.freeze({ kind: 'rotated', session: sessionOf(reply[1], reply[2], reply[3], reply[4], reply[5]) });
      case 'grace':
        return Object.freeze({ kind: 'grace', answer: String(reply[1]) });
      case 'reused':
        return Object.freeze({ kind: 'reused', sid: String(reply[1]), sub: text(reply[2]) });
      case 'invalid':
        return INVALID;
      default:
        throw malformed(reply);
    }
  }

  async endSession(sid: string, now: number, revokedUntil: number): Promise<boolean> {
    return Number(await this.#run(SCRIPTS.end, [sid, String(now), String(revokedUntil)])) === 1;
  }

  async revokeSubject(sub: string, now: number, revokedUntil: number): Promise<readonly string[]> {
    const ended = await this.#run(SCRIPTS.revokeSubject, [sub, String(now), String(revokedUntil)]);
    return Object.freeze(Array.isArray(ended) ? ended.map(String) : []);
  }

  async revocations(now: number): Promise<Revocations> {
    const [sessions, subjects, befores] = list(await this.#run(SCRIPTS.revocations, [String(now)])).map(list) as [unknown[], unknown[], unknown[]];
    const result: { sessions: Revocations['sessions'][number][]; subjects: Revocations['subjects'][number][] } = { sessions: [], subjects: [] };
    for (let i = 0; i + 1 < sessions.length; i += 2) result.sessions.push(Object.freeze({ sid: String(sessions[i]), until: Number(sessions[i + 1]) }));
    for (let i = 0; i + 1 < subjects.length; i += 2) {
      result.subjects.push(Object.freeze({ sub: String(subjects[i]), before: Number(befores[i / 2]), until: Number(subjects[i + 1]) }));
    }
    return Object.freeze({ sessions: Object.freeze(result.sessions), subjects: Object.freeze(result.subjects) });
  }

  async subscribe(listener: (event: StoreEvent) => void): Promise<() => Promise<void>> {
    return this.#connection.subscribe(`${this.#prefix}events`, {
      message: (message) => {
        const event = parseEvent(message);
        if (event !== undefined) deliver(listener, event);
      },
      live: () => deliver(listener, RESYNC),
      offline: () => deliver(listener, OFFLINE),
    });
  }

  /** Runs a script; every failure but a caller's error (thrown by the script as "jwtguard: ...") is `session_store_unavailable`. */
  async #run(script: Script, args: readonly string[]): Promise<unknown> {
    const argv = [this.#prefix, ...args];
    try {
      try {
        return await this.#connection.send(['EVALSHA', script.sha, '0', ...argv]);
      } catch (error) {
        if (!messageOf(error).startsWith('NOSCRIPT')) throw error;
        return await this.#connection.send(['EVAL', script.source, '0', ...argv]);
      }
    } catch (error) {
      if (error instanceof JwtGuardError) throw error;
      const message = messageOf(error);
      const own = message.indexOf('jwtguard: ');
      if (own >= 0) throw new Error(message.slice(own), { cause: error });
      throw unavailable(error);
    }
  }
}
