/**
 * HTTP benchmark: GET /api/me on Express 5, Fastify 5, Koa 3 and Hono 4 (@hono/node-server), each
 * bare, behind jwtguard, and behind the framework's usual JWT middleware (express-jwt,
 * @fastify/jwt, koa-jwt, hono/jwt), all HS256 with the same 64-byte secret; and behind jwtguard
 * with sessions on Redis (`sessions`: the same guard plus authPath, refresh, logoutPath and
 * `store: redisStore({ client })`, see bench/redis.ts for the Redis), unless BENCH_SESSIONS=0.
 *
 * Every server runs in its own child process (bench/server.ts), so the load generator (autocannon,
 * in this process) and the server never share an event loop. Two token modes per server:
 *
 * - same:  the same valid token on every request;
 * - fresh: a different valid token on every request, cycling through a pool signed with jose
 *          beforehand (BENCH_HTTP_TOKENS, default 200k). One cursor per server process, across
 *          warmup and measured run, so a token repeats only when the pool wraps (reported).
 *
 * The bare server is loaded in both modes too, so each ratio compares runs with the same client
 * work. The sessions variant is loaded with access tokens of real sessions (they carry `sid` and
 * `jti`): in `same` mode a token from a login through that very server (POST /api/auth/login); in
 * `fresh` mode a pool of BENCH_HTTP_TOKENS sessions opened beforehand, one login each, by a guard
 * with the same options on the same Redis in this process. Its ratio to the plain jwtguard guard is
 * paired per round like the ratios to bare (the issue's target: >= 0.90 on a repeated token).
 *
 * RS256 rows (Express and Fastify, unless BENCH_ASYMMETRIC=0): jwtguard (`{ publicKey, algorithm:
 * 'RS256' }`, default options otherwise) and the peer (express-jwt `{ secret: publicKeyPem,
 * algorithms: ['RS256'] }`, @fastify/jwt `{ secret: { public: publicKeyPem }, verify: { algorithms:
 * ['RS256'] } }`) with the same public key (RSA 2048, generated per run and passed to the servers
 * in BENCH_RS256_PUBLIC_KEY), fresh mode only: a new RS256 token per request from a pool of
 * BENCH_ASYM_HTTP_TOKENS (default 40k, larger than any cache in play) signed with jose. They run in
 * the same rounds as the other variants, so their share of bare throughput (÷ the bare fresh run of
 * the same round) and jwtguard's share ÷ the peer's (= their req/s ratio in that round; target
 * >= 1.25) are paired per round too. BENCH_ASYMMETRIC=0 turns them off.
 *
 * Before each run a sanity check must pass (guarded: 200 with the token's own payload for a
 * valid token, 401 without a token, with a tampered one and with an expired one; RS256 rows also
 * refuse an HS256 token signed with the bench secret (jwtguard with 401; @fastify/jwt answers it
 * with 500), and the jwtguard RS256 server confirms over IPC that its node:crypto fast path has
 * learned the key and verifies a token itself; sessions also:
 * a pool token answers 200, and a token of another session logged in and out through the server
 * (POST /api/auth/logout: 204) is refused with 401 token_revoked; bare: 200), and
 * every run counts non-2xx responses, errors and timeouts (all must be 0). Each run also records
 * CPU time: the server's (per request, the client-independent cost), the load generator's, and the
 * rest of the machine's; a run during which other processes used more than DISTURBED_PCT% of a core
 * is retried (BENCH_RETRY times, default 1) and the least disturbed attempt is kept.
 *
 *   node --import tsx bench/http.ts
 */
import autocannon, { type RawRequest, type Result } from 'autocannon';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import {
  CONSTANT_BODY,
  DISTURBED_PCT,
  FRAMEWORKS,
  LOGIN_PATH,
  LOGOUT_PATH,
  PEERS,
  RS256_FRAMEWORKS,
  RS256_PUBLIC_KEY_ENV,
  benchKeyPair,
  decodePayload,
  decodeSub,
  expiredAsymmetricToken,
  expiredToken,
  fmt,
  log,
  loginClaims,
  machineBusyMicros,
  median,
  renderMarkdown,
  renderText,
  sessionGuardOptions,
  settings,
  signAsymmetricToken,
  signToken,
  signTokens,
  subject,
  tamper,
  type Framework,
  type ServerVariant,
  type Table,
  type Variant,
} from './common.js';
import { openRedis, type BenchRedis } from './redis.js';
import { loadCore, loadRedis } from './target.js';

const SERVER = fileURLToPath(new URL('./server.ts', import.meta.url));
/** Every variant, in table order; a run has `sessions` only when it has a Redis and BENCH_SESSIONS is not 0. */
const ALL_VARIANTS: readonly Variant[] = ['bare', 'noop', 'floor', 'jwtguard', 'peer', 'sessions', 'jwtguard-rs256', 'peer-rs256'];

