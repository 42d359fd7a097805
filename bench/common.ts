/**
 * Shared pieces of the benchmark suite: settings from the environment, the secret and the
 * asymmetric key pairs, the floors, token generation (with jose, independently of jwtguard's own
 * signing) and table rendering.
 */
import { SignJWT, base64url } from 'jose';
import { constants, createHmac, generateKeyPairSync, timingSafeEqual, verify as cryptoVerify, type KeyObject, type VerifyKeyObjectInput, type webcrypto } from 'node:crypto';
import os from 'node:os';
import type { JwtGuardOptions, TokenStore } from '../src/index.js';

/** 64 bytes: at least the HS256 output size, so no library warns about a weak key. */
export const SECRET = 'bench-secret-0123456789abcdef0123456789abcdef0123456789abcdef012';
export const SECRET_BYTES: Uint8Array = new TextEncoder().encode(SECRET);

/** What every /api/me answers in the bare variant: the same shape as a token payload. */
export const CONSTANT_BODY = { sub: 'user-0000000', role: 'user', iat: 1_700_000_000, exp: 1_900_000_000 } as const;

function envNumber(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) throw new Error(`${name} must be a number >= ${min}; got ${JSON.stringify(raw)}.`);
  return value;
}

function envList(name: string, allowed: readonly string[]): string[] {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return [...allowed];
  const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const item of list) if (!allowed.includes(item)) throw new Error(`${name}: unknown "${item}"; use a comma-separated subset of ${allowed.join(',')}.`);
  return list;
}

const FLOOR_KEY = Buffer.from(SECRET_BYTES);

/**
 * The floor: what any correct HS256 verifier has to do, with nothing else. Split, decode and parse
 * the header and check `alg`, HMAC the signing input, compare in constant time, decode and parse
 * the payload, check `exp`.
 */
export function floorVerify(token: string): Record<string, unknown> {
  const dot1 = token.indexOf('.');
  const dot2 = token.indexOf('.', dot1 + 1);
  if (dot1 <= 0 || dot2 <= dot1 + 1 || token.indexOf('.', dot2 + 1) !== -1) throw new Error('malformed');
  const header = JSON.parse(Buffer.from(token.slice(0, dot1), 'base64url').toString('utf8')) as { alg?: unknown };
  if (header.alg !== 'HS256') throw new Error('algorithm');
  const expected = createHmac('sha256', FLOOR_KEY).update(token.slice(0, dot2)).digest();
  const signature = Buffer.from(token.slice(dot2 + 1), 'base64url');
  if (signature.length !== expected.length || !timingSafeEqual(signature, expected)) throw new Error('signature');
  const payload = JSON.parse(Buffer.from(token.slice(dot1 + 1, dot2), 'base64url').toString('utf8')) as Record<string, unknown>;
  if (typeof payload.exp === 'number' && payload.exp <= Date.now() / 1000) throw new Error('expired');
  return payload;
}

/** The floor as a middleware sees it: the token from `Authorization: Bearer`, verified by {@link floorVerify}. */
export function floorVerifyHeader(authorization: string | undefined): Record<string, unknown> {
  if (authorization === undefined || !authorization.startsWith('Bearer ')) throw new Error('missing');
  return floorVerify(authorization.slice(7));
}

/** The asymmetric algorithms of the micro benchmark (RS256 also in the HTTP benchmark). */
export const ASYMMETRIC_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'] as const;
export type AsymmetricAlg = (typeof ASYMMETRIC_ALGORITHMS)[number];

export interface BenchKeyPair {
  readonly alg: AsymmetricAlg;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** The public key as SPKI PEM: what every implementation is configured with (except the floor, which gets the KeyObject). */
  readonly publicPem: string;
}

const keyPairs = new Map<AsymmetricAlg, BenchKeyPair>();

/** This process's key pair for `alg` (RSA 2048, P-256, Ed25519), generated on first use. */
export function benchKeyPair(alg: AsymmetricAlg): BenchKeyPair {
  let pair = keyPairs.get(alg);
  if (pair === undefined) {
    const { privateKey, publicKey } =
      alg === 'RS256' || alg === 'PS256'
        ? generateKeyPairSync('rsa', { modulusLength: 2048 })
        : alg === 'ES256'
          ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
          : generateKeyPairSync('ed25519');
    pair = { alg, privateKey, publicKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string };
    keyPairs.set(alg, pair);
  }
  return pair;
}