const VARIANT_LABEL: Readonly<Record<Exclude<Variant, 'peer' | 'peer-rs256'>, string>> = {
  bare: 'bare',
  noop: 'empty middleware',
  floor: 'HMAC floor',
  jwtguard: 'jwtguard',
  sessions: 'jwtguard + sessions (Redis)',
  'jwtguard-rs256': 'jwtguard, RS256',
};
const labelOf = (framework: Framework, variant: Variant): string =>
  variant === 'peer' ? PEERS[framework] : variant === 'peer-rs256' ? `${PEERS[framework]}, RS256` : VARIANT_LABEL[variant];
const MODES = ['same', 'fresh'] as const;
type Mode = (typeof MODES)[number];

const isRs256 = (variant: Variant): boolean => variant === 'jwtguard-rs256' || variant === 'peer-rs256';
/** The RS256 rows measure a new token per request only. */
const runsIn = (variant: Variant, mode: Mode): boolean => mode === 'fresh' || !isRs256(variant);

/** The issue's target for the RS256 rows: jwtguard's share of bare throughput at least this many times the peer's. */
export const ASYMMETRIC_TARGET = 1.25;

export const FRAMEWORK_LABEL: Readonly<Record<Framework, string>> = {
  express: 'Express 5',
  fastify: 'Fastify 5',
  koa: 'Koa 3',
  hono: 'Hono 4',
};

interface Usage {
  readonly cpu: NodeJS.CpuUsage;
  readonly rss: number;
}

export interface RunningServer {
  readonly port: number;
  usage(): Promise<Usage>;
  /** jwtguard-rs256 servers: true when the guard's node:crypto fast path verifies `token` itself (false elsewhere). */
  fastPath(token: string): Promise<boolean>;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) child.kill();
});

/**
 * Starts bench/server.ts; `redis` is required for the `sessions` variant (its URL and key prefix),
 * `rs256PublicKey` (SPKI PEM) for the RS256 variants.
 */
export function startServer(framework: Framework, variant: ServerVariant, redis?: BenchRedis, rs256PublicKey?: string): Promise<RunningServer> {
  if (variant === 'sessions' && redis === undefined) return Promise.reject(new Error(`${framework}/${variant}: needs a Redis`));
  if ((variant === 'jwtguard-rs256' || variant === 'peer-rs256') && rs256PublicKey === undefined) return Promise.reject(new Error(`${framework}/${variant}: needs the RS256 public key`));
  const child = fork(SERVER, [framework, variant], {
    execArgv: ['--import', 'tsx'],
    env: {
      ...process.env,
      NODE_ENV: 'production',
      ...(redis ? { BENCH_REDIS_URL: redis.url, BENCH_REDIS_PREFIX: redis.prefix } : {}),
      ...(rs256PublicKey !== undefined ? { [RS256_PUBLIC_KEY_ENV]: rs256PublicKey } : {}),
    },
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  children.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => children.delete(child));

  const server: Omit<RunningServer, 'port'> = {
    usage: () =>
      new Promise<Usage>((resolve, reject) => {
        const onMessage = (message: { type?: string } & Usage): void => {
          if (message?.type !== 'usage') return;
          child.off('message', onMessage);
          resolve({ cpu: message.cpu, rss: message.rss });
        };
        child.on('message', onMessage);
        if (!child.send({ type: 'usage' })) reject(new Error(`${framework}/${variant}: server IPC channel is closed`));
      }),
    fastPath: (token) =>
      new Promise<boolean>((resolve, reject) => {
        const onMessage = (message: { type?: string; answered?: boolean }): void => {
          if (message?.type !== 'fast-path') return;
          child.off('message', onMessage);
          resolve(message.answered === true);
        };
        child.on('message', onMessage);
        if (!child.send({ type: 'fast-path', token })) reject(new Error(`${framework}/${variant}: server IPC channel is closed`));
      }),
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };

  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${framework}/${variant}: server did not print its port within 30 s`));
    }, 30_000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${framework}/${variant}: server exited before listening (code ${code}, signal ${signal})`));
    });
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      output += chunk;
      const match = /BENCH_PORT=(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        child.stdout!.removeAllListeners('data');
        child.stdout!.resume();
        resolve({ port: Number(match[1]), ...server });
      }
    });
  });
}

interface Tokens {
  /** The token of the "same" mode. */
  readonly hot: string;
  /** Valid, not in the pool: proves the server answers with the token's own payload. */
  readonly other: string;
  readonly expired: string;
  /** The "fresh" mode's pool. */
  readonly pool: readonly string[];
  /** RS256 variants: a valid token of another algorithm (HS256, the bench secret) that must be refused (jwtguard: 401). */
  readonly foreign?: string;
}

async function expectStatus(url: string, token: string | undefined, status: number, label: string, sub?: string, error?: string): Promise<void> {
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  if (response.status !== status) throw new Error(`sanity check failed: ${label}: expected ${status}, got ${response.status} ${text.slice(0, 200)}`);
  if (error !== undefined) {
    let code: unknown;
    try {
      code = (JSON.parse(text) as { error?: unknown }).error;
    } catch {
      code = undefined;
    }
    if (code !== error) throw new Error(`sanity check failed: ${label}: expected the error "${error}", got ${text.slice(0, 200)}`);
  }
  if (sub !== undefined) {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new Error(`sanity check failed: ${label}: the body is not JSON: ${text.slice(0, 200)}`);
    }
    if ((body as { sub?: unknown }).sub !== sub) throw new Error(`sanity check failed: ${label}: expected the payload of "${sub}", got ${text.slice(0, 200)}`);
  }
}

/** A login answer: the session's first pair. */
export interface SessionPair {
  readonly token: string;
  readonly refreshToken: string;
  readonly expiresIn: number;
}

const REFRESH_TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** A token pair as the guard answers it (login or refresh), or a description of what is wrong with it. */
export function checkPair(value: unknown, sub: string, sid?: string): SessionPair | string {
  const pair = value as Partial<SessionPair> | null;
  if (typeof pair !== 'object' || pair === null) return 'not a JSON object';
  const { token, refreshToken, expiresIn } = pair;
  if (typeof token !== 'string' || token.split('.').length !== 3) return 'no "token"';
  if (typeof refreshToken !== 'string' || !REFRESH_TOKEN.test(refreshToken)) return 'no 43-character "refreshToken"';
  if (typeof expiresIn !== 'number' || expiresIn <= 0) return 'no positive "expiresIn"';
  let claims: Record<string, unknown>;
  try {
    claims = decodePayload(token);
  } catch {
    return 'a "token" whose payload is not JSON';
  }
  if (claims.sub !== sub) return `a token of "${String(claims.sub)}", not "${sub}"`;
  if (typeof claims.sid !== 'string' || claims.sid === '') return 'a token without "sid"';
  if (sid !== undefined && claims.sid !== sid) return 'a token of another session';
  return { token, refreshToken, expiresIn };
}