/** The HTTP benchmark's RS256 public key (SPKI PEM) reaches bench/server.ts through this variable. */
export const RS256_PUBLIC_KEY_ENV = 'BENCH_RS256_PUBLIC_KEY';

/**
 * The asymmetric floor, the counterpart of {@link floorVerify}: split, decode and parse the header
 * and check `alg`, one node:crypto `verify` with a KeyObject made beforehand (PSS salt = digest
 * length, ECDSA in IEEE P1363 form, as JWS has it), decode and parse the payload, check `exp`.
 */
export function asymmetricFloor(alg: AsymmetricAlg, publicKey: KeyObject): (token: string) => Record<string, unknown> {
  const hash = alg === 'EdDSA' ? null : 'sha256';
  const key: KeyObject | VerifyKeyObjectInput =
    alg === 'PS256'
      ? { key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }
      : alg === 'ES256'
        ? { key: publicKey, dsaEncoding: 'ieee-p1363' }
        : publicKey;
  return (token) => {
    const dot1 = token.indexOf('.');
    const dot2 = token.indexOf('.', dot1 + 1);
    if (dot1 <= 0 || dot2 <= dot1 + 1 || token.indexOf('.', dot2 + 1) !== -1) throw new Error('malformed');
    const header = JSON.parse(Buffer.from(token.slice(0, dot1), 'base64url').toString('utf8')) as { alg?: unknown };
    if (header.alg !== alg) throw new Error('algorithm');
    const signature = Buffer.from(token.slice(dot2 + 1), 'base64url');
    if (!cryptoVerify(hash, Buffer.from(token.slice(0, dot2), 'latin1'), key, signature)) throw new Error('signature');
    const payload = JSON.parse(Buffer.from(token.slice(dot1 + 1, dot2), 'base64url').toString('utf8')) as Record<string, unknown>;
    if (typeof payload.exp === 'number' && payload.exp <= Date.now() / 1000) throw new Error('expired');
    return payload;
  };
}

export const FRAMEWORKS = ['express', 'fastify', 'koa', 'hono'] as const;
export type Framework = (typeof FRAMEWORKS)[number];

/**
 * bare: no auth; noop: one empty middleware (what any middleware costs); floor: a middleware that
 * runs only {@link floorVerify} (what any HS256 verification costs); jwtguard; peer; sessions:
 * the jwtguard guard with sessions on Redis ({@link sessionGuardOptions}); jwtguard-rs256 and
 * peer-rs256: jwtguard and the peer verifying RS256 tokens with the public key of
 * {@link RS256_PUBLIC_KEY_ENV} (Express and Fastify only).
 */
export type Variant = 'bare' | 'noop' | 'floor' | 'jwtguard' | 'peer' | 'sessions' | 'jwtguard-rs256' | 'peer-rs256';

/** The frameworks with RS256 rows (the issue's: Express and Fastify, against express-jwt and @fastify/jwt). */
export const RS256_FRAMEWORKS: readonly Framework[] = ['express', 'fastify'];

/** What bench/server.ts can run: the HTTP variants, and sessions on the memoryStore (the refresh benchmark's baseline). */
export type ServerVariant = Variant | 'sessions-memory';
export const SERVER_VARIANTS: readonly ServerVariant[] = ['bare', 'noop', 'floor', 'jwtguard', 'peer', 'sessions', 'jwtguard-rs256', 'peer-rs256', 'sessions-memory'];

export const LOGIN_PATH = '/api/auth/login';
export const REFRESH_PATH = '/api/auth/refresh';
export const LOGOUT_PATH = '/api/auth/logout';

/**
 * The sessions variant's guard: the jwtguard variant's `{ secret, algorithm: 'HS256' }` plus
 * sessions. Access tokens live 1 h and sessions 2 h, more than a full run, so nothing expires
 * during it (and keys left on an outside Redis go away by themselves).
 */
export function sessionGuardOptions(store: TokenStore): JwtGuardOptions {
  return {
    secret: SECRET,
    algorithm: 'HS256',
    authPath: LOGIN_PATH,
    expiresIn: '1h',
    refresh: { path: REFRESH_PATH, expiresIn: '2h' },
    logoutPath: LOGOUT_PATH,
    store,
  };
}