/** POST /api/auth/login?sub=... through the server: the guard answers the first pair of a new session. */
export async function login(port: number, sub: string, name: string): Promise<SessionPair> {
  const response = await fetch(`http://127.0.0.1:${port}${LOGIN_PATH}?sub=${encodeURIComponent(sub)}`, { method: 'POST', signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`sanity check failed: ${name}: login: expected 200, got ${response.status} ${text.slice(0, 200)}`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const pair = checkPair(body, sub);
  if (typeof pair === 'string') throw new Error(`sanity check failed: ${name}: login answered ${pair}: ${text.slice(0, 200)}`);
  return pair;
}

/** A session logged in and out through the server: its token must then be refused with token_revoked. */
async function logoutCheck(port: number, name: string): Promise<void> {
  const url = `http://127.0.0.1:${port}/api/me`;
  const { token } = await login(port, 'user-logout', name);
  await expectStatus(url, token, 200, `${name}: a new session's token`, 'user-logout');
  const response = await fetch(`http://127.0.0.1:${port}${LOGOUT_PATH}`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
  const text = await response.text();
  if (response.status !== 204) throw new Error(`sanity check failed: ${name}: logout: expected 204, got ${response.status} ${text.slice(0, 200)}`);
  await expectStatus(url, token, 401, `${name}: the token of a session logged out`, undefined, 'token_revoked');
}

/** Fails loudly unless the server really authenticates (or, bare, really answers). */
export async function sanityCheck(port: number, name: string, variant: Variant, tokens: Tokens, server?: RunningServer): Promise<void> {
  const url = `http://127.0.0.1:${port}/api/me`;
  if (variant === 'bare' || variant === 'noop') {
    const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
    const body: unknown = await response.json();
    if (response.status !== 200 || !isDeepStrictEqual(body, CONSTANT_BODY)) {
      throw new Error(`sanity check failed: ${name}: expected 200 with the constant body, got ${response.status} ${JSON.stringify(body)}`);
    }
    return;
  }
  await expectStatus(url, tokens.hot, 200, `${name}: valid token`, decodeSub(tokens.hot));
  await expectStatus(url, tokens.other, 200, `${name}: another valid token`, decodeSub(tokens.other));
  await expectStatus(url, undefined, 401, `${name}: no token`);
  await expectStatus(url, tamper(tokens.hot), 401, `${name}: tampered token`);
  await expectStatus(url, tokens.expired, 401, `${name}: expired token`);
  if (variant === 'jwtguard-rs256' && server !== undefined && !(await server.fastPath(tokens.other))) {
    // After the valid tokens above (the first of which jose verified), node:crypto must take over.
    throw new Error(`sanity check failed: ${name}: the guard's node:crypto fast path did not take an RS256 token after the first`);
  }
  if (tokens.foreign !== undefined) {
    // Refused, by whatever status: @fastify/jwt answers an HS256 token with 500 FAST_JWT_INVALID_ALGORITHM, not 401.
    const response = await fetch(url, { headers: { authorization: `Bearer ${tokens.foreign}` }, signal: AbortSignal.timeout(10_000) });
    const text = await response.text();
    if (response.status < 400 || (variant === 'jwtguard-rs256' && response.status !== 401)) {
      throw new Error(`sanity check failed: ${name}: a token of another algorithm (HS256): expected ${variant === 'jwtguard-rs256' ? '401' : 'a refusal'}, got ${response.status} ${text.slice(0, 200)}`);
    }
  }
  if (variant === 'sessions') {
    const first = tokens.pool[0]!;
    await expectStatus(url, first, 200, `${name}: a token of the fresh-mode pool`, decodeSub(first));
    await logoutCheck(port, name);
  }
}

interface Cursor {
  next: number;
}

function load(port: number, mode: Mode, seconds: number, tokens: Tokens, cursor: Cursor): PromiseLike<Result> {
  const url = `http://127.0.0.1:${port}/api/me`;
  const common = { url, connections: settings.connections, duration: seconds };
  if (mode === 'same') return autocannon({ ...common, headers: { authorization: `Bearer ${tokens.hot}` } });
  const { pool } = tokens;
  return autocannon({
    ...common,
    requests: [
      {
        setupRequest(request: RawRequest) {
          request.headers.authorization = `Bearer ${pool[cursor.next++ % pool.length]}`;
          return request;
        },
      },
    ],
  });
}

/** One measured run of one server in one token mode. */
interface Sample {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly requests: number;
  /** Non-2xx responses: must be 0. */
  readonly non2xx: number;
  /** Socket errors + timeouts: must be 0. */
  readonly errors: number;
  readonly serverCpuUsPerReq: number;
  /** Server CPU time / wall time: near 100% means the server (not the client) was the bottleneck. */
  readonly serverCpuPct: number;
  readonly clientCpuPct: number;
  /** CPU used by other processes on the machine during the run (wall-time %): high means disturbed. */
  readonly otherCpuPct: number;
  readonly serverRssMb: number;
}

/**
 * One table row: a variant in a token mode over all rounds. The Sample fields are medians over the
 * rounds, except `requests`, `non2xx` and `errors` (sums) and `serverRssMb` (the maximum).
 */
export interface HttpRow extends Sample {
  readonly framework: Framework;
  readonly variant: Variant;
  readonly label: string;
  readonly mode: Mode;
  /**
   * req/s ÷ the bare server's req/s, taken per round (the variants of a round run back to back)
   * and then the median over rounds: a paired ratio, so a slow spell of the machine that spans a
   * round moves both sides of it together. min and max show how far single rounds strayed.
   */
  readonly rpsRatio: { readonly median: number; readonly min: number; readonly max: number };
  /** Server CPU µs/req ÷ bare's, paired per round the same way. */
  readonly cpuRatio: number;
  /** Fresh mode: the pool wrapped on this server, so a token came back after BENCH_HTTP_TOKENS others. */
  readonly reused: boolean;
  /** Sessions rows: req/s ÷ the plain jwtguard guard's, paired per round like {@link rpsRatio}. */
  readonly guardRatio?: { readonly median: number; readonly min: number; readonly max: number };
  /** Sessions rows: server CPU µs/req ÷ the plain jwtguard guard's, paired per round. */
  readonly guardCpuRatio?: number;
  /**
   * The jwtguard RS256 row: its share of bare throughput ÷ the peer RS256 row's, both against the
   * bare fresh run of the same round (so, their req/s ratio in that round); median and range over rounds.
   */
  readonly peerRatio?: { readonly median: number; readonly min: number; readonly max: number };
  /** The jwtguard RS256 row: the peer's server CPU µs/req ÷ jwtguard's, paired per round (above 1: jwtguard spends less). */
  readonly peerCpuRatio?: number;
}

/** The sessions rows' Redis, or why there are none. */
export type SessionsBackend = { readonly redis: BenchRedis; readonly skip?: undefined } | { readonly redis?: undefined; readonly skip: string };

/** The issue's target for the sessions rows: req/s at least this fraction of the plain guard's, on a repeated token. */
export const SESSIONS_TARGET = 0.9;

export interface HttpResult {
  readonly rows: readonly HttpRow[];
  readonly settings: { duration: number; warmup: number; connections: number; httpTokens: number; repeat: number; retry: number; frameworks: readonly Framework[] };
  /** `redis`: what the sessions rows ran on, and how long opening the fresh-mode sessions took; `skipped`: why there are none. */
  readonly sessions: { readonly redis: string; readonly poolSeconds: number; readonly skipped?: undefined } | { readonly redis?: undefined; readonly skipped: string };
  /** The RS256 rows' pool and frameworks, or why there are none. */
  readonly rs256: { readonly tokens: number; readonly frameworks: readonly Framework[]; readonly signSeconds: number; readonly skipped?: undefined } | { readonly skipped: string };
  readonly failures: readonly string[];
  readonly seconds: number;
}

const cpuMicros = (usage: NodeJS.CpuUsage): number => usage.user + usage.system;


/** One measured run: warmup (unmeasured), then `duration` seconds with CPU accounting on both sides. */
async function measure(server: RunningServer, name: string, mode: Mode, tokens: Tokens, cursor: Cursor, failures: string[]): Promise<Sample> {
  const { duration, warmup } = settings;
  if (warmup > 0) {
    const w = await load(server.port, mode, warmup, tokens, cursor);
    if (w.non2xx + w.errors + w.timeouts > 0) failures.push(`${name} (${mode}) warmup: ${w.non2xx} non-2xx, ${w.errors} errors, ${w.timeouts} timeouts`);
  }
  const before = await server.usage();
  const clientBefore = process.cpuUsage();
  const machineBefore = machineBusyMicros();
  const wallStart = performance.now();
  const result = await load(server.port, mode, duration, tokens, cursor);
  const wall = (performance.now() - wallStart) * 1000; // µs
  const machineBusy = machineBusyMicros() - machineBefore;
  const clientCpu = cpuMicros(process.cpuUsage(clientBefore));
  const after = await server.usage();
  const serverCpu = cpuMicros(after.cpu) - cpuMicros(before.cpu);
  const requests = result.requests.total;
  if (result.non2xx + result.errors + result.timeouts > 0) {
    failures.push(`${name} (${mode}): ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`);
  }
  if (requests === 0) failures.push(`${name} (${mode}): no request completed`);
  return {
    rps: requests / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    serverCpuUsPerReq: serverCpu / Math.max(1, requests),
    serverCpuPct: (100 * serverCpu) / wall,
    clientCpuPct: (100 * clientCpu) / wall,
    // Whatever else ran on the machine meanwhile (os.cpus() counts in 10 ms ticks: ±a few %).
    otherCpuPct: Math.max(0, (100 * (machineBusy - serverCpu - clientCpu)) / wall),
    serverRssMb: after.rss / 2 ** 20,
  };
}

/**
 * The fresh-mode pool of the sessions variant: `count` sessions opened on `redis` (one login
 * each, subjects as in the jose pool) by a guard with the servers' options, in this process.
 */
async function sessionTokens(redis: BenchRedis, count: number): Promise<string[]> {
  const [{ createGuard }, { redisStore }] = await Promise.all([loadCore(), loadRedis()]);
  const guard = createGuard(sessionGuardOptions(redisStore({ client: redis.client, prefix: redis.prefix })));
  try {
    const sessions = guard.sessions;
    if (sessions === undefined) throw new Error('the sessions guard has no sessions');
    const tokens: string[] = new Array<string>(count);
    let next = 0;
    // 64 logins in flight: Redis answers them in order, so this keeps it busy without a backlog.
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < count) {
          const i = next++;
          tokens[i] = (await sessions.start(loginClaims(subject(i)))).token;
        }
      }),
    );
    if (new Set(tokens).size !== count) throw new Error('session token pool: tokens are not all distinct');
    const claims = decodePayload(tokens[0]!);
    if (claims.sub !== subject(0) || typeof claims.sid !== 'string') throw new Error('session token pool is not what it should be');
    return tokens;
  } finally {
    await guard.close();
  }
}