/** What the sessions servers' login route (POST {@link LOGIN_PATH}?sub=...) answers, for the guard to mint. */
export const loginClaims = (sub: string): { sub: string; role: string } => ({ sub, role: 'user' });

/** Which peer middleware each framework is compared with (see bench/server.ts for the exact setup). */
export const PEERS: Readonly<Record<Framework, string>> = {
  express: 'express-jwt',
  fastify: '@fastify/jwt',
  koa: 'koa-jwt',
  hono: 'hono/jwt',
};

const envOff = (name: string): boolean => ['0', 'false', 'no', 'off'].includes(process.env[name]?.trim().toLowerCase() ?? '');

/**
 * All knobs, read once. With the defaults a full run takes about 20 minutes on a 2-core machine
 * (about 13 without the sessions rows and the refresh benchmark, about 2 less without the
 * asymmetric rows).
 */
export const settings = {
  /** One part only: `micro`, `http` (the HTTP table and the refresh benchmark), `refresh`, `memory`; unset: all. */
  only: (() => {
    const only = process.env.BENCH_ONLY?.trim() || undefined;
    if (only !== undefined && only !== 'micro' && only !== 'http' && only !== 'refresh' && only !== 'memory') {
      throw new Error(`BENCH_ONLY must be "micro", "http", "refresh" or "memory"; got ${JSON.stringify(only)}.`);
    }
    return only;
  })(),
  /** Seconds per measured HTTP run. */
  duration: envNumber('BENCH_DURATION', 3, 0.5),
  /** Seconds of unmeasured load before each measured HTTP run (same server, same token mode). */
  warmup: envNumber('BENCH_WARMUP', 1, 0),
  connections: Math.floor(envNumber('BENCH_CONNECTIONS', 50, 1)),
  /** BENCH_SESSIONS=0 turns the sessions rows and the refresh benchmark off. */
  sessions: !envOff('BENCH_SESSIONS'),
  /** BENCH_ASYMMETRIC=0 turns the asymmetric rows off: the RS256/PS256/ES256/EdDSA micro rows and the RS256 HTTP rows. */
  asymmetric: !envOff('BENCH_ASYMMETRIC'),
  /** Distinct valid RS256 tokens for the RS256 HTTP rows (a new token per request, cycling; signing them takes ~0.5 ms each). */
  asymHttpTokens: Math.floor(envNumber('BENCH_ASYM_HTTP_TOKENS', 40_000, 1000)),
  /** Tokens per asymmetric micro round: every implementation verifies the same, never-seen ones in a round. */
  asymPerRound: Math.floor(envNumber('BENCH_ASYM_PER_ROUND', 1500, 100)),
  /** Distinct valid tokens for the HTTP "fresh token per request" mode. */
  httpTokens: Math.floor(envNumber('BENCH_HTTP_TOKENS', 200_000, 1000)),
  /** Extra attempts for an HTTP run during which other processes used the CPU (the least disturbed is kept). */
  retry: Math.floor(envNumber('BENCH_RETRY', 1, 0)),
  /** Measured runs per (framework, middleware, token mode); medians are reported. */
  repeat: Math.floor(envNumber('BENCH_REPEAT', 5, 1)),
  frameworks: envList('BENCH_FRAMEWORKS', FRAMEWORKS) as Framework[],
  /** Measured rounds per micro benchmark; the median is reported. */
  rounds: Math.floor(envNumber('BENCH_ROUNDS', 7, 1)),
  /** Target length of one hot micro round, in milliseconds. */
  roundMs: envNumber('BENCH_ROUND_MS', 150, 10),
  /** Unmeasured warmup per hot micro benchmark, in milliseconds. */
  warmupMs: envNumber('BENCH_WARMUP_MS', 300, 0),
  /** Distinct valid tokens for the micro "cold" mode: each one is verified at most once per implementation. */
  coldTokens: Math.floor(envNumber('BENCH_COLD_TOKENS', 60_000, 5000)),
};

/** Busy (non-idle) CPU time of the whole machine so far, in µs, summed over cores. */
export function machineBusyMicros(): number {
  let busy = 0;
  for (const { times } of os.cpus()) busy += times.user + times.nice + times.sys + times.irq;
  return busy * 1000;
}

/** CPU used by other processes (% of one core) above which a measurement counts as disturbed. */
export const DISTURBED_PCT = 15;

export const now = (): number => Math.floor(Date.now() / 1000);