/** `backend`: the Redis of the sessions rows (or why there are none); by default one is opened (and closed) here. */
export async function runHttp(backend?: SessionsBackend): Promise<HttpResult> {
  const started = performance.now();
  let own: BenchRedis | undefined;
  if (backend === undefined) {
    const opened = settings.sessions ? await openRedis() : { skip: 'turned off by BENCH_SESSIONS=0' };
    if ('url' in opened) own = opened;
    backend = 'url' in opened ? { redis: opened } : { skip: opened.skip };
  }
  try {
    return await runHttpOn(backend, started);
  } finally {
    await own?.stop();
  }
}

async function runHttpOn(backend: SessionsBackend, started: number): Promise<HttpResult> {
  const { duration, warmup, connections, httpTokens, repeat, retry, frameworks } = settings;
  const { redis } = backend;
  if (backend.skip !== undefined) log(`http: no sessions rows: ${backend.skip}`);
  const VARIANTS = ALL_VARIANTS.filter((v) => v !== 'sessions' || redis !== undefined);
  log(`http: signing ${fmt(httpTokens)} distinct tokens with jose ...`);
  const tokens: Tokens = {
    hot: await signToken('user-hot'),
    other: await signToken('user-other'),
    expired: await expiredToken(),
    pool: await signTokens(httpTokens),
  };
  if (decodeSub(tokens.pool[0]!) !== subject(0)) throw new Error('token pool is not what it should be');
  const rs256Frameworks = settings.asymmetric ? frameworks.filter((f) => RS256_FRAMEWORKS.includes(f)) : [];
  let rs256Tokens: Tokens | undefined;
  let rs256SignSeconds = 0;
  const rs256PublicKey = rs256Frameworks.length > 0 ? benchKeyPair('RS256').publicPem : undefined;
  if (rs256Frameworks.length > 0) {
    log(`http: signing ${fmt(settings.asymHttpTokens)} distinct RS256 tokens with jose ...`);
    const signStarted = performance.now();
    rs256Tokens = {
      hot: await signAsymmetricToken('RS256', 'user-hot'),
      other: await signAsymmetricToken('RS256', 'user-other'),
      expired: await expiredAsymmetricToken('RS256'),
      pool: await signTokens(settings.asymHttpTokens, 0, (sub) => signAsymmetricToken('RS256', sub)),
      foreign: tokens.hot, // HS256, signed with the bench secret
    };
    rs256SignSeconds = (performance.now() - signStarted) / 1000;
    if (decodeSub(rs256Tokens.pool[0]!) !== subject(0) || rs256Tokens.pool.includes(tokens.pool[0]!)) throw new Error('RS256 token pool is not what it should be');
  }
  let sessionPool: string[] = [];
  let poolSeconds = 0;
  if (redis !== undefined) {
    log(`http: opening ${fmt(httpTokens)} sessions on Redis for the sessions variant's fresh mode ...`);
    const poolStarted = performance.now();
    sessionPool = await sessionTokens(redis, httpTokens);
    poolSeconds = (performance.now() - poolStarted) / 1000;
    log(`http: ${fmt(httpTokens / poolSeconds)} logins/s in process`);
  }

  const rows: HttpRow[] = [];
  const failures: string[] = [];
  for (const framework of frameworks) {
    const variants = rs256Frameworks.includes(framework) ? VARIANTS : VARIANTS.filter((v) => !isRs256(v));
    // The servers of a framework run side by side (idle ones cost nothing), so the runs a ratio
    // compares are back to back: every variant for one token mode, then the other.
    const servers = new Map<Variant, RunningServer>();
    try {
      for (const variant of variants) servers.set(variant, await startServer(framework, variant, redis, isRs256(variant) ? rs256PublicKey : undefined));
      const byVariant = new Map<Variant, Tokens>(variants.map((v) => [v, isRs256(v) ? rs256Tokens! : tokens]));
      const sessionsServer = servers.get('sessions');
      if (sessionsServer !== undefined) {
        // The same-mode token of the sessions variant: a login through that very server.
        const name = `${FRAMEWORK_LABEL[framework]} / ${labelOf(framework, 'sessions')}`;
        const hot = await login(sessionsServer.port, 'user-hot', name);
        const other = await login(sessionsServer.port, 'user-other', name);
        byVariant.set('sessions', { hot: hot.token, other: other.token, expired: tokens.expired, pool: sessionPool });
      }
      const cursors = new Map<Variant, Cursor>(variants.map((v) => [v, { next: 0 }]));
      const samples = new Map<string, Sample[]>();
      for (let rep = 0; rep < repeat; rep++) {
        // The order rotates every round, so no variant always runs first (or last) in a round.
        const order = variants.map((_, i) => variants[(i + rep) % variants.length]!);
        for (const mode of MODES) {
          for (const variant of order) {
            if (!runsIn(variant, mode)) continue;
            const name = `${FRAMEWORK_LABEL[framework]} / ${labelOf(framework, variant)}`;
            const server = servers.get(variant)!;
            const own = byVariant.get(variant)!;
            await sanityCheck(server.port, name, variant, own, server);
            log(`http: ${name}, ${mode} token${repeat > 1 ? `, run ${rep + 1}/${repeat}` : ''}: ${warmup} s warmup + ${duration} s ...`);
            let sample = await measure(server, name, mode, own, cursors.get(variant)!, failures);
            for (let attempt = 1; attempt <= retry && sample.otherCpuPct > DISTURBED_PCT; attempt++) {
              log(`http: ${name}, ${mode} token: other processes used ${fmt(sample.otherCpuPct)}% of a core; retrying (${attempt}/${retry}) ...`);
              await sanityCheck(server.port, name, variant, own, server);
              const again = await measure(server, name, mode, own, cursors.get(variant)!, failures);
              if (again.otherCpuPct < sample.otherCpuPct) sample = again;
            }
            const key = `${variant}/${mode}`;
            samples.set(key, [...(samples.get(key) ?? []), sample]);
          }
        }
      }
      for (const mode of MODES) {
        for (const variant of variants) {
          if (!runsIn(variant, mode)) continue;
          const runs = samples.get(`${variant}/${mode}`)!;
          const bareRuns = samples.get(`bare/${mode}`)!;
          const med = (pick: (s: Sample) => number): number => median(runs.map(pick));
          const rpsRatios = runs.map((s, i) => s.rps / bareRuns[i]!.rps);
          const cpuRatios = runs.map((s, i) => s.serverCpuUsPerReq / bareRuns[i]!.serverCpuUsPerReq);
          const sum = (pick: (s: Sample) => number): number => runs.reduce((acc, s) => acc + pick(s), 0);
          // Sessions: paired with the plain jwtguard guard's run of the same round and mode.
          const guardRuns = variant === 'sessions' ? samples.get(`jwtguard/${mode}`)! : undefined;
          const guardRatios = guardRuns && runs.map((s, i) => s.rps / guardRuns[i]!.rps);
          // jwtguard RS256: its share of bare ÷ the peer's share, both against this round's bare run.
          const peerRuns = variant === 'jwtguard-rs256' ? samples.get(`peer-rs256/${mode}`) : undefined;
          const peerRatios = peerRuns && runs.map((s, i) => s.rps / bareRuns[i]!.rps / (peerRuns[i]!.rps / bareRuns[i]!.rps));
          rows.push({
            framework,
            variant,
            label: labelOf(framework, variant),
            mode,
            rps: med((s) => s.rps),
            p50: med((s) => s.p50),
            p99: med((s) => s.p99),
            requests: sum((s) => s.requests),
            non2xx: sum((s) => s.non2xx),
            errors: sum((s) => s.errors),
            serverCpuUsPerReq: med((s) => s.serverCpuUsPerReq),
            serverCpuPct: med((s) => s.serverCpuPct),
            clientCpuPct: med((s) => s.clientCpuPct),
            otherCpuPct: med((s) => s.otherCpuPct),
            serverRssMb: Math.max(...runs.map((s) => s.serverRssMb)),
            rpsRatio: { median: median(rpsRatios), min: Math.min(...rpsRatios), max: Math.max(...rpsRatios) },
            cpuRatio: median(cpuRatios),
            reused: mode === 'fresh' && cursors.get(variant)!.next > byVariant.get(variant)!.pool.length,
            ...(guardRuns && guardRatios
              ? {
                  guardRatio: { median: median(guardRatios), min: Math.min(...guardRatios), max: Math.max(...guardRatios) },
                  guardCpuRatio: median(runs.map((s, i) => s.serverCpuUsPerReq / guardRuns[i]!.serverCpuUsPerReq)),
                }
              : {}),
            ...(peerRuns && peerRatios
              ? {
                  peerRatio: { median: median(peerRatios), min: Math.min(...peerRatios), max: Math.max(...peerRatios) },
                  peerCpuRatio: median(runs.map((s, i) => peerRuns[i]!.serverCpuUsPerReq / s.serverCpuUsPerReq)),
                }
              : {}),
          });
        }
      }
    } finally {
      for (const server of servers.values()) await server.stop();
    }
  }
  return {
    rows,
    settings: { duration, warmup, connections, httpTokens, repeat, retry, frameworks },
    sessions: redis !== undefined ? { redis: redis.description, poolSeconds } : { skipped: backend.skip ?? 'no Redis' },
    rs256:
      rs256Frameworks.length > 0
        ? { tokens: settings.asymHttpTokens, frameworks: rs256Frameworks, signSeconds: rs256SignSeconds }
        : { skipped: settings.asymmetric ? `no ${RS256_FRAMEWORKS.join(' or ')} in BENCH_FRAMEWORKS` : 'turned off by BENCH_ASYMMETRIC=0' },
    failures,
    seconds: (performance.now() - started) / 1000,
  };
}

export function httpTable(result: HttpResult): Table {
  const multi = result.settings.repeat > 1;
  const sessions = result.rows.some((r) => r.guardRatio !== undefined);
  const asymmetric = result.rows.some((r) => r.peerRatio !== undefined);
  const ordered = [...result.rows].sort(
    (a, b) =>
      FRAMEWORKS.indexOf(a.framework) - FRAMEWORKS.indexOf(b.framework) || MODES.indexOf(a.mode) - MODES.indexOf(b.mode) || ALL_VARIANTS.indexOf(a.variant) - ALL_VARIANTS.indexOf(b.variant),
  );
  const ratioRange = (ratio: { readonly median: number; readonly min: number; readonly max: number }): string =>
    `${fmt(ratio.median, 2)}×${multi ? ` (${fmt(ratio.min, 2)}–${fmt(ratio.max, 2)})` : ''}`;
  return {
    headers: [
      'framework',
      'middleware',
      'token',
      'req/s',
      '× bare',
      ...(multi ? ['range'] : []),
      ...(sessions ? ['× jwtguard'] : []),
      ...(asymmetric ? ['share ÷ peer'] : []),
      'p50 ms',
      'p99 ms',
      'server CPU µs/req',
      'CPU/req × bare',
      'server CPU',
      'client CPU',
      'other CPU',
      'non-2xx/errors',
    ],
    numeric: [false, false, false, true, true, ...(multi ? [true] : []), ...(sessions ? [true] : []), ...(asymmetric ? [true] : []), true, true, true, true, true, true, true, true],
    rows: ordered.map((row) => {
      return [
        FRAMEWORK_LABEL[row.framework],
        row.label,
        row.mode === 'same' ? 'same' : row.reused ? 'fresh†' : 'fresh',
        fmt(row.rps),
        `${fmt(row.rpsRatio.median, 2)}×`,
        ...(multi ? [`${fmt(row.rpsRatio.min, 2)}–${fmt(row.rpsRatio.max, 2)}`] : []),
        ...(sessions ? [row.guardRatio ? ratioRange(row.guardRatio) : ''] : []),
        ...(asymmetric ? [row.peerRatio ? ratioRange(row.peerRatio) : ''] : []),
        fmt(row.p50, 0),
        fmt(row.p99, 0),
        fmt(row.serverCpuUsPerReq, 1),
        `${fmt(row.cpuRatio, 2)}×`,
        `${fmt(row.serverCpuPct)}%`,
        `${fmt(row.clientCpuPct)}%`,
        `${fmt(row.otherCpuPct)}%`,
        row.non2xx + row.errors === 0 ? '0' : `**${row.non2xx}/${row.errors}**`,
      ];
    }),
  };
}