/** `user-0000042`: fixed width, so every token of a pool has the same length. */
export const subject = (i: number): string => `user-${String(i).padStart(7, '0')}`;

let hmacKey: Promise<webcrypto.CryptoKey> | undefined;

/** One HS256 token made with jose: `{ sub, role, iat, exp }`, valid for `lifetime` seconds. */
export async function signToken(sub: string, lifetime = 3 * 3600): Promise<string> {
  hmacKey ??= crypto.subtle.importKey('raw', SECRET_BYTES, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const iat = now();
  return new SignJWT({ sub, role: 'user' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(iat)
    .setExpirationTime(iat + lifetime)
    .sign(await hmacKey);
}

/** One token of `alg` made with jose and {@link benchKeyPair}'s private key: `{ sub, role, iat, exp }`, like {@link signToken}'s. */
export async function signAsymmetricToken(alg: AsymmetricAlg, sub: string, lifetime = 3 * 3600): Promise<string> {
  const iat = now();
  return new SignJWT({ sub, role: 'user' })
    .setProtectedHeader({ alg, typ: 'JWT' })
    .setIssuedAt(iat)
    .setExpirationTime(iat + lifetime)
    .sign(benchKeyPair(alg).privateKey);
}

/** An expired token of `alg` (exp one hour ago), correctly signed. */
export async function expiredAsymmetricToken(alg: AsymmetricAlg): Promise<string> {
  const iat = now() - 7200;
  return new SignJWT({ sub: 'expired', role: 'user' })
    .setProtectedHeader({ alg, typ: 'JWT' })
    .setIssuedAt(iat)
    .setExpirationTime(iat + 3600)
    .sign(benchKeyPair(alg).privateKey);
}

/**
 * `count` distinct valid tokens (subjects `first` .. `first + count - 1`), signed in parallel
 * batches; HS256 by default, else by `sign` (e.g. `(sub) => signAsymmetricToken('RS256', sub)`).
 */
export async function signTokens(count: number, first = 0, sign: (sub: string) => Promise<string> = signToken): Promise<string[]> {
  const tokens: string[] = new Array<string>(count);
  const batch = 2000;
  for (let start = 0; start < count; start += batch) {
    const end = Math.min(count, start + batch);
    const signed = await Promise.all(Array.from({ length: end - start }, (_, k) => sign(subject(first + start + k))));
    for (let k = 0; k < signed.length; k++) tokens[start + k] = signed[k]!;
  }
  if (new Set(tokens).size !== count) throw new Error('token pool: tokens are not all distinct');
  return tokens;
}

/** An expired token (exp one hour ago), correctly signed. */
export async function expiredToken(): Promise<string> {
  hmacKey ??= crypto.subtle.importKey('raw', SECRET_BYTES, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const iat = now() - 7200;
  return new SignJWT({ sub: 'expired', role: 'user' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(iat)
    .setExpirationTime(iat + 3600)
    .sign(await hmacKey);
}

/** The token with its payload's `sub` changed and the original signature kept: must be rejected. */
export function tamper(token: string): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload))) as Record<string, unknown>;
  return `${header}.${base64url.encode(JSON.stringify({ ...claims, sub: 'admin' }))}.${signature}`;
}

export function decodePayload(token: string): Record<string, unknown> {
  const payload = token.split('.')[1] ?? '';
  return JSON.parse(new TextDecoder().decode(base64url.decode(payload))) as Record<string, unknown>;
}

export function decodeSub(token: string): string {
  return decodePayload(token).sub as string;
}

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** 1234567.8 → "1,234,568"; fixed decimals below 100. */
export function fmt(value: number, decimals = 0): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

export interface Table {
  readonly headers: readonly string[];
  /** Right-align these columns (numbers). */
  readonly numeric: readonly boolean[];
  readonly rows: readonly (readonly string[])[];
}

export function renderText(table: Table): string {
  const widths = table.headers.map((h, c) => Math.max(h.length, ...table.rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, c) => (table.numeric[c] ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd();
  return [line(table.headers), widths.map((w) => '-'.repeat(w)).join('  '), ...table.rows.map(line)].join('\n');
}

export function renderMarkdown(table: Table): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(table.headers), line(table.numeric.map((n) => (n ? '---:' : '---'))), ...table.rows.map(line)].join('\n');
}

export const log = (message: string): void => void process.stderr.write(`${message}\n`);