export function httpMarkdown(result: HttpResult): string {
  return renderMarkdown(httpTable(result));
}

/** The sessions rows against the plain guard, one line per framework and token mode (empty without sessions rows). */
export function sessionsSummary(result: HttpResult): string[] {
  const multi = result.settings.repeat > 1;
  return result.rows
    .filter((r) => r.guardRatio !== undefined)
    .sort((a, b) => FRAMEWORKS.indexOf(a.framework) - FRAMEWORKS.indexOf(b.framework) || MODES.indexOf(a.mode) - MODES.indexOf(b.mode))
    .map((r) => {
      const ratio = r.guardRatio!;
      const verdict = r.mode === 'same' ? (ratio.median >= SESSIONS_TARGET ? ' (target ≥ 0.90: met)' : ' (target ≥ 0.90: NOT met)') : '';
      return `${FRAMEWORK_LABEL[r.framework]}, ${r.mode} token: req/s ${fmt(ratio.median, 2)}×${multi ? ` (rounds ${fmt(ratio.min, 2)}–${fmt(ratio.max, 2)})` : ''} of jwtguard without sessions${verdict}; server CPU/req ${fmt(r.guardCpuRatio ?? NaN, 2)}×`;
    });
}

/** The RS256 rows: each one's share of bare, and jwtguard's ÷ the peer's against the target (empty without RS256 rows). */
export function asymmetricHttpSummary(result: HttpResult): string[] {
  const multi = result.settings.repeat > 1;
  const range = (r: { readonly min: number; readonly max: number }): string => (multi ? ` (rounds ${fmt(r.min, 2)}–${fmt(r.max, 2)})` : '');
  const pct = (x: number): string => `${fmt(100 * x)}%`;
  return result.rows
    .filter((r) => r.peerRatio !== undefined)
    .sort((a, b) => FRAMEWORKS.indexOf(a.framework) - FRAMEWORKS.indexOf(b.framework))
    .map((r) => {
      const peer = result.rows.find((p) => p.framework === r.framework && p.variant === 'peer-rs256' && p.mode === r.mode)!;
      const ratio = r.peerRatio!;
      const verdict = ratio.median >= ASYMMETRIC_TARGET ? 'met' : 'NOT met';
      return (
        `${FRAMEWORK_LABEL[r.framework]}, RS256, a new token per request: jwtguard ${pct(r.rpsRatio.median)} of bare${range(r.rpsRatio)}, ` +
        `${PEERS[r.framework]} ${pct(peer.rpsRatio.median)}${range(peer.rpsRatio)}; jwtguard's share ÷ ${PEERS[r.framework]}'s ${fmt(ratio.median, 2)}×${range(ratio)}, ` +
        `target ≥ ${fmt(ASYMMETRIC_TARGET, 2)}: ${verdict}; server CPU ${fmt(r.serverCpuUsPerReq, 1)} against ${fmt(peer.serverCpuUsPerReq, 1)} µs/req (${PEERS[r.framework]} ÷ jwtguard ${fmt(r.peerCpuRatio ?? NaN, 2)}×)`
      );
    });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await runHttp();
  console.log(renderText(httpTable(result)));
  for (const line of sessionsSummary(result)) console.log(line);
  for (const line of asymmetricHttpSummary(result)) console.log(line);
  if (result.failures.length > 0) {
    console.error(`\nFAILED: ${result.failures.join('; ')}`);
    process.exitCode = 1;
  }
}
